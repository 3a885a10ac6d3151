"""The one filter for text that people and files bring in: forms, upload names, bank statements.

Kept: letters of every script, tab and line breaks. Made uniform: Unicode NFC (an "ä" typed on a
Mac and on Windows is the same "ä" in search and in letters), line ends, the breaks Word puts in
copied text. Refused: control characters (they break XML, DOCX and mail headers, and hide text)
and the direction overrides that make text read differently than it is stored ("Trojan Source").
`printable` is for rendering rows stored before the filter existed: it drops what is refused.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and line feed (carriage returns are made line feeds first), and
# the bidirectional embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069
_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# vertical tab (Word's Shift+Enter), form feed (page break), next line, line and paragraph separator
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n", "\ufeff": None})


def normalise(text: str) -> str:
    """NFC, one kind of line end, Word's breaks as line breaks, no byte-order marks."""
    if text.isascii() and "\r" not in text and "\x0b" not in text and "\x0c" not in text:
        return text                                  # most input: nothing to do, and fast
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_BREAKS)
    return unicodedata.normalize("NFC", text)


def forbidden(text: str) -> str | None:
    """The first refused character, as U+XXXX, or None."""
    m = _FORBIDDEN.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


def clean(text: str) -> str:
    """Normalised text, or ValueError naming the refused character."""
    text = normalise(text)
    bad = forbidden(text)
    if bad:
        raise ValueError(bad)
    return text


def printable(text: str) -> str:
    """For output of what was stored before: refused characters dropped, never an error."""
    return _FORBIDDEN.sub("", normalise(text))

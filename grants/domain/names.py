"""Names of organisations and people as they appear in official mail and letters: welcome in any
script, never a disguise. Refused: invisible characters (zero-width space and joiner, soft hyphen,
direction marks; text.py refuses the overrides already), a word that mixes Latin, Cyrillic or
Greek letters (a Latin "Caritas" with a Cyrillic "а" looks the same and is another organisation),
and anything a mail program would turn into a link (an address, a domain)."""

from __future__ import annotations

import re
import unicodedata

from grants.domain import text

# scripts whose letters look alike: a word may use only one of them
_CONFUSABLE = ("LATIN", "CYRILLIC", "GREEK")
_LINK = re.compile(r"(?i)(://|\bwww\.|@|\b[a-z0-9-]+\.(?:de|com|org|net|info|eu|biz|io|app|xyz|ru|ua|top|online|"
                   r"site|shop|link|click)\b)")


def N_(words: str) -> str:
    """Marks a message for the catalogue (scripts/i18n.sh); the service raises it, the page translates it."""
    return words


def _script(ch: str) -> str | None:
    try:
        first = unicodedata.name(ch).split()[0]
    except ValueError:
        return None
    return first if first in _CONFUSABLE else None


def problem(name: str) -> str | None:
    """Why this name cannot be used (a German message for the form), or None."""
    name = text.normalise(name)
    if text.forbidden(name):
        return N_("Der Name enthält ein unsichtbares Steuerzeichen. Bitte geben Sie ihn noch einmal ein.")
    if any(unicodedata.category(ch) == "Cf" for ch in name):
        return N_("Der Name enthält ein unsichtbares Zeichen (etwa ein Leerzeichen ohne Breite). Bitte tippen Sie "
                  "ihn neu.")
    for word in re.findall(r"\w+", name):
        scripts = {s for s in map(_script, word) if s}
        if len(scripts) > 1:
            return N_("Im Namen mischen sich Buchstaben verschiedener Schriften in einem Wort (etwa lateinische "
                      "und kyrillische). Bitte schreiben Sie jedes Wort in einer Schrift.")
    if _LINK.search(name):
        return N_("Ein Name darf keine Internet- oder E-Mail-Adresse enthalten.")
    return None

"""What an uploaded file really is, by its first bytes, not by its name."""

from __future__ import annotations

ALLOWED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
MAX_BYTES = 10 * 1024 * 1024


def sniff(head: bytes) -> str | None:
    """The content type of a PDF, JPEG or PNG; None for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def safe_name(filename: str, content_type: str) -> str:
    """A file name fit to show and to send back: no path, no control characters, right ending."""
    import re
    import unicodedata

    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", base).strip(" .") or "datei"
    stem = base.rsplit(".", 1)[0][:100] or "datei"
    return stem + ALLOWED[content_type]

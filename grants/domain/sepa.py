"""The SEPA character set (EPC guidelines): what a bank accepts in names, references and
remittance texts of a credit transfer."""

from __future__ import annotations

import re
import unicodedata

# letters, digits and / ? : ( ) . , ' + - and space
_ALLOWED = re.compile(r"[^A-Za-z0-9/?:().,'+\- ]")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
                         "„": "'", "“": "'", "”": "'", "‚": "'", "‘": "'", "’": "'", "–": "-", "—": "-",
                         "&": "+", "_": "-", "\n": " ", "\t": " "})


def sepa_text(text: str, max_len: int) -> str:
    """Transliterate to the SEPA character set: German umlauts as ae/oe/ue/ss, other accents
    dropped (é -> e), anything else removed; runs of spaces folded; cut to `max_len`."""
    s = (text or "").translate(_GERMAN)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _ALLOWED.sub("", s)
    s = re.sub(r" {2,}", " ", s).strip()
    return s[:max_len].rstrip()


def is_sepa_text(text: str) -> bool:
    return _ALLOWED.search(text) is None


def remittance_for(file_number: str) -> str:
    """'Zuwendung <file number>' (<= 140 characters)."""
    return sepa_text(f"Zuwendung {file_number}", 140)


END_TO_END_MAX = 35
_E2E = re.compile(r"^[A-Za-z0-9/?:().,'+\-]{1,35}$")


def end_to_end_id(file_number: str, payout_id: int) -> str:
    """The payout's own id as EndToEndId: unique, <= 35 characters, SEPA characters only,
    and readable: DQD-2026-0042-P17."""
    value = f"{file_number}-P{payout_id}"
    if not _E2E.match(value):
        value = f"GRANTS-P{payout_id}"
    return value


# What a credit transfer needs of the payee, by the name finance sees. Since November 2026 banks
# refuse unstructured addresses; a structured one needs at least town and country, and German
# payees are found by postcode and town.
PAYEE_DETAILS = (("iban", "IBAN"), ("account_holder", "Kontoinhaber"), ("postcode", "Postleitzahl"),
                 ("city", "Stadt oder Gemeinde"))


def missing_payee_details(payee) -> list[str]:
    """The names of the details a payout to this organisation still lacks (empty: it can be paid)."""
    return [label for attr, label in PAYEE_DETAILS if not (getattr(payee, attr, None) or "").strip()]

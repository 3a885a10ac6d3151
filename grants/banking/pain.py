"""SEPA credit transfers, pain.001.001.09, built with sepaxml (validated against its XSD)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sepaxml import SepaTransfer

from grants.domain.money import to_cents
from grants.domain.sepa import sepa_text

SCHEMA = "pain.001.001.09"
_STREET = re.compile(r"^(?P<street>.*?)[\s,]+(?P<no>\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?)$")


@dataclass(frozen=True)
class Debtor:
    name: str
    iban: str
    bic: str | None


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str
    amount: Decimal
    name: str
    iban: str
    bic: str | None
    remittance: str
    street: str = ""
    postcode: str = ""
    town: str = ""
    country: str = "DE"


def structured_address(t: Transfer) -> dict:
    """Street and house number apart, as the structured address of pain.001.001.09 wants."""
    address = {"country": (t.country or "DE").upper()[:2]}
    street = sepa_text(t.street, 70)
    m = _STREET.match(street)
    if m:
        address["street_name"] = m["street"].strip()
        address["building_number"] = m["no"].replace(" ", "")[:16]
    elif street:
        address["street_name"] = street
    if t.postcode:
        address["postcode"] = sepa_text(t.postcode, 16)
    if t.town:
        address["town"] = sepa_text(t.town, 35)
    return address


def build(debtor: Debtor, transfers: list[Transfer], execution_date: date) -> tuple[bytes, str]:
    """The XML and its message id."""
    config = {"name": sepa_text(debtor.name, 70), "IBAN": debtor.iban, "batch": True, "currency": "EUR"}
    if debtor.bic:
        config["BIC"] = debtor.bic
    sepa = SepaTransfer(config, schema=SCHEMA, clean=True)
    for t in transfers:
        payment = {
            "name": sepa_text(t.name, 70),
            "IBAN": t.iban,
            "amount": to_cents(t.amount),
            "execution_date": execution_date,
            "description": sepa_text(t.remittance, 140),
            "endtoend_id": t.end_to_end_id,
            "address": structured_address(t),
        }
        if t.bic:
            payment["BIC"] = t.bic
        sepa.add_payment(payment)
    xml = sepa.export(validate=True, pretty_print=True)
    return xml, sepa.msg_id

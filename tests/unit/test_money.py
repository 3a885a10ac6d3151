from decimal import Decimal

import pytest

from grants.domain.money import AmountError, fmt_plain, from_cents, parse_amount, to_cents


@pytest.mark.parametrize("text,expected", [
    ("500", "500.00"), ("500,5", "500.50"), ("1250.00", "1250.00"), ("1.250,00", "1250.00"),
    ("5.000", "5000.00"), (" 4999,99 € ", "4999.99"), ("0", "0.00"), ("1,250.00", "1250.00"),
])
def test_amounts_people_write(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1e5", "-500", "500,001", "abc", "", "NaN", "Infinity", "1,2,3", "0x10", "5 00", "1,250", "1.250.00"])
def test_refused_amounts(text):
    with pytest.raises(AmountError):
        parse_amount(text)


def test_float_is_not_money():
    with pytest.raises(AmountError):
        parse_amount(0.1)  # type: ignore[arg-type]


def test_cents_round_trip_is_exact():
    assert to_cents(Decimal("1234.56")) == 123456
    assert from_cents(123456) == Decimal("1234.56")
    with pytest.raises(AmountError):
        to_cents(Decimal("0.001"))


def test_plain_format_has_two_decimals():
    assert fmt_plain(Decimal("1250")) == "1250.00"


def test_a_payee_needs_iban_holder_postcode_and_town():
    from types import SimpleNamespace

    from grants.domain.sepa import missing_payee_details

    full = {"iban": "DE02120300000000202051", "account_holder": "Verein A e.V.", "postcode": "49078", "city": "Osnabrück"}
    assert missing_payee_details(SimpleNamespace(**full)) == []
    assert missing_payee_details(SimpleNamespace(**{**full, "iban": None, "city": "  "})) == ["IBAN", "Stadt oder Gemeinde"]

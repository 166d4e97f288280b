"""Amounts are integer minor units with ISO 4217 exponents; parsing and formatting never use floats."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.money import EXPONENTS, Amount, MoneyError


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "INR", 1250),
        ("12.5", "INR", 1250),
        ("12", "INR", 1200),
        (".5", "EUR", 50),
        ("1250", "JPY", 1250),
        ("1.234", "KWD", 1234),
        ("0.01", "USD", 1),
        ("0", "THB", 0),
    ],
)
def test_parse_uses_the_currency_exponent(text, currency, minor):
    assert Amount.parse(text, currency) == Amount(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "why"),
    [
        ("12.505", "INR", "2 decimal places"),
        ("12.5", "JPY", "no decimal"),
        ("abc", "INR", "not an amount"),
        ("-5", "INR", "not an amount"),
        ("", "INR", "not an amount"),
        ("1e3", "INR", "not an amount"),
        ("1.2.3", "INR", "not an amount"),
    ],
)
def test_parse_refuses_what_is_not_an_amount(text, currency, why):
    with pytest.raises(MoneyError, match=why):
        Amount.parse(text, currency)


def test_an_amount_refuses_floats_negatives_and_unknown_currencies():
    with pytest.raises(MoneyError, match="whole number"):
        Amount(12.5, "INR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="negative"):
        Amount(-1, "INR")
    with pytest.raises(MoneyError, match="unknown currency"):
        Amount(1, "XYZ")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Amount(125000, "INR"), "₹1,250.00"),
        (Amount(5, "BRL"), "R$0.05"),
        (Amount(99900, "THB"), "฿999.00"),
        (Amount(1250, "EUR"), "€12.50"),
        (Amount(1500, "JPY"), "¥1,500"),
        (Amount(12345, "KWD"), "12.345 KWD"),
    ],
)
def test_format_for_people(amount, shown):
    assert amount.format() == shown


def test_decimal_forms_for_payloads():
    assert Amount(1250, "INR").decimal() == "12.50"
    assert Amount(1250, "INR").short_decimal() == "12.5"
    assert Amount(1200, "INR").short_decimal() == "12"
    assert Amount(1250, "JPY").decimal() == "1250"


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(sorted(EXPONENTS)))
def test_decimal_round_trips_exactly(minor, currency):
    amount = Amount(minor, currency)
    assert Amount.parse(amount.decimal(), currency) == amount
    assert Amount.parse(amount.short_decimal(), currency) == amount

"""Amounts are integer minor units with ISO 4217 exponents; parsing and formatting never use floats."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.money import EXPONENTS, Amount, MoneyError, format_money, format_typed, locale_for


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


# --- for people: CLDR's number formats (Babel) -------------------------------------------------------------
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "amount", "shown"),
    [
        ("en-IN", Amount(999999900, "INR"), "₹99,99,999.00"),  # lakh and crore, not ₹9,999,999.00
        ("hi", Amount(1000000000, "INR"), "₹1,00,00,000.00"),
        ("ta", Amount(999999900, "INR"), f"₹{NBSP}99,99,999.00"),  # Tamil's symbol spacing, India's grouping
        ("pt-BR", Amount(123456, "BRL"), f"R${NBSP}1.234,56"),
        ("th", Amount(123456, "THB"), "฿1,234.56"),
        ("en", Amount(123456, "THB"), "฿1,234.56"),  # CLDR's English has no ฿: the narrow symbol
        ("en", Amount(1500, "JPY"), "¥1,500"),
        ("en", Amount(12345, "KWD"), f"KWD{NBSP}12.345"),  # a letter never touches a digit
        ("en", Amount(1250, "EUR"), "€12.50"),
    ],
)
def test_people_read_amounts_in_their_locales_number_format(language, amount, shown):
    assert format_money(amount, locale_for(language, amount.currency)) == shown


def test_the_receipts_form_writes_the_iso_code_with_a_plain_space():
    assert format_money(Amount(999999900, "INR"), "hi_IN", code=True) == "INR 99,99,999.00"
    assert format_money(Amount(123456, "BRL"), "pt_BR", code=True) == "BRL 1.234,56"


def test_without_a_language_amounts_are_written_as_the_currencys_country_writes_them():
    assert format_money(Amount(123456, "BRL")) == f"R${NBSP}1.234,56"
    assert format_money(Amount(999999900, "INR")) == "₹99,99,999.00"


@pytest.mark.parametrize(
    ("text", "locale", "shown"),
    [
        ("", "en_IN", "₹0.00"),
        ("1234567", "en_IN", "₹12,34,567"),
        ("1234.5", "pt_BR", f"R${NBSP}1.234,5"),
        ("12.", "pt_BR", f"R${NBSP}12,"),
        (".5", "hi_IN", "₹0.5"),
    ],
)
def test_a_typed_amount_is_grouped_as_it_is_typed(text, locale, shown):
    currency = "BRL" if locale == "pt_BR" else "INR"
    assert format_typed(text, currency, locale) == shown


def test_the_plain_forms_never_change_with_the_shops_language():
    amount = Amount(123456, "BRL")
    assert (amount.format(), amount.format_code(), amount.decimal()) == ("R$1,234.56", "BRL 1,234.56", "1234.56")


def test_an_unknown_language_is_a_money_error_not_a_traceback():
    with pytest.raises(MoneyError, match="no number format"):
        locale_for("xx-nope", "INR")


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["en_IN", "hi_IN", "pt_BR", "th_TH", "ta_IN"]))
def test_the_people_format_keeps_every_digit_of_the_amount(minor, locale):
    shown = format_money(Amount(minor, "INR"), locale)
    assert int("".join(c for c in shown if c.isdigit())) == minor

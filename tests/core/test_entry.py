"""Typing an amount: digits, 00, point, backspace, clear, a maximum, zero refused."""

import pytest

from terminal.core.entry import AmountEntry
from terminal.core.keys import Key
from terminal.core.money import Amount

KEYS = {".": Key.POINT, "<": Key.BACKSPACE, "X": Key.CLEAR, "D": Key.DOUBLE_ZERO}


def typed(text, currency="INR", maximum=100_000_00):
    entry = AmountEntry(currency, Amount(maximum, currency))
    for char in text:
        entry = entry.press(KEYS.get(char) or Key(char))
    return entry


@pytest.mark.parametrize(
    ("keys", "minor", "shown"),
    [
        ("1250", 125000, "₹1,250"),
        ("12.5", 1250, "₹12.5"),
        ("12.50", 1250, "₹12.50"),
        ("1D", 10000, "₹100"),
        (".5", 50, "₹0.5"),
        ("007", 700, "₹7"),
        ("12.<", 1200, "₹12"),
        ("123X4", 400, "₹4"),
        ("", 0, "₹0.00"),
    ],
)
def test_keys_build_the_amount(keys, minor, shown):
    entry = typed(keys)
    assert entry.amount == Amount(minor, "INR")
    assert entry.display() == shown


def test_a_third_decimal_is_refused_with_a_message():
    entry = typed("1.234")
    assert entry.amount == Amount(123, "INR")
    assert entry.message == "Only 2 decimal places"


def test_a_second_point_changes_nothing():
    assert typed("1.2.3").amount == Amount(123, "INR")


def test_currencies_without_decimals_refuse_the_point():
    entry = typed("150.", currency="JPY", maximum=10**6)
    assert entry.amount == Amount(150, "JPY")
    assert "no decimals" in entry.message


def test_three_decimal_currencies_take_three():
    assert typed("1.234", currency="KWD", maximum=10**9).amount == Amount(1234, "KWD")


def test_the_maximum_refuses_the_digit_that_would_pass_it():
    entry = typed("5001", maximum=500_00)
    assert entry.amount == Amount(500_00, "INR")
    assert entry.message == "Maximum is ₹500.00"


def test_double_zero_stops_at_the_maximum_too():
    assert typed("5D", maximum=100_00).message == "Maximum is ₹100.00"


def test_enter_refuses_zero():
    entry, amount = typed("0.00").submit()
    assert amount is None
    assert entry.message == "Type an amount above zero"


def test_enter_gives_the_amount():
    _, amount = typed("99.9").submit()
    assert amount == Amount(9990, "INR")


def test_a_good_key_clears_the_last_message():
    assert typed("1.234<").message == ""

"""Pole-display streams as tills send them, per command set, and the totals read from them."""

import pytest

from terminal.core.money import Amount
from terminal.core.pole import DEFAULT_PATTERN, PoleDisplay, total_in

#: Recorded streams: what a till writes to its pole display for one basket (item lines, then the total).
EPSON = (
    b"\x1b@\x0c"
    b"MILK 2L         1.20\r\n"
    b"BREAD           2.30\r\n"
    b"\x0c\x1f\x24\x01\x01"
    b"TOTAL:        Rs 3.50\r"
    b"\x0cTHANK YOU\r"
)
CD5220 = b"\x1b@\x0c\x1bQACOFFEE       \x1bX\r\x1bQB            4.20\r\x0c\x1bl\x01\x02TOTAL         4.20\r"
AEDEX = b"!#1TEA          1.00\r!#2SUBTOTAL     1.00\r!#1\r!#2TOTAL        1.00\r"


def totals(stream: bytes, command_set: str, chunk: int = 7) -> list[str]:
    display = PoleDisplay(command_set)
    lines = []
    for i in range(0, len(stream), chunk):  # the serial line delivers it in pieces
        lines += display.feed(stream[i : i + chunk])
    return [str(t) for line in lines if (t := total_in(line, DEFAULT_PATTERN, "INR")) is not None]


@pytest.mark.parametrize(
    ("stream", "command_set", "expected"),
    [(EPSON, "epson", ["₹3.50"]), (CD5220, "cd5220", ["₹4.20"]), (AEDEX, "aedex", ["₹1.00"])],
)
def test_each_command_set_yields_its_total_and_nothing_else(stream, command_set, expected):
    assert totals(stream, command_set) == expected
    assert totals(stream, command_set, chunk=1) == expected  # byte by byte


def test_the_display_keeps_what_the_customer_sees():
    display = PoleDisplay("epson")
    display.feed(b"\x0cHELLO\r\nWORLD")
    assert display.text() == ("HELLO", "WORLD")
    display.feed(b"\x1bQBsecond line\r\x1b\x07\x0b*")  # an unknown escape is skipped, never drawn
    assert display.text() == ("*ELLO", "second line")


def test_garbage_never_grows_or_breaks_it():
    display = PoleDisplay("aedex")
    display.feed(bytes(range(256)) * 20 + b"!#1" + b"x" * 500)
    display.feed(b"\r!#2TOTAL 9.00\r")
    assert display.text()[1] == "TOTAL 9.00"


@pytest.mark.parametrize(
    ("line", "decimal", "expected"),
    [
        ("TOTAL 12.50", ".", Amount(1250, "INR")),
        ("Total: Rs 1,234.50", ".", Amount(123450, "INR")),
        ("TOTAL 1.234,50", ",", Amount(123450, "INR")),
        ("SUBTOTAL 5.00", ".", None),
        ("TOTAL 0.00", ".", None),
        ("TOTAL 1.2.3", ".", None),
    ],
)
def test_totals(line, decimal, expected):
    assert total_in(line, DEFAULT_PATTERN, "INR", decimal) == expected

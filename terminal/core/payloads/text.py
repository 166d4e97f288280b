"""Strict readings shared by every payload format: what an amount and an id may look like.

The guard's rule is that a payload is accepted only when every reader reads it the same way. Python's
``str.isdigit`` accepts ``²``, ``١`` and ``５``; ``int`` reads full-width and Arabic-Indic digits; other readers
skip them or stop there. So wherever money or an account is read, only ASCII is accepted.
"""

from __future__ import annotations

import re

from terminal.core.money import Amount, MoneyError
from terminal.core.payloads.errors import PayloadError

DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
#: Every character some reader ends a line at (Python's str.splitlines, Java's \R, Unicode's line breaks).
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def amount_of(text: str, currency: str, where: str, error: type[PayloadError] = PayloadError) -> Amount:
    """``text`` as an Amount of ``currency``: ASCII digits with an optional ASCII point and decimals, nothing else.

    Zeros past the currency's exponent are tolerated (``1250.00`` for 1250 JPY), other digits are not.
    Raises ``error`` naming ``where``.
    """
    if not DECIMAL.fullmatch(text):
        raise error(f"{where}: {text!r} is not an amount (ASCII digits with an optional point, e.g. 12.50)")
    try:
        exp = Amount(0, currency).exponent
    except MoneyError as exc:
        raise error(f"{where}: {exc}") from None
    whole, _, frac = text.partition(".")
    if len(frac) > exp and set(frac[exp:]) <= {"0"}:
        frac = frac[:exp]
    if len(frac) > exp:
        raise error(f"{where}: {currency} has {exp} decimal places, {text!r} has {len(frac)}")
    return Amount(int(whole) * 10**exp + int(frac.ljust(exp, "0") or "0"), currency)


def is_plain(text: str) -> bool:
    """True when ``text`` is printable ASCII without spaces: an id every reader reads the same way."""
    return text.isascii() and text.isprintable() and " " not in text and text != ""

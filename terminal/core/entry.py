"""Typing an amount on the keypad: digits, 00, decimal point, backspace, clear — with limits."""

from __future__ import annotations

from dataclasses import dataclass, replace

from terminal.core.i18n import Text
from terminal.core.keys import Key
from terminal.core.money import Amount, exponent, with_symbol


@dataclass(frozen=True, slots=True)
class AmountEntry:
    """What has been typed so far (``text`` like ``"12.5"``), for one currency, up to ``maximum``.

    Every method returns a new entry; ``message`` explains the last refused key (or is empty). ``minimum`` is the
    smallest amount Enter accepts (a payment provider's minimum charge), ``minimum_reason`` says whose it is.
    """

    currency: str
    maximum: Amount
    text: str = ""
    message: str = ""
    minimum: Amount | None = None
    minimum_reason: str = ""

    def press(self, key: Key) -> AmountEntry:
        """The entry after ``key`` (digits, 00, point, backspace, clear); other keys change nothing."""
        if key is Key.BACKSPACE:
            return replace(self, text=self.text[:-1], message="")
        if key is Key.CLEAR:
            return replace(self, text="", message="")
        if key is Key.POINT:
            return self._point()
        if key.is_digit:
            entry = self
            for digit in key.value:
                entry = entry._digit(digit)
                if entry.message:
                    return entry
            return entry
        return self

    def _point(self) -> AmountEntry:
        exp = exponent(self.currency)
        if exp == 0:
            return replace(self, message=Text("{currency} amounts have no decimals", currency=self.currency))
        if "." in self.text:
            return replace(self, message="")
        return replace(self, text=(self.text or "0") + ".", message="")

    def _digit(self, digit: str) -> AmountEntry:
        _, dot, frac = self.text.partition(".")
        if dot and len(frac) >= exponent(self.currency):
            return replace(self, message=Text("Only {count} decimal places", count=len(frac)))
        text = self.text + digit if self.text not in ("0", "") else ("0" + digit if dot else digit)
        if not dot and text.startswith("0") and len(text) > 1:
            text = text.lstrip("0") or "0"
        if self._minor(text) > self.maximum.minor:
            return replace(self, message=Text("Maximum is {maximum}", maximum=self.maximum))
        return replace(self, text=text, message="")

    def _minor(self, text: str) -> int:
        if not text or text == ".":
            return 0
        return Amount.parse(text.rstrip(".") or "0", self.currency).minor

    @property
    def amount(self) -> Amount:
        """The amount typed so far (zero when nothing is typed)."""
        return Amount(self._minor(self.text), self.currency)

    def submit(self) -> tuple[AmountEntry, Amount | None]:
        """Enter: the amount to charge, or ``None`` and a message when it is zero."""
        amount = self.amount
        if amount.minor == 0:
            return replace(self, message=Text("Type an amount above zero")), None
        if self.minimum is not None and amount.minor < self.minimum.minor:
            if self.minimum_reason:
                why = Text("Minimum is {minimum}: {reason}", minimum=self.minimum, reason=self.minimum_reason)
            else:
                why = Text("Minimum is {minimum}", minimum=self.minimum)
            return replace(self, message=why), None
        return replace(self, message=""), amount

    def display(self) -> str:
        """The typed amount as shown while typing: symbol, typed digits, padded decimals (``₹12.5``)."""
        if not self.text:
            return Amount(0, self.currency).format()
        whole, dot, frac = self.text.partition(".")
        return with_symbol(f"{int(whole or '0'):,}{dot}{frac}", self.currency)

"""Money as integer minor units with the currency's ISO 4217 exponent. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

#: ISO 4217 minor-unit exponents of the currencies the terminal knows.
EXPONENTS: dict[str, int] = {
    "INR": 2,
    "BRL": 2,
    "THB": 2,
    "SGD": 2,
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "MYR": 2,
    "IDR": 2,
    "PHP": 2,
    "CNY": 2,
    "KHR": 2,
    "AUD": 2,
    "CHF": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
}

#: How each currency is written on the screen and the receipt (prefix symbols).
SYMBOLS: dict[str, str] = {
    "INR": "₹",
    "BRL": "R$",
    "THB": "฿",
    "SGD": "S$",
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "KRW": "₩",
    "VND": "₫",
    "MYR": "RM",
    "IDR": "Rp",
    "PHP": "₱",
    "CNY": "¥",
    "KHR": "៛",
    "AUD": "A$",
    "CHF": "CHF ",
}

#: ISO 4217 numeric codes, used by EMV payloads (tag 53).
NUMERIC: dict[str, str] = {
    "INR": "356",
    "BRL": "986",
    "THB": "764",
    "SGD": "702",
    "EUR": "978",
    "USD": "840",
    "GBP": "826",
    "MYR": "458",
    "IDR": "360",
    "PHP": "608",
    "CNY": "156",
    "KHR": "116",
    "AUD": "036",
    "CHF": "756",
    "JPY": "392",
    "KRW": "410",
    "VND": "704",
    "KWD": "414",
    "BHD": "048",
    "OMR": "512",
    "JOD": "400",
}


class MoneyError(ValueError):
    """An amount or currency that cannot be used; the message says why, for a person."""


def exponent(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (INR 2, JPY 0, KWD 3)."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        known = ", ".join(sorted(EXPONENTS))
        raise MoneyError(f"unknown currency {currency!r}; known: {known}") from None


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of money: ``minor`` units (paise, cents, yen) of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            raise MoneyError(f"an amount is a whole number of minor units, not {self.minor!r}")
        if self.minor < 0:
            raise MoneyError(f"an amount cannot be negative ({self.minor})")
        exponent(self.currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Amount:
        """Parse a decimal string such as ``"12.50"`` or ``"12.5"`` (never via float)."""
        exp = exponent(currency)
        raw = text.strip()
        whole, dot, frac = raw.partition(".")
        if not raw or not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()):
            raise MoneyError(f"{text!r} is not an amount (expected digits, e.g. 12.50)")
        if dot and exp == 0:
            raise MoneyError(f"{currency} has no decimal places: {text!r}")
        if len(frac) > exp:
            raise MoneyError(f"{currency} has {exp} decimal places: {text!r} has {len(frac)}")
        return cls(int(whole or "0") * 10**exp + int(frac.ljust(exp, "0") or "0"), currency)

    @property
    def exponent(self) -> int:
        """The currency's minor-unit exponent."""
        return EXPONENTS[self.currency]

    def decimal(self) -> str:
        """The amount as a plain decimal string with every minor digit: ``"12.50"``, ``"1250"`` (JPY)."""
        exp = self.exponent
        if exp == 0:
            return str(self.minor)
        whole, frac = divmod(self.minor, 10**exp)
        return f"{whole}.{frac:0{exp}d}"

    def short_decimal(self) -> str:
        """The decimal string without trailing zero decimals: ``"12.5"``, ``"12"`` (UPI ``am``-style)."""
        text = self.decimal()
        return text.rstrip("0").rstrip(".") if "." in text else text

    def format(self) -> str:
        """For people: currency symbol, thousands separators, every minor digit (``₹1,250.00``)."""
        exp = self.exponent
        whole, frac = divmod(self.minor, 10**exp)
        text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
        return with_symbol(text, self.currency)

    def format_code(self) -> str:
        """With the ISO code instead of the symbol (``INR 1,250.00``): receipt printers' code pages have no ₹ or ฿."""
        exp = self.exponent
        whole, frac = divmod(self.minor, 10**exp)
        return f"{self.currency} {whole:,}" + (f".{frac:0{exp}d}" if exp else "")

    def __str__(self) -> str:
        return self.format()


def with_symbol(number: str, currency: str) -> str:
    """``number`` written with the currency's symbol in front, or its code behind (``12.500 KWD``)."""
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"

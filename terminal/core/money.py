"""Money as integer minor units with the currency's ISO 4217 exponent. Never a float.

Two ways to write an amount, kept apart on purpose:

- **plain** (:meth:`Amount.format`, :meth:`Amount.format_code`, :meth:`Amount.decimal`): fixed, locale-free
  forms for the till protocol, payloads, logs and the sentences the rules compose. They never change with the
  shop's language, so nothing a machine reads moves when a shop switches to Hindi.
- **for people** (:func:`format_money`, :func:`format_typed`): CLDR's number format for the shop's locale
  (Babel): ``₹99,99,999.00`` in India (lakh and crore grouping), ``R$ 1.234,56`` in Brazil, ``฿1,250.00`` in
  Thailand. The screen, the receipt, the reports and the menu use these.

Babel reads its CLDR tables from its own package data on first use (like an import): no clock, no device, and
the same answer every time, so the core stays pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from terminal.core import money_cldr

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
        """The plain form: symbol, thousands separators, every minor digit (``₹1,250.00``), the same in every
        shop. For logs and the sentences the rules compose; the screen and paper use :func:`format_money`."""
        exp = self.exponent
        whole, frac = divmod(self.minor, 10**exp)
        text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
        return with_symbol(text, self.currency)

    def format_code(self) -> str:
        """The plain form with the ISO code (``INR 1,250.00``), ASCII only: the till protocol and logs."""
        exp = self.exponent
        whole, frac = divmod(self.minor, 10**exp)
        return f"{self.currency} {whole:,}" + (f".{frac:0{exp}d}" if exp else "")

    def __str__(self) -> str:
        return self.format()


def with_symbol(number: str, currency: str) -> str:
    """``number`` written with the currency's symbol in front, or its code behind (``12.500 KWD``)."""
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


#: The territory whose shops write a currency (CLDR locales are language_TERRITORY). EUR has no single one.
TERRITORIES: dict[str, str] = {
    "INR": "IN",
    "BRL": "BR",
    "THB": "TH",
    "SGD": "SG",
    "USD": "US",
    "GBP": "GB",
    "MYR": "MY",
    "IDR": "ID",
    "PHP": "PH",
    "CNY": "CN",
    "KHR": "KH",
    "AUD": "AU",
    "CHF": "CH",
    "JPY": "JP",
    "KRW": "KR",
    "VND": "VN",
    "KWD": "KW",
    "BHD": "BH",
    "OMR": "OM",
    "JOD": "JO",
}
#: The language a shop most likely reads, by its currency (the voice's default too): the rest read English.
HOME_LANGUAGES: dict[str, str] = {"INR": "en-IN", "BRL": "pt-BR", "THB": "th"}

_NBSP = "\u00a0"


def home_language(currency: str) -> str:
    """The language a shop taking ``currency`` most likely reads (``en-IN`` for INR, ``pt-BR`` for BRL)."""
    return HOME_LANGUAGES.get(currency, "en")


@lru_cache(maxsize=64)
def locale_for(language: str | None, currency: str) -> str:
    """The CLDR locale amounts of ``currency`` are written in for a shop reading ``language``
    (``hi`` + INR → ``hi_IN``; ``en`` + THB → ``en``, CLDR having no ``en_TH``). ``None``: the currency's home."""
    tag = (language or home_language(currency)).replace("-", "_")
    known = money_cldr.LOCALES.get((tag, currency))
    return known if known is not None else locale_from_cldr(tag, currency, language)


def locale_from_cldr(tag: str, currency: str, language: str | None = None) -> str:
    """:func:`locale_for` as Babel answers it (what :mod:`money_cldr` is made of): ``tag``'s locale in the
    currency's territory when CLDR has one, else ``tag`` itself if CLDR knows it."""
    from babel import Locale, UnknownLocaleError, localedata

    territory = TERRITORIES.get(currency)
    if "_" not in tag and territory and localedata.exists(f"{tag}_{territory}"):
        return f"{tag}_{territory}"
    try:
        Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        raise MoneyError(f"no number format for the language {language or tag!r}") from None
    return tag


def format_money(amount: Amount, locale: str | None = None, *, code: bool = False) -> str:
    """``amount`` as a person in ``locale`` writes it (CLDR via Babel): ``₹99,99,999.00`` (en_IN),
    ``R$ 1.234,56`` (pt_BR). ``code``: the ISO code for the symbol (``INR 8.00``), for printers whose code
    pages have no ₹ or ฿. ``locale`` None: the currency's home locale."""
    loc = locale or locale_for(None, amount.currency)
    exp = amount.exponent
    whole, frac = divmod(amount.minor, 10**exp)
    number = _grouped(whole, loc) + (_number_format(loc).decimal + f"{frac:0{exp}d}" if exp else "")
    return _with_currency(number, amount.currency, loc, code=code)


def format_typed(text: str, currency: str, locale: str | None = None) -> str:
    """A partly typed amount (``"1234.5"``, ``"12."``) as the person sees it while typing: grouped, the
    locale's decimal sign, only the decimals typed so far (``₹1,234.5``; ``R$ 1.234,5``)."""
    loc = locale or locale_for(None, currency)
    if not text:
        return format_money(Amount(0, currency), loc)
    whole, dot, frac = text.partition(".")
    number = _grouped(int(whole or "0"), loc)
    if dot:
        number += _number_format(loc).decimal + frac
    return _with_currency(number, currency, loc, code=False)


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """What writing an amount in a locale takes from CLDR: the decimal and group signs, the size of the last
    group and of the groups before it (3 and 2 in India: ``99,99,999``), and the currency pattern's text before
    and after the number (``¤`` stands for the symbol)."""

    decimal: str
    group: str
    primary: int
    secondary: int
    currency_prefix: str
    currency_suffix: str


@lru_cache(maxsize=64)
def _number_format(locale: str) -> NumberFormat:
    """The locale's :class:`NumberFormat`: from :mod:`money_cldr` (Babel's answers, kept as a small table so
    that the terminal does not hold Babel's CLDR data, ~4 MB, for the few signs it uses), else from Babel."""
    known = money_cldr.NUMBERS.get(locale)
    return NumberFormat(*known) if known is not None else number_format_from_cldr(locale)


def number_format_from_cldr(locale: str) -> NumberFormat:
    """The locale's :class:`NumberFormat` as Babel reads it from CLDR (what :mod:`money_cldr` is made of):
    the grouping of its decimal pattern (``#,##,##0`` in India), its Latin-digit signs, its currency pattern."""
    from babel import Locale
    from babel.numbers import parse_grouping

    loc = Locale.parse(locale)
    grouping = str(loc.decimal_formats[None].pattern).split(";")[0].split(".")[0]
    signs = loc.number_symbols["latn"]
    pattern = loc.currency_formats["standard"]
    return NumberFormat(
        signs["decimal"], signs["group"], *parse_grouping(grouping), pattern.prefix[0], pattern.suffix[0]
    )


def currency_symbol_from_cldr(currency: str, locale: str) -> str:
    """The symbol ``locale`` writes ``currency`` with, as Babel reads it from CLDR (the code when it has none)."""
    from babel import Locale
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(currency, Locale.parse(locale))


def _grouped(whole: int, locale: str) -> str:
    """``whole`` with the locale's group signs (as Babel's number patterns group: the last group, then the
    others)."""
    fmt = _number_format(locale)
    digits, size, out = str(whole), fmt.primary, ""
    while len(digits) > size:
        digits, out, size = digits[:-size], fmt.group + digits[-size:] + out, fmt.secondary
    if "'" in fmt.group:  # Babel reads quotes in its output as a pattern's quoting (en_CH: 9'999'999 → 9999999)
        return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", digits + out)
    return digits + out


@lru_cache(maxsize=64)
def _affixes(currency: str, locale: str, code: bool) -> tuple[str, str]:
    """What goes before and after the number: the locale's currency pattern with the symbol (or code) in it."""
    fmt = _number_format(locale)
    if code:
        symbol = currency
    else:
        known = money_cldr.SYMBOLS.get((currency, locale))
        symbol = known if known is not None else currency_symbol_from_cldr(currency, locale)
        if symbol == currency:
            symbol = SYMBOLS.get(currency, currency).strip()  # the narrow symbol where the locale has none (฿ in en)
    prefix, suffix = fmt.currency_prefix, fmt.currency_suffix
    # CLDR's currency spacing: a symbol ending (or starting) with a letter never touches a digit.
    if prefix.endswith("¤") and symbol[-1].isalpha():
        prefix += _NBSP
    if suffix.startswith("¤") and symbol[0].isalpha():
        suffix = _NBSP + suffix
    return prefix.replace("¤", symbol), suffix.replace("¤", symbol)


def _with_currency(number: str, currency: str, locale: str, *, code: bool) -> str:
    prefix, suffix = _affixes(currency, locale, code)
    text = prefix + number + suffix
    return text.replace(_NBSP, " ") if code else text  # paper: a plain space every code page has

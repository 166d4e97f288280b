"""The screen's money formats come from a small table of Babel's CLDR answers (``terminal/core/money_cldr.py``)
instead of Babel's ~4 MB of locale data held for the life of the terminal. The table is Babel's, every amount is
written byte for byte as Babel writes it, and a Babel upgrade that changes an answer fails here.

Regenerate the table after a Babel upgrade: ``.venv/bin/python tests/test_money_cldr.py``.
"""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from babel import Locale
from babel.numbers import format_currency, format_decimal, get_currency_symbol

from terminal.core import money, money_cldr
from terminal.core.money import EXPONENTS, SYMBOLS, Amount, format_money, format_typed, locale_for
from terminal.i18n import LANGUAGES

NBSP = "\u00a0"
#: Every language the screen speaks (None: the currency's home), and two that only a caller's locale reaches.
TABLE_LANGUAGES = (None, *LANGUAGES)
AMOUNTS = (0, 1, 5, 99, 100, 1000, 12345, 100000, 999999900, 1000000000, 123456789012, 10**15 + 7, 10**20)


def table_pairs() -> list[tuple[str, str]]:
    """(currency, locale) for every language the screen speaks and every currency the terminal knows."""
    return sorted(
        {(currency, locale_for(language, currency)) for language in TABLE_LANGUAGES for currency in EXPONENTS}
    )


def babel_number(value: Decimal, digits: int, locale: str) -> str:
    """A number in the locale's grouping with exactly ``digits`` decimals, by Babel's formatter (the reference)."""
    grouping = str(Locale.parse(locale).decimal_formats[None].pattern).split(";")[0].split(".")[0]
    pattern = grouping + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale, decimal_quantization=False)


def babel_affixes(currency: str, locale: str, code: bool) -> tuple[str, str]:
    """Before and after the number, from Babel's CLDR data (the reference)."""
    loc = Locale.parse(locale)
    symbol = currency if code else get_currency_symbol(currency, loc)
    if symbol == currency and not code:
        symbol = SYMBOLS.get(currency, currency).strip()
    currency_pattern = loc.currency_formats["standard"]
    prefix, suffix = currency_pattern.prefix[0], currency_pattern.suffix[0]
    if prefix.endswith("¤") and symbol[-1].isalpha():
        prefix += NBSP
    if suffix.startswith("¤") and symbol[0].isalpha():
        suffix = NBSP + suffix
    return prefix.replace("¤", symbol), suffix.replace("¤", symbol)


def babel_money(amount: Amount, locale: str, code: bool = False) -> str:
    """How the terminal wrote amounts before the table, straight through Babel (the reference)."""
    number = babel_number(Decimal(amount.minor).scaleb(-amount.exponent), amount.exponent, locale)
    prefix, suffix = babel_affixes(amount.currency, locale, code)
    text = prefix + number + suffix
    return text.replace(NBSP, " ") if code else text


def test_the_table_is_babels_answer_for_every_language_and_currency():
    locales, numbers, symbols = generate()
    assert (locales, numbers, symbols) == (money_cldr.LOCALES, money_cldr.NUMBERS, money_cldr.SYMBOLS), (
        "Babel's CLDR answers changed: run .venv/bin/python tests/test_money_cldr.py"
    )


@pytest.mark.parametrize(("currency", "locale"), [*table_pairs(), ("EUR", "de"), ("EUR", "fr"), ("JPY", "ja")])
def test_every_amount_is_written_as_babel_writes_it(currency, locale):
    for minor in AMOUNTS:
        amount = Amount(minor, currency)
        for code in (False, True):
            assert format_money(amount, locale, code=code) == babel_money(amount, locale, code), (minor, code)


@pytest.mark.parametrize(("currency", "locale"), table_pairs())
def test_a_typed_amount_is_grouped_as_babel_groups_it(currency, locale):
    decimal = Locale.parse(locale).number_symbols["latn"]["decimal"]
    prefix, suffix = babel_affixes(currency, locale, False)
    for text in ("7", "1234567", "123456789012", "12.", ".5", "1234.5", "0.05"):
        whole, dot, frac = text.partition(".")
        number = babel_number(Decimal(int(whole or "0")), 0, locale) + (decimal + frac if dot else "")
        assert format_typed(text, currency, locale) == prefix + number + suffix, text


@pytest.mark.parametrize(
    ("amount", "locale", "shown"),
    [
        (Amount(999999900, "INR"), "en_IN", "₹99,99,999.00"),
        (Amount(1000000000, "INR"), "hi_IN", "₹1,00,00,000.00"),
        (Amount(123456, "BRL"), "pt_BR", "R$\u00a01.234,56"),
        (Amount(123456, "THB"), "th_TH", "฿1,234.56"),
        (Amount(123456, "SGD"), "en_SG", "$1,234.56"),
        (Amount(123456, "EUR"), "de", "1.234,56\u00a0€"),
        (Amount(123456, "EUR"), "fr", "1\u202f234,56\u00a0€"),
        (Amount(1500, "JPY"), "ja", "￥1,500"),
    ],
)
def test_where_babels_own_currency_format_agrees_it_is_the_same_text(amount, locale, shown):
    value = Decimal(amount.minor).scaleb(-amount.exponent)
    assert format_money(amount, locale) == format_currency(value, amount.currency, locale=locale) == shown


def test_the_screens_languages_write_money_without_importing_babel():
    code = (
        "import sys\n"
        "from terminal.core.money import Amount, EXPONENTS, format_money, format_typed, locale_for\n"
        f"for language in {TABLE_LANGUAGES!r}:\n"
        "    for currency in EXPONENTS:\n"
        "        locale = locale_for(language, currency)\n"
        "        format_money(Amount(123456, currency), locale, code=True)\n"
        "        format_typed('1234.5', currency, locale)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def generate() -> tuple[dict, dict, dict]:
    tags = sorted({(language or "en").replace("-", "_") for language in TABLE_LANGUAGES})
    locales = {(tag, currency): money.locale_from_cldr(tag, currency) for tag in tags for currency in EXPONENTS}
    numbers = {}
    symbols = {}
    for currency, locale in table_pairs():
        fmt = money.number_format_from_cldr(locale)
        numbers[locale] = (fmt.decimal, fmt.group, fmt.primary, fmt.secondary, fmt.currency_prefix, fmt.currency_suffix)
        symbols[(currency, locale)] = money.currency_symbol_from_cldr(currency, locale)
    return locales, dict(sorted(numbers.items())), symbols


def write_table() -> None:
    import babel

    locales, numbers, symbols = generate()
    lines = [
        f'"""Babel {babel.__version__}\'s CLDR answers for writing money in every language the screen speaks, made by',
        "``tests/test_money_cldr.py`` (which checks them against Babel); see",
        ":func:`terminal.core.money._number_format`.",
        '"""',
        "",
        "#: (language tag, currency) → the locale amounts are written in (see :func:`terminal.core.money.locale_for`).",
        "LOCALES: dict[tuple[str, str], str] = {",
        *(f"    {k!r}: {v!r}," for k, v in locales.items()),
        "}",
        "#: locale → decimal sign, group sign, last group's size, other groups' size, currency pattern's prefix and",
        "#: suffix (¤: the symbol).",
        "NUMBERS: dict[str, tuple[str, str, int, int, str, str]] = {",
        *(f"    {k!r}: {v!r}," for k, v in numbers.items()),
        "}",
        "#: (currency, locale) → the symbol the locale writes the currency with (its code when CLDR has none).",
        "SYMBOLS: dict[tuple[str, str], str] = {",
        *(f"    {k!r}: {v!r}," for k, v in symbols.items()),
        "}",
    ]
    Path(money_cldr.__file__).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_table()

"""The shop's language on the screen and on paper: translated sentences (gettext) and the locale amounts are
written in (CLDR). The shell builds one :class:`Words` from ``[display] language`` (``terminal.i18n``); the
rules only call it, so they stay pure.

Sentences are written in English in the code, with named ``{placeholders}``::

    _ = words
    _("Refund {slip} of {amount} went through", slip=refund.slip_reference, amount=words.money(refund.amount))

``pybabel extract`` finds every ``_("…")`` (and ``N_("…")`` in tables) for the catalogs in ``locale/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from terminal.core.money import Amount, format_money, format_typed, locale_for


def N_(message: str) -> str:
    """Mark ``message`` for translation where a table defines it; it is translated where it is shown."""
    return message


def _unchanged(message: str) -> str:
    return message


@dataclass(frozen=True, slots=True)
class Words:
    """A language for people: ``words("…", name=value)`` translates and fills in; ``money`` writes amounts.

    ``language`` is a tag such as ``hi``, ``pt-BR`` or ``en-IN`` (None: English words, amounts written as in
    the currency's home country). ``gettext`` is the catalog's lookup (the shell loads it).
    """

    language: str | None = None
    gettext: Callable[[str], str] = field(default=_unchanged, compare=False, repr=False)

    def __call__(self, message: str, /, **values: object) -> str:
        """``message`` in this language, its ``{placeholders}`` filled in."""
        if not message:
            return message  # gettext's "" is the catalog's header
        text = self.gettext(message)
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):  # a damaged translation never hides the sentence
            return message.format(**values)

    def locale(self, currency: str) -> str:
        """The CLDR locale amounts of ``currency`` are written in (``hi_IN``, ``pt_BR``)."""
        return locale_for(self.language, currency)

    def money(self, amount: Amount, *, code: bool = False) -> str:
        """``amount`` as this shop writes it (``₹99,99,999.00``, ``R$ 1.234,56``); ``code``: ``INR 8.00``."""
        return format_money(amount, self.locale(amount.currency), code=code)

    def typed(self, text: str, currency: str) -> str:
        """A partly typed amount as it is being typed (``₹1,234.5``)."""
        return format_typed(text, currency, self.locale(currency))


#: English words; amounts as the currency's home country writes them.
PLAIN = Words()

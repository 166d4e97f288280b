"""The shop's language on the screen and on paper: translated sentences (gettext) and the locale amounts are
written in (CLDR). The shell builds one :class:`Words` from ``[display] language`` (``terminal.i18n``); the
rules only call it, so they stay pure.

Sentences are written in English in the code, with named ``{placeholders}``::

    _ = words
    _("Refund {slip} of {amount} went through", slip=refund.slip_reference, amount=words.money(refund.amount))

A sentence the rules compose and keep (a notice in the state, a sale's failure, a refusal) is a :class:`Text`:
it *is* the English sentence (logs, the journal and the till use it as a string, unchanged) and carries its
``msgid`` and values, so the screen shows it in the shop's language with ``words.show(text)``::

    notice = Text("Sale {reference} was paid twice: refund {extra} from the menu", reference=r, extra=amount)

``pybabel extract`` finds every ``_("…")``, ``Text("…")`` (and ``N_("…")`` in tables) for the catalogs in
``locale/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from terminal.core.money import Amount, MoneyError, format_money, format_typed, locale_for


def N_(message: str) -> str:
    """Mark ``message`` for translation where a table defines it; it is translated where it is shown."""
    return message


class Text(str):
    """A sentence for people, kept as data: ``str(text)`` is the English sentence (what logs, the journal and the
    till write), ``msgid`` and ``params`` let :meth:`Words.show` write it in the shop's language. Values stay
    values: an :class:`Amount` is written ``Amount.format()`` in English and in the locale's format on screen;
    a nested :class:`Text` is translated too. Immutable, like the ``str`` it is."""

    msgid: str
    params: tuple[tuple[str, object], ...]

    def __new__(cls, msgid: str, /, **params: object) -> Text:
        english = msgid.format(**{k: _english(v) for k, v in params.items()}) if params else msgid
        text = super().__new__(cls, english)
        object.__setattr__(text, "msgid", msgid)
        object.__setattr__(text, "params", tuple(params.items()))
        return text

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Text is immutable: cannot set {name}")

    def __reduce__(self) -> tuple[object, ...]:  # copy and pickle rebuild it from its parts
        return _rebuild, (self.msgid, self.params)


def _rebuild(msgid: str, params: tuple[tuple[str, object], ...]) -> Text:
    return Text(msgid, **dict(params))


def _english(value: object) -> object:
    return value.format() if isinstance(value, Amount) else value


def text_data(text: Text) -> dict[str, object]:
    """``text`` as JSON-ready data — its msgid and its values, an :class:`Amount` as minor units and currency, a
    nested Text as data of its own — for a store to keep it translatable (:func:`text_from_data` rebuilds it)."""
    return {"msgid": text.msgid, "params": {name: _value_data(value) for name, value in text.params}}


def _value_data(value: object) -> object:
    if isinstance(value, Text):
        return {"text": text_data(value)}
    if isinstance(value, Amount):
        return {"amount": [value.minor, value.currency]}
    return value if isinstance(value, int | str) else str(value)  # anything else by its English words


def text_from_data(data: object) -> Text | None:
    """The :class:`Text` that :func:`text_data` wrote; None for anything else (a damaged or foreign value: the
    caller then shows the English words it kept beside it)."""
    if not isinstance(data, dict) or not isinstance(msgid := data.get("msgid"), str):
        return None
    written = data.get("params", {})
    if not isinstance(written, dict):
        return None
    params: dict[str, object] = {}
    for name, value in written.items():
        if isinstance(value, dict):
            if "text" in value:
                value = text_from_data(value["text"])
            elif isinstance(amount := value.get("amount"), list) and len(amount) == 2:
                try:
                    value = Amount(*amount)
                except (MoneyError, TypeError):
                    value = None
            else:
                value = None
            if value is None:
                return None
        params[name] = value
    try:
        msgid.format(**params)  # every field filled (a Text without values is not formatted: it would show "{x}")
        return Text(msgid, **params)
    except (KeyError, IndexError, ValueError):
        return None


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

    def show(self, message: str) -> str:
        """``message`` as a person reads it here: a :class:`Text` translated, its amounts in the locale's
        format; any other string (a backend's or a device's own words) unchanged."""
        if not isinstance(message, Text):
            return message
        values = {k: self._value(v) for k, v in message.params}
        return self(message.msgid, **values) if values else self(message.msgid)

    def _value(self, value: object) -> object:
        if isinstance(value, Amount):
            return self.money(value)
        return self.show(value) if isinstance(value, Text) else value

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

"""UPI intent URIs (``upi://pay?pa=…&pn=…&am=…&tr=…&cu=INR``), per NPCI's UPI linking specification.

Parsing keeps the raw string: PSP-issued URIs carry signed fields and are shown byte for byte, never rebuilt.
It refuses what UPI apps could read differently: keys are percent-decoded and compared case-insensitively
(``PA=`` is ``pa=`` to some apps), so a key twice in any spelling is refused; the money keys (pa, am, mam,
cu) must be written plainly in lower case; no fragment, no ``;``, nothing outside ASCII.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from terminal.core.money import Amount
from terminal.core.payloads import link
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.text import amount_of, is_plain


class UpiError(PayloadError):
    """A string that is not a usable UPI payment URI."""


#: Keys that decide whom and how much: written plainly, in lower case, or the URI is refused.
MONEY_KEYS = frozenset({"pa", "am", "mam", "cu"})
PREFIX = "upi://pay?"


@dataclass(frozen=True, slots=True)
class UpiUri:
    """A parsed ``upi://pay`` URI: its decoded parameters and the raw text."""

    raw: str
    params: dict[str, str]

    @property
    def payee_address(self) -> str:
        """``pa``: the payee's VPA."""
        return self.params.get("pa", "")

    @property
    def payee_name(self) -> str:
        """``pn``: the payee's name."""
        return self.params.get("pn", "")

    def amount(self) -> Amount | None:
        """``am`` and ``cu`` as an Amount, or None for an open-amount URI."""
        if "am" not in self.params:
            return None
        return amount_of(self.params["am"], self.params.get("cu", "INR"), "am", UpiError)


def parse(text: str) -> UpiUri:
    """Parse a UPI URI; raises UpiError when it is not one, or when some app could read it differently."""
    if not isinstance(text, str) or text[: len(PREFIX)].lower() != PREFIX:
        raise UpiError("not a upi://pay URI")
    if not (text.isascii() and text.isprintable()) or " " in text:
        # a raw space even in pn: readers that end a link at whitespace would drop the parameters after it
        raise UpiError("a UPI URI is ASCII without spaces (anything else must be %-encoded)")
    if "#" in text:
        raise UpiError("a fragment (#…) in a UPI URI: some apps read parameters from it")
    params = link.parameters(text[len(PREFIX) :], plain=MONEY_KEYS, error=UpiError)
    if not params.get("pa"):
        raise UpiError("no payee address (pa)")
    if not is_plain(params["pa"]) or params["pa"].count("@") != 1:
        raise UpiError(f"pa={params['pa']!r} is not a UPI address (one @, printable ASCII)")
    return UpiUri(raw=text, params=params)


#: The order in which the terminal writes its parameters (unchanged since the first release).
TERMINAL_ORDER = ("pa", "pn", "am", "mam", "tr", "cu", "tn", "mc", "tid", "url")
#: The order of NPCI's UPI Linking Specification 1.6 (the parameter table of section 1.2, and the samples of
#: sections 2.1 and 2.2). The specification lets a link carry its parameters in any order, so the terminal keeps
#: its own; this one exists to reproduce NPCI's published sample.
NPCI_ORDER = ("pa", "pn", "mc", "tid", "tr", "tn", "am", "mam", "cu", "url")
#: Characters written as they are: the rest is percent-encoded (a space as %20, never +).
SAFE = "@.-_"
#: ``url`` is a link: its ``:`` and ``/`` (and the ``=`` of its own query) are written as they are, as NPCI's
#: sample writes them; ``&``, ``#``, ``?``, spaces and ``%`` are still encoded.
URL_SAFE = SAFE + ":/="


def build(
    *,
    pa: str,
    pn: str,
    amount: Amount,
    tr: str,
    tn: str = "",
    mc: str = "",
    tid: str = "",
    url: str = "",
    mam: str = "",
    short_amount: bool = False,
    order: tuple[str, ...] = TERMINAL_ORDER,
) -> str:
    """A fixed-amount UPI URI, parameters percent-encoded, in ``order`` (the terminal's own by default).

    ``short_amount`` writes ``am`` without trailing zero decimals (``10``, as NPCI's sample does) instead of
    every minor digit (``10.00``); both read as the same amount. ``mam`` (minimum amount) is written verbatim
    and exists only to reproduce NPCI's sample (``mam=null``): it is never set for a sale, and the guard
    refuses any URI that carries it, since apps may let the payer pay less.
    """
    if amount.currency != "INR":
        raise UpiError(f"UPI pays in INR, not {amount.currency}")
    if set(order) != set(TERMINAL_ORDER) or len(order) != len(TERMINAL_ORDER):
        raise UpiError(f"the order must name each of {', '.join(TERMINAL_ORDER)} once, got {order!r}")
    values = {
        "pa": pa,
        "pn": pn,
        "am": amount.short_decimal() if short_amount else amount.decimal(),
        "mam": mam,
        "tr": tr,
        "cu": "INR",
        "tn": tn,
        "mc": mc,
        "tid": tid,
        "url": url,
    }
    fields = [(key, values[key]) for key in order if values[key]]
    return PREFIX + "&".join(f"{k}={quote(v, safe=URL_SAFE if k == 'url' else SAFE)}" for k, v in fields)

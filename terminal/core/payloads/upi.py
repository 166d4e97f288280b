"""UPI intent URIs (``upi://pay?pa=…&pn=…&am=…&tr=…&cu=INR``), per NPCI's UPI linking specification.

Parsing keeps the raw string: PSP-issued URIs carry signed fields and are shown byte for byte, never rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from terminal.core.money import Amount
from terminal.core.payloads.errors import PayloadError


class UpiError(PayloadError):
    """A string that is not a usable UPI payment URI."""


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
        currency = self.params.get("cu", "INR")
        try:
            return Amount.parse(self.params["am"], currency)
        except ValueError as exc:
            raise UpiError(f"am={self.params['am']!r}: {exc}") from None


def parse(text: str) -> UpiUri:
    """Parse a UPI URI; raises UpiError when it is not one."""
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UpiError(f"not a URI: {exc}") from None
    if parts.scheme.lower() != "upi" or parts.netloc.lower() != "pay":
        raise UpiError("not a upi://pay URI")
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key in params:
            raise UpiError(f"parameter {key!r} appears twice")
        params[key] = value
    if not params.get("pa"):
        raise UpiError("no payee address (pa)")
    return UpiUri(raw=text, params=params)


def build(*, pa: str, pn: str, amount: Amount, tr: str, tn: str = "", mc: str = "") -> str:
    """A fixed-amount UPI URI (no ``mam``), parameters percent-encoded."""
    if amount.currency != "INR":
        raise UpiError(f"UPI pays in INR, not {amount.currency}")
    fields = [("pa", pa), ("pn", pn), ("am", amount.decimal()), ("tr", tr), ("cu", "INR")]
    if tn:
        fields.append(("tn", tn))
    if mc:
        fields.append(("mc", mc))
    return "upi://pay?" + "&".join(f"{k}={quote(v, safe='@.-_')}" for k, v in fields)

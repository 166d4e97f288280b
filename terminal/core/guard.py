"""The payload guard: a QR from a backend is shown only if it pays our payee the sale's amount.

Fake QR stickers and compromised backends are the fraud this terminal exists to beat, so the check is
made on the payload itself (what the customer's app will read), not on the JSON fields around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from terminal.core.money import Amount, MoneyError
from terminal.core.orders import Order
from terminal.core.payloads import upi


@dataclass(frozen=True, slots=True)
class PayeeRules:
    """The merchant's configured payee: its name, its ids (VPA, Pix key, …) and trusted QR URL hosts."""

    name: str
    ids: tuple[str, ...]
    url_hosts: tuple[str, ...] = ()

    def knows_id(self, payee_id: str) -> bool:
        """True when ``payee_id`` is one of ours (case-insensitively: VPAs and hosts are)."""
        return payee_id.casefold() in {i.casefold() for i in self.ids}


def check(order: Order, *, reference: str, amount: Amount, rules: PayeeRules) -> str | None:
    """None when the order's QR may be shown for this sale, else the reason it must not be."""
    if order.amount != amount:
        return f"the order is for {order.amount.format()}, the sale for {amount.format()}"
    if order.reference != reference:
        return f"the order carries reference {order.reference!r}, the sale is {reference!r}"
    if not rules.knows_id(order.payee.id):
        return f"payee {order.payee.id!r} is not this shop's"
    scheme = order.qr.scheme
    if scheme == "upi":
        return _check_upi(order, reference=reference, amount=amount, rules=rules)
    if scheme == "url":
        return _check_url(order, reference=reference, amount=amount, rules=rules)
    return f"QR scheme {scheme!r} is not supported by this terminal"


def _check_upi(order: Order, *, reference: str, amount: Amount, rules: PayeeRules) -> str | None:
    try:
        uri = upi.parse(order.qr.payload)
        paid = uri.amount()
    except upi.UpiError as exc:
        return f"the UPI QR is malformed: {exc}"
    if not rules.knows_id(uri.payee_address):
        return f"the QR pays {uri.payee_address!r}, not this shop"
    if paid is None:
        return "the QR leaves the amount open"
    if paid != amount:
        return f"the QR asks for {paid.format()}, the sale is {amount.format()}"
    if "mam" in uri.params:
        return "the QR lets the customer change the amount (mam)"
    tr = uri.params.get("tr")
    if tr is not None and tr not in (reference, order.id):
        return f"the QR carries reference {tr!r}, the sale is {reference!r}"
    return None


def _check_url(order: Order, *, reference: str, amount: Amount, rules: PayeeRules) -> str | None:
    parts = urlsplit(order.qr.payload)
    host = (parts.hostname or "").casefold()
    if parts.scheme not in ("http", "https") or host not in {h.casefold() for h in rules.url_hosts}:
        return f"the QR opens {host or order.qr.payload[:40]!r}, not a page this shop trusts"
    query = dict(parse_qsl(parts.query))
    try:
        shown = Amount.parse(query.get("am", ""), query.get("cu", ""))
    except MoneyError:
        return "the QR page does not state the amount"
    if shown != amount:
        return f"the QR page asks for {shown.format()}, the sale is {amount.format()}"
    if query.get("tr") != reference:
        return f"the QR page carries reference {query.get('tr')!r}, the sale is {reference!r}"
    return None

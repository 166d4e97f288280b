"""The payload guard: a QR from a backend is shown only if it pays our payee the sale's amount.

Fake QR stickers and compromised backends are the fraud this terminal exists to beat, so the check is made
on the payload itself — what the customer's app will read — not on the JSON fields around it: the payload
is parsed (UPI, EMV with its national profiles, EPC, pay-page links), its checksum verified, *every* account
it can pay must be one of the shop's, and its amount, currency and reference must be the sale's.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import Amount
from terminal.core.orders import Order
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.summary import scheme_of, summarise

#: Accounts named by a host (pay-page links, dynamic PIX locations) are checked against the trusted hosts.
HOST_PROFILES = {"url", "pix-dynamic"}


@dataclass(frozen=True, slots=True)
class PayeeRules:
    """The merchant's configured payee: its name, its ids (VPA, Pix key, PromptPay id, PayNow proxy, IBAN…),
    trusted hosts for link QRs, and whether payloads the terminal cannot read may be shown unchecked."""

    name: str
    ids: tuple[str, ...]
    url_hosts: tuple[str, ...] = ()
    allow_unknown: bool = False

    def knows_id(self, payee_id: str) -> bool:
        """True when ``payee_id`` is one of ours (case and spaces ignored: VPAs, IBANs and UENs vary)."""
        wanted = _norm(payee_id)
        return any(_norm(i) == wanted for i in self.ids)

    def knows_host(self, host: str) -> bool:
        """True when ``host`` is a trusted host for link QRs."""
        return host.casefold() in {h.casefold() for h in self.url_hosts}


def check(order: Order, *, reference: str, amount: Amount, rules: PayeeRules) -> str | None:
    """None when the order's QR may be shown for this sale, else the reason it must not be."""
    if order.amount != amount:
        return f"the order is for {order.amount.format()}, the sale for {amount.format()}"
    if order.reference != reference:
        return f"the order carries reference {order.reference!r}, the sale is {reference!r}"
    if not rules.knows_id(order.payee.id):
        return f"payee {order.payee.id!r} is not this shop's"
    payload = order.qr.payload
    detected = scheme_of(payload)
    if detected is None:
        return None if rules.allow_unknown else "the QR is in a format this terminal cannot check"
    if detected != order.qr.scheme:
        return f"the QR is declared {order.qr.scheme!r} but is {detected!r}"
    try:
        said = summarise(payload)
    except PayloadError as exc:
        return f"the QR cannot be read: {exc}"
    if said.crc_ok is False:
        return "the QR's checksum is wrong: it was corrupted or edited"
    if not said.accounts:
        return "the QR names no payee"
    for account in said.accounts:
        if account.profile in HOST_PROFILES:
            if not any(rules.knows_host(i) or rules.knows_id(i) for i in account.ids):
                return f"the QR opens {account.ids[0] if account.ids else '?'!r}, not a page this shop trusts"
        elif not any(rules.knows_id(i) for i in account.ids):
            return f"the QR pays {account.ids[0] if account.ids else 'an unnamed account'!r}, not this shop"
    if said.amount_editable:
        return "the QR lets the customer change the amount"
    if said.amount is None:
        if said.profile == "pix" and all(a.profile == "pix-dynamic" for a in said.accounts):
            return None  # dynamic PIX: the amount is in the signed charge at the trusted PSP location
        return "the QR leaves the amount open"
    if said.amount.currency != amount.currency:
        return f"the QR asks for {said.amount.currency}, the sale is in {amount.currency}"
    if said.amount != amount:
        return f"the QR asks for {said.amount.format()}, the sale is {amount.format()}"
    if said.reference is not None and not _same_reference(said.reference, reference, order.id):
        return f"the QR carries reference {said.reference!r}, the sale is {reference!r}"
    return None


def _same_reference(found: str, reference: str, order_id: str) -> bool:
    # Some schemes allow only letters and digits (a PIX txid): T1-000001 is written T1000001 there.
    # An EPC remittance text may carry the reference among other words; a provider's own reference may carry
    # its order id without the type prefix (Razorpay's tr=RZP<id>qrv2 for qr_<id>).
    wanted = {_alnum(reference), _alnum(order_id), _alnum(order_id.split("_", 1)[-1])}
    return _alnum(found) in wanted or any(w and w in _alnum(found) for w in wanted if len(w) >= 6)


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).casefold()


def _norm(text: str) -> str:
    return text.replace(" ", "").casefold()

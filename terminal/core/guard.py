"""The payload guard: a QR from a backend is shown only if it pays our payee the sale's amount.

Fake QR stickers and compromised backends are the fraud this terminal exists to beat, so the check is made
on the payload itself — what the customer's app will read — not on the JSON fields around it.

One principle: **accept only what every reader reads the same way.** A customer's app is not our parser:
it may count EMV lengths in bytes, keep the last of two fields, match UPI keys case-insensitively, split
EPC lines at a bare CR, or open a link the way a browser does. So the payload is parsed strictly (the
parsers refuse duplicates, odd spellings, odd line breaks and non-ASCII digits), EMV payloads must be ASCII,
links must be written as a browser writes them, and then *every* id in *every* account the payload names
must be the shop's, and its amount, currency and reference the sale's. docs/payloads.md lists each refusal
with the reader that would disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.i18n import Text
from terminal.core.money import Amount
from terminal.core.orders import Order
from terminal.core.payloads import link
from terminal.core.payloads.emv_profiles import Account, spellings
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.summary import Summary, Surcharge, scheme_of, summarise
from terminal.core.payloads.text import is_plain

#: Characters a scanner may drop before the payload (byte-order mark, zero-width and bidi marks), besides spaces.
INVISIBLE = frozenset("\ufeff\u200b\u200c\u200d\u200e\u200f\u2060\u202a\u202b\u202c\u202d\u202e\x00")


@dataclass(frozen=True, slots=True)
class PayeeRules:
    """The merchant's configured payee: its name, its ids (VPA, Pix key, PromptPay id, PayNow proxy, IBAN,
    VietQR ``BIN/account``…), trusted hosts for link QRs (``host`` or ``host:port``), whether payloads the
    terminal cannot read may be shown unchecked, and the GUIs of any further EMV networks the shop uses
    (a template of a network not known here is refused unless its GUI is listed, and then every one of its
    subfields must be one of ``ids``)."""

    name: str
    ids: tuple[str, ...]
    url_hosts: tuple[str, ...] = ()
    allow_unknown: bool = False
    emv_networks: tuple[str, ...] = ()

    def knows_id(self, payee_id: str) -> bool:
        """True when ``payee_id`` is one of ours: printable ASCII, compared ignoring ASCII case (VPAs, IBANs
        and UENs are written either way) and the spaces of the configured ids (IBANs printed in groups)."""
        if not is_plain(payee_id):
            return False  # "ſhop@okbank" folds to "shop@okbank" in Python, not in the payer's bank
        wanted = payee_id.lower()
        return any(i.replace(" ", "").isascii() and i.replace(" ", "").lower() == wanted for i in self.ids)

    def knows_host(self, netloc: str) -> bool:
        """True when ``netloc`` (``host`` or ``host:port`` as a browser reads a link) is a trusted host."""
        return link.host_trusted(*link.split_netloc(netloc), self.url_hosts)

    def knows_network(self, gui: str) -> bool:
        """True when ``gui`` names an EMV network the shop configured."""
        return gui.strip().lower() in {g.strip().lower() for g in self.emv_networks}


def check(order: Order, *, reference: str, amount: Amount, rules: PayeeRules) -> Text | None:
    """None when the order's QR may be shown for this sale, else the reason it must not be."""
    if order.amount != amount:
        return Text("the order is for {order}, the sale for {sale}", order=order.amount, sale=amount)
    if order.reference != reference:
        return Text(
            "the order carries reference {found}, the sale is {reference}",
            found=repr(order.reference),
            reference=repr(reference),
        )
    if not rules.knows_id(order.payee.id.replace(" ", "")):
        return Text("payee {payee} is not this shop's", payee=repr(order.payee.id))
    payload = order.qr.payload
    detected = scheme_of(payload)
    if detected is None:
        hidden = scheme_of(payload.lstrip("".join(INVISIBLE)).lstrip())
        if hidden is not None:  # scanners trim these: the customer's app would read a payload we did not check
            return Text("the QR is a {scheme} payload behind invisible characters", scheme=hidden)
        return None if rules.allow_unknown else Text("the QR is in a format this terminal cannot check")
    if detected != order.qr.scheme:
        return Text(
            "the QR is declared {declared} but is {found}", declared=repr(order.qr.scheme), found=repr(detected)
        )
    if detected == "emv" and not payload.isascii():
        return Text("the QR has characters outside ASCII: apps counting EMV lengths in bytes would read other fields")
    try:
        said = summarise(payload)
    except PayloadError as exc:
        return Text("the QR cannot be read: {problem}", problem=str(exc))
    if said.crc_ok is False:
        return Text("the QR's checksum is wrong: it was corrupted or edited")
    return _payee(said, rules) or _amount(said, amount) or _reference(said, reference, order.id)


def _payee(said: Summary, rules: PayeeRules) -> Text | None:
    if not said.accounts:
        return Text("the QR names no payee")
    for account in said.accounts:
        refusal = _account(account, rules)
        if refusal:
            return refusal
    return None


def _account(account: Account, rules: PayeeRules) -> Text | None:
    if account.profile == "unreadable":
        return Text(
            "the QR's merchant account {network} is not a template an app reads one way", network=account.network
        )
    if account.profile == "emv" and not rules.knows_network(account.network):
        return Text(
            "the QR names a payment network this terminal does not know ({network})", network=repr(account.network)
        )
    if not account.ids and not account.hosts:
        return Text("the QR's {profile} account names no payee", profile=account.profile)
    for host in account.hosts:
        if not rules.knows_host(host):
            return Text("the QR opens {host}, not a page this shop trusts", host=repr(host))
    for payee_id in account.ids:
        if not any(rules.knows_id(i) for i in spellings(account.profile, payee_id)):
            return Text("the QR pays {payee}, not this shop", payee=repr(payee_id))
    return None


def _amount(said: Summary, amount: Amount) -> Text | None:
    if said.surcharge is not None:
        return _surcharge(said.surcharge)
    if said.amount_editable:
        return Text("the QR lets the customer change the amount")
    if said.amount is None:
        if said.profile == "pix" and all(a.hosts and not a.ids for a in said.accounts):
            return None  # dynamic PIX: the amount is in the signed charge at the trusted PSP location
        return Text("the QR leaves the amount open")
    if said.amount.currency != amount.currency:
        return Text(
            "the QR asks for {found}, the sale is in {currency}", found=said.amount.currency, currency=amount.currency
        )
    if said.amount != amount:
        return Text("the QR asks for {found}, the sale is {amount}", found=said.amount, amount=amount)
    return None


def _surcharge(surcharge: Surcharge) -> Text:
    """Why a QR that adds to its amount (EMV tag 55 and its 56/57) is refused, saying what it adds."""
    if surcharge.kind == "tip":
        return Text("the QR asks the customer for a tip, so the amount paid can change")
    if surcharge.kind == "fixed":
        return Text("the QR adds a convenience fee of {fee} to the amount", fee=surcharge.fee)
    if surcharge.kind == "percent":
        return Text("the QR adds a percentage fee of {percent}% to the amount", percent=surcharge.percent)
    if surcharge.kind == "unknown":
        return Text(
            "the QR carries a tip or fee indicator (55 = {indicator}) that apps read differently",
            indicator=repr(surcharge.indicator),
        )
    return Text("the QR adds a convenience fee (56/57) that some apps charge on top of the amount")


def _reference(said: Summary, reference: str, order_id: str) -> Text | None:
    if said.reference is not None and not _same_reference(said.reference, reference, order_id):
        return Text(
            "the QR carries reference {found}, the sale is {reference}",
            found=repr(said.reference),
            reference=repr(reference),
        )
    return None


def _same_reference(found: str, reference: str, order_id: str) -> bool:
    # Some schemes allow only letters and digits (a PIX txid): T1-000001 is written T1000001 there.
    # An EPC remittance text may carry the reference among other words; a provider's own reference may carry
    # its order id without the type prefix (Razorpay's tr=RZP<id>qrv2 for qr_<id>).
    wanted = {_alnum(reference), _alnum(order_id), _alnum(order_id.split("_", 1)[-1])}
    return _alnum(found) in wanted or any(w and w in _alnum(found) for w in wanted if len(w) >= 6)


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).casefold()

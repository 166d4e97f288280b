"""Offline sales (``offline.mode = "local-qr"``): when the backend cannot be reached the terminal builds the
dynamic payload itself from the configured payee, under caps modelled on card terminals' offline modes
(Square: 24 h; Moneris: $250 a payment, 500 records). Such a sale is never "paid": the shopkeeper marks it
received after checking their own bank app, it is stored ``unconfirmed``, and reconciliation with the backend's
history confirms it later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from terminal.core.i18n import Text
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, QrCode
from terminal.core.payloads import emv_profiles, epc, upi
from terminal.core.payloads.errors import PayloadError
from terminal.core.sale import Sale

#: The contract's scheme name of each payload the terminal can build.
SCHEMES = {"upi": "upi", "pix": "emv", "promptpay": "emv", "paynow": "emv", "epc": "epc"}


@dataclass(frozen=True, slots=True)
class OfflineRules:
    """What the terminal builds offline, for whom, and the caps."""

    scheme: str
    payee_id: str
    payee_name: str
    max_sale: Amount
    max_total: Amount
    max_count: int = 500
    max_age: float = 24 * 3600.0
    city: str = ""


def refusal(rules: OfflineRules, amount: Amount, unconfirmed: tuple[Sale, ...], now: datetime) -> Text | None:
    """Why an offline sale of ``amount`` is not allowed now (None: it is)."""
    if amount.currency != rules.max_sale.currency:
        return Text("offline sales are in {currency}", currency=rules.max_sale.currency)
    if amount.minor > rules.max_sale.minor:
        return Text("offline sales are limited to {maximum}", maximum=rules.max_sale)
    total = sum(u.amount.minor for u in unconfirmed) + amount.minor
    if total > rules.max_total.minor:
        return Text("unconfirmed offline sales would pass {maximum}", maximum=rules.max_total)
    if len(unconfirmed) >= rules.max_count:
        return Text("{count} offline sales are waiting to be confirmed", count=rules.max_count)
    oldest = min((u.started_at for u in unconfirmed), default=None)
    if oldest is not None and (now - oldest).total_seconds() > rules.max_age:
        hours = f"{rules.max_age / 3600:g}"
        return Text("an offline sale is older than {hours} h: connect to confirm it first", hours=hours)
    return None


def local_order(rules: OfflineRules, sale: Sale, *, expires_in: int, now: datetime) -> Order:
    """The order the terminal makes itself: a payload for the configured payee, the sale's amount and reference.
    Raises PayloadError when the payee or amount does not fit the scheme."""
    amount, reference = sale.amount, sale.reference
    compact = "".join(c for c in reference if c.isalnum())
    name = rules.payee_name[:25]
    if rules.scheme == "upi":
        payload = upi.build(pa=rules.payee_id, pn=rules.payee_name, amount=amount, tr=reference)
    elif rules.scheme == "pix":
        payload = emv_profiles.build_pix(
            key=rules.payee_id, name=name, city=rules.city or "BRASIL", amount=amount, txid=compact
        )
    elif rules.scheme == "promptpay":
        payload = emv_profiles.build_promptpay(payee=rules.payee_id, amount=amount, reference=reference)
    elif rules.scheme == "paynow":
        payload = emv_profiles.build_paynow(proxy=rules.payee_id, name=name, amount=amount, reference=reference)
    elif rules.scheme == "epc":
        payload = epc.build(name=rules.payee_name, iban=rules.payee_id, amount=amount, text=reference)
    else:
        raise PayloadError(f"the terminal cannot build {rules.scheme!r} payloads")
    return Order(
        id=f"local:{sale.id}",
        status=OrderStatus.PENDING,
        reference=reference,
        amount=amount,
        qr=QrCode(SCHEMES[rules.scheme], payload),
        payee=Payee(rules.payee_name, rules.payee_id),
        expires_at=now + timedelta(seconds=expires_in),
    )

"""The payment providers behind the hub: the terminal's Razorpay and Stripe adapters (used as a library, with the
keys only in the hub's secrets) and a simulated provider for demos and tests.

Each satisfies the terminal's Backend interface (``terminal/backends/base.py``) plus a ``name``. The simulated
provider is the sandbox's idea on the server: its QR is a link to the hub's own customer page (``/pay/<id>``), and
paying there produces a Razorpay-shaped ``qr_code.credited`` event, signed with the hub's Razorpay webhook secret
and taken through the same verification as a real one (:func:`credited_event`).
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate, Payee, ProviderRefund, QrCode

SIM_PAYEE = Payee("Demo Shop", "demo-shop@sandbox")


class Provider(Protocol):
    """What the hub asks of a payment provider: the part of the terminal's Backend it uses, plus its ``name``
    (stored with each order, and the webhooks' and reconciliation's source)."""

    @property
    def name(self) -> str:
        """``sim``, ``razorpay`` or ``stripe``."""
        ...

    def create_order(self, request: OrderRequest) -> Order:
        """Create the order (Backend.create_order)."""
        ...

    def get_order(self, order_id: str) -> OrderUpdate:
        """The order's status now (Backend.get_order without waiting)."""
        ...

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """Cancel the order (Backend.cancel_order)."""
        ...

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """Refund part of a paid order (Backend.refund)."""
        ...

    def close(self) -> None:
        """Release connections (Backend.close)."""
        ...


class SimulatedProvider:
    """Orders that nobody really pays: a link to ``{public_url}/pay/<id>`` as the QR."""

    name = "sim"
    sandbox = True

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")

    def create_order(self, request: OrderRequest) -> Order:
        """A QR id of Razorpay's shape, a link to the hub's pay page as the payload."""
        qr_id = "qr_sim" + secrets.token_hex(7)
        amount = request.amount
        query = f"am={amount.decimal()}&cu={amount.currency}&tr={request.reference}"
        now = datetime.now(UTC)
        return Order(
            qr_id,
            OrderStatus.PENDING,
            request.reference,
            amount,
            QrCode("url", f"{self.public_url}/pay/{qr_id}?{query}"),
            SIM_PAYEE,
            now + timedelta(seconds=request.expires_in),
            sandbox=True,
        )

    def get_order(self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None) -> OrderUpdate:
        """The hub itself is the simulated provider's memory: nothing to add."""
        return OrderUpdate(order_id, OrderStatus.PENDING)

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """Cancelled at once."""
        return OrderUpdate(order_id, OrderStatus.CANCELLED)

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """Refunded at once."""
        return ProviderRefund("rfnd_sim" + secrets.token_hex(7), "succeeded", amount)

    def close(self) -> None:
        """Nothing to release."""


def credited_event(
    qr_id: str, amount: Amount, *, payer: str = "customer@sandbox", now: float | None = None
) -> tuple[str, bytes]:
    """(event id, body) of a Razorpay ``qr_code.credited`` event for ``qr_id`` (razorpay.com/docs/webhooks/
    payloads/qr-codes/#qr-code-credited): what the simulated provider, the tests and the load script send."""
    at = int(now if now is not None else time.time())
    pay_id = "pay_" + secrets.token_hex(7)
    event = {
        "entity": "event",
        "account_id": "acc_SimulatedHub01",
        "event": "qr_code.credited",
        "contains": ["payment", "qr_code"],
        "payload": {
            "payment": {
                "entity": {
                    "id": pay_id,
                    "entity": "payment",
                    "amount": amount.minor,
                    "currency": amount.currency,
                    "status": "captured",
                    "method": "upi",
                    "captured": True,
                    "vpa": payer,
                    "amount_refunded": 0,
                    "created_at": at,
                    "acquirer_data": {"rrn": f"{secrets.randbelow(10**12):012d}"},
                }
            },
            "qr_code": {
                "entity": {
                    "id": qr_id,
                    "entity": "qr_code",
                    "status": "closed",
                    "close_reason": "paid",
                    "usage": "single_use",
                    "type": "upi_qr",
                    "fixed_amount": True,
                    "payment_amount": amount.minor,
                    "payments_amount_received": amount.minor,
                    "payments_count_received": 1,
                }
            },
        },
        "created_at": at,
    }
    return "evt_" + secrets.token_hex(8), json.dumps(event).encode()


def provider_from(
    kind: str, keys: dict[str, str], *, api_base: str | None, public_url: str, stripe_method: str = "promptpay"
) -> Provider:
    """The provider a hub uses: ``sim``, ``razorpay`` or ``stripe`` (``api_base`` for a test double or proxy)."""
    if kind == "sim":
        return SimulatedProvider(public_url)
    from terminal.backends.transport import is_loopback

    loopback = is_loopback(api_base.split("//", 1)[-1].split(":")[0].split("/")[0]) if api_base else False
    # The adapters are the terminal's; the hub's subclasses only add the name it records with each order.
    if kind == "razorpay":
        from terminal.backends.razorpay import API_BASE, RazorpayBackend

        class HubRazorpay(RazorpayBackend):
            name = "razorpay"

        return HubRazorpay(
            _key(keys, "razorpay_key_id"),
            _key(keys, "razorpay_key_secret"),
            api_base=api_base or API_BASE,
            allow_plain_http=loopback,
        )
    if kind == "stripe":
        from terminal.backends.stripe import API_BASE as STRIPE_BASE
        from terminal.backends.stripe import StripeBackend

        class HubStripe(StripeBackend):
            name = "stripe"

        return HubStripe(
            _key(keys, "stripe_secret_key"), stripe_method, api_base=api_base or STRIPE_BASE, allow_plain_http=loopback
        )
    raise ValueError(f"provider must be sim, razorpay or stripe, not {kind!r}")


def _key(keys: dict[str, str], name: str) -> str:
    value = keys.get(name)
    if not value:
        raise ValueError(f"the hub's secrets have no {name} (the secrets file, or QR_HUB_{name.upper()})")
    return value

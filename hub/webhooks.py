"""Provider webhooks: signature checks and the events' published shapes turned into :class:`~hub.ledger.Fact`.

No I/O here. Razorpay signs the raw body: ``X-Razorpay-Signature`` = hex HMAC-SHA256(webhook secret, body), and
names each event in ``X-Razorpay-Event-Id`` (razorpay.com/docs/webhooks/validate-test/, /webhooks/best-practices/).
Stripe signs ``"{t}.{body}"``: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``, with a 300 s tolerance
(docs.stripe.com/webhooks#verify-manually). Every comparison is constant-time; a body that fails is never parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from hub.contract import MAX_MINOR
from hub.ledger import Fact
from terminal.core.money import Amount, MoneyError
from terminal.core.orders import OrderStatus, Payment, ProviderRefund

#: Stripe's default tolerance between the signed timestamp and now.
STRIPE_TOLERANCE = 300
RAZORPAY_REFUND = {"processed": "succeeded", "failed": "failed", "pending": "pending", "created": "pending"}
STRIPE_REFUND = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


#: Longest id the hub stores (provider ids are far shorter); the largest amount it believes is contract.MAX_MINOR.
MAX_ID = 100


class WebhookError(Exception):
    """A webhook refused: a bad or missing signature, or a body that is not an event. Answered 400."""


def razorpay_signature(secret: str, body: bytes) -> str:
    """What Razorpay sends in ``X-Razorpay-Signature`` for ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_razorpay(secret: str, body: bytes, header: str | None) -> None:
    """Raise WebhookError unless ``header`` is the body's signature."""
    if not header:
        raise WebhookError("X-Razorpay-Signature is missing")
    if not hmac.compare_digest(razorpay_signature(secret, body).encode(), header.strip().encode()):
        raise WebhookError("X-Razorpay-Signature does not match the body")


def stripe_signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe sends it (for tests and the load script)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_stripe(secret: str, body: bytes, header: str | None, now: float) -> None:
    """Raise WebhookError unless one ``v1`` of ``header`` signs ``t.body`` and ``t`` is within 300 s of now."""
    if not header:
        raise WebhookError("Stripe-Signature is missing")
    stamps: list[str] = []
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            macs.append(value)
    if len(stamps) != 1 or not stamps[0].isdigit() or not macs:
        raise WebhookError("Stripe-Signature has no timestamp or no v1 signature")
    if abs(now - int(stamps[0])) > STRIPE_TOLERANCE:
        raise WebhookError("Stripe-Signature timestamp is outside the 300 s tolerance (a replay, or a clock off)")
    expected = hmac.new(secret.encode(), f"{stamps[0]}.".encode() + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, mac.encode()) for mac in macs):  # every candidate, constant-time
        raise WebhookError("Stripe-Signature does not match the body")


def parse_event(body: bytes) -> dict[str, Any]:
    """The JSON object of a verified body."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookError("the body is not JSON (or nested too deep)") from None
    if not isinstance(data, dict):
        raise WebhookError("the body is not a JSON object")
    return data


# --- Razorpay ---------------------------------------------------------------------------------------


def razorpay_fact(event: dict[str, Any], event_id: str) -> Fact | None:
    """The fact of a Razorpay event (None for an event the hub does not use). Shapes: razorpay.com/docs/webhooks/
    payloads/qr-codes/ (``qr_code.credited``, ``qr_code.closed``), /payments/ and /refunds/."""
    kind = _str(event, "event")
    payload: dict[str, Any] = event["payload"] if isinstance(event.get("payload"), dict) else {}
    qr = _entity(payload, "qr_code")
    payment = _entity(payload, "payment")
    refund = _entity(payload, "refund")
    ident = (event_id, kind)
    if kind in ("qr_code.credited", "payment.captured"):
        if payment is None or payment.get("status") not in ("captured", "refunded"):
            raise WebhookError(f"{kind}: payload.payment.entity is missing or not captured")
        qr_id = _optional(qr, "id") or _optional(payment, "qr_code_id")
        return Fact("razorpay", qr_id, payment_id=_str(payment, "id"), payments=(_rzp_payment(payment),), event=ident)
    if kind == "qr_code.closed":
        if qr is None:
            raise WebhookError("qr_code.closed: payload.qr_code.entity is missing")
        closed: OrderStatus | None = (
            OrderStatus.CANCELLED if qr.get("close_reason") == "on_demand" else OrderStatus.EXPIRED
        )
        if qr.get("close_reason") == "paid":
            closed = None  # closed because it was paid: the payment event says the rest
        return Fact("razorpay", _str(qr, "id"), status=closed, event=ident)
    if kind in ("refund.processed", "refund.failed"):
        if refund is None:
            raise WebhookError(f"{kind}: payload.refund.entity is missing")
        refund_status = RAZORPAY_REFUND.get(str(refund.get("status")))
        if refund_status is None:
            raise WebhookError(f"{kind}: refund status {refund.get('status')!r} is unknown")
        made = ProviderRefund(_str(refund, "id"), refund_status, _amount(refund.get("amount"), refund.get("currency")))
        return Fact("razorpay", payment_id=_str(refund, "payment_id"), refunds=(made,), event=ident)
    return None


def _rzp_payment(payment: dict[str, Any]) -> Payment:
    acquirer: dict[str, Any] = payment["acquirer_data"] if isinstance(payment.get("acquirer_data"), dict) else {}
    created = payment.get("created_at")
    at = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None
    pay_id = _str(payment, "id")
    amount = _amount(payment.get("amount"), payment.get("currency"))
    return Payment(amount, at, _optional(payment, "vpa"), acquirer.get("rrn") or pay_id, pay_id)


# --- Stripe -----------------------------------------------------------------------------------------


def stripe_fact(event: dict[str, Any]) -> Fact | None:
    """The fact of a Stripe event (None for one the hub does not use). Shapes: docs.stripe.com/api/events/object,
    /api/payment_intents/object, /api/charges/object, /api/refunds/object."""
    kind = _str(event, "type")
    ident = (_str(event, "id"), kind)
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise WebhookError(f"{kind}: data.object is missing")
    if kind == "payment_intent.succeeded":
        received = obj.get("amount_received")
        created = obj.get("created")
        paid = Payment(
            _amount(received, obj.get("currency")),
            datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
            None,
            _optional(obj, "latest_charge") or _str(obj, "id"),
            _str(obj, "id"),
        )
        return Fact("stripe", _str(obj, "id"), payments=(paid,), event=ident)
    if kind == "payment_intent.canceled":
        return Fact("stripe", _str(obj, "id"), status=OrderStatus.CANCELLED, event=ident)
    if kind == "payment_intent.payment_failed":
        error: dict[str, Any] = obj["last_payment_error"] if isinstance(obj.get("last_payment_error"), dict) else {}
        failure = (str(error.get("code") or "payment_failed"), str(error.get("message") or "The payment failed."))
        return Fact("stripe", _str(obj, "id"), status=OrderStatus.FAILED, failure=failure, event=ident)
    if kind == "charge.refunded":
        listed = obj.get("refunds", {}).get("data") if isinstance(obj.get("refunds"), dict) else []
        refunds = tuple(_stripe_refund(r) for r in listed or [] if isinstance(r, dict))
        return Fact("stripe", _optional(obj, "payment_intent"), refunds=refunds, event=ident)
    if kind == "refund.updated":
        return Fact("stripe", _optional(obj, "payment_intent"), refunds=(_stripe_refund(obj),), event=ident)
    return None


def _stripe_refund(obj: dict[str, Any]) -> ProviderRefund:
    status = STRIPE_REFUND.get(str(obj.get("status")))
    if status is None:
        raise WebhookError(f"refund status {obj.get('status')!r} is unknown")
    return ProviderRefund(_str(obj, "id"), status, _amount(obj.get("amount"), obj.get("currency")))


# --- shapes -----------------------------------------------------------------------------------------


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else None


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise WebhookError(f"'{key}' is missing, not a string or longer than {MAX_ID} characters")
    return value


def _optional(obj: dict[str, Any] | None, key: str) -> str | None:
    value = obj.get(key) if obj else None
    return value[:MAX_ID] if isinstance(value, str) and value else None


def _amount(value: Any, currency: Any) -> Amount:
    if type(value) is not int or not isinstance(currency, str) or value > MAX_MINOR:
        raise WebhookError(f"amount {value!r} {currency!r} is not an integer of minor units with a currency")
    try:
        return Amount(value, currency.upper())
    except MoneyError as exc:
        raise WebhookError(str(exc)) from None

"""Provider webhook events in their published shapes, built from the fake providers' own objects, and sent signed
(or forged) to a running hub. Razorpay: razorpay.com/docs/webhooks/payloads/qr-codes/ and /refunds/; Stripe:
docs.stripe.com/api/events/object with the PaymentIntent, Charge and Refund objects as data.object."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import requests

from hub.webhooks import razorpay_signature, stripe_signature_header
from tests.hub.running import STRIPE_WEBHOOK_SECRET, WEBHOOK_SECRET


def razorpay_event(kind: str, **entities: dict[str, Any]) -> bytes:
    """``{"entity": "event", "event": kind, "payload": {name: {"entity": …}}}``."""
    clean = {name: {"entity": {k: v for k, v in e.items() if not k.startswith("_")}} for name, e in entities.items()}
    event = {
        "entity": "event",
        "account_id": "acc_FixtureAccount1",
        "event": kind,
        "contains": list(entities),
        "payload": clean,
        "created_at": int(time.time()),
    }
    return json.dumps(event).encode()


def send_razorpay(
    url: str, body: bytes, *, event_id: str | None = None, signature: str | None = None, secret: str = WEBHOOK_SECRET
) -> requests.Response:
    signature = signature if signature is not None else razorpay_signature(secret, body)
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Event-Id": event_id or "evt_" + secrets.token_hex(7),
        "X-Razorpay-Signature": signature,
    }
    return requests.post(f"{url}/webhooks/razorpay", data=body, headers=headers, timeout=10)


def stripe_event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    event = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def send_stripe(
    url: str, body: bytes, *, stamp: int | None = None, secret: str = STRIPE_WEBHOOK_SECRET, header: str | None = None
) -> requests.Response:
    signature = header if header is not None else stripe_signature_header(secret, body, stamp or int(time.time()))
    return requests.post(
        f"{url}/webhooks/stripe",
        data=body,
        timeout=10,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )

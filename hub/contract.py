"""Backend contract v1.1 as the hub, a server of it, reads requests and writes answers (docs/backend-contract.md).

Written from the contract document, not from the terminal's client (``terminal.backends.contract``) nor from the
sandbox: the terminal's client parses what this module writes, so a bug shared by both ends cannot pass the contract
tests (tests/hub, the terminal's HttpBackend against a real hub) unseen. ``tests/test_layers.py`` keeps it so.

- amounts: ``{"value": <integer minor units>, "currency": "<ISO 4217>"}``, never a float;
- times: UTC ISO 8601 with a ``Z``, whole seconds;
- an order: ``{"id", "status", "reference", "amount", "qr"?, "payee"?, "expires_at", "created_at", "payments",
  "paid"? (v1: the first payment), "failure"?, "refunds"?, "sandbox"?}``;
- a refund: ``{"id", "status": "pending|succeeded|failed", "amount", "failure"?}``;
- an error: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.db import OrderRow, PaymentRow, RefundRow
from terminal.core.money import Amount, MoneyError

#: The largest amount the hub takes (ten trillion rupees in paise; no QR sale comes near it).
MAX_MINOR = 10**15
#: Limits on what a create may carry (the database's columns).
MAX_REFERENCE, MAX_DESCRIPTION, MAX_REASON = 100, 500, 500
#: The QR's lifetime a create may ask for, in seconds, and the default.
EXPIRES_IN = (1, 86400)
DEFAULT_EXPIRES_IN = 300


#: The hub's own statuses the contract has no word for, as it writes them. ``underpaid`` (money arrived, less than
#: asked or in another currency) is ``paid`` with its payments listed: the contract's ``paid`` means "money arrived,
#: compare the payments" (docs/backend-contract.md, payment matching), and the terminal's matching then shows
#: "Underpaid" or "Payment mismatch". ``pending`` would hide the money from the terminal (it ignores a pending
#: order's payments) and ``expired`` with payments is read as a contradiction, a mismatch.
WIRE_STATUS = {"underpaid": "paid"}


class ContractError(Exception):
    """A request the contract answers with an error: HTTP ``status``, error ``code`` and ``message``, and for a
    409 on a paid order the order itself as ``body``."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A create's body, checked: ``{"reference", "amount", "expires_in"?, "description"?}``."""

    reference: str
    amount: Amount
    expires_in: int
    description: str


# --- reading requests -----------------------------------------------------------------------------


def create_request(body: object) -> CreateRequest:
    """The create's body, or a 400 naming the field that is wrong."""
    if not isinstance(body, dict):
        raise ContractError(400, "invalid_request", "body must be a JSON object")
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference:
        raise ContractError(400, "invalid_request", "'reference' must be a non-empty string")
    amount = amount_of(body.get("amount"), "amount")
    if amount.minor <= 0:
        raise ContractError(400, "invalid_amount", "'amount.value' must be above zero")
    if amount.minor > MAX_MINOR:
        raise ContractError(400, "invalid_amount", f"'amount.value' is over {MAX_MINOR} minor units")
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    low, high = EXPIRES_IN
    if type(expires_in) is not int or not low <= expires_in <= high:
        raise ContractError(400, "invalid_request", f"'expires_in' must be whole seconds between {low} and {high}")
    description = body.get("description", "")
    if not isinstance(description, str):
        description = ""
    if len(reference) > MAX_REFERENCE or len(description) > MAX_DESCRIPTION:
        why = f"'reference' ({MAX_REFERENCE}) or 'description' ({MAX_DESCRIPTION}) is too long"
        raise ContractError(400, "invalid_request", why)
    return CreateRequest(reference, amount, expires_in, description)


def refund_request(body: object) -> tuple[Amount, str]:
    """A refund's body ``{"amount", "reason"?}``: the amount (whether it fits the order is the ledger's rule) and
    the reason, cut to what is kept."""
    if not isinstance(body, dict):
        raise ContractError(400, "invalid_request", "body must be a JSON object")
    return amount_of(body.get("amount"), "amount"), str(body.get("reason", ""))[:MAX_REASON]


def amount_of(data: object, where: str) -> Amount:
    """An amount object: an integer ``value`` (never a float, never a boolean) and a known ISO 4217 currency."""
    if not isinstance(data, dict) or type(data.get("value")) is not int:
        raise ContractError(400, "invalid_amount", f'\'{where}\' must be {{"value": <minor units>, "currency": …}}')
    currency = data.get("currency")
    if not isinstance(currency, str):
        raise ContractError(400, "invalid_amount", f"'{where}.currency' must be an ISO 4217 code")
    try:
        return Amount(data["value"], currency)
    except MoneyError as exc:
        raise ContractError(400, "invalid_amount", f"'{where}': {exc}") from None


def body_digest(body: object) -> str:
    """What makes two requests under one Idempotency-Key "the same body": the JSON with its keys sorted, hashed.
    Stored in ``orders.body_hash`` and ``refunds.body_hash``: changing it would make every retry of an order made
    before the change a 409."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# --- writing answers ------------------------------------------------------------------------------


def amount_json(minor: int, currency: str) -> dict[str, Any]:
    return {"value": int(minor), "currency": str(currency)}


def time_json(at: float) -> str:
    """A POSIX time as the contract writes it: UTC, ISO 8601, whole seconds, ``Z``."""
    moment = datetime.fromtimestamp(at, UTC).replace(microsecond=0)
    return moment.isoformat().removesuffix("+00:00") + "Z"


def payment_json(payment: PaymentRow) -> dict[str, Any]:
    return {
        "id": payment.id,
        "amount": amount_json(payment.amount, payment.currency),
        "at": time_json(payment.at),
        "payer": payment.payer,
        "provider_ref": payment.provider_ref,
    }


def refund_json(refund: RefundRow) -> dict[str, Any]:
    """A refund; ``requested`` (journaled, not yet accepted by the provider) is the contract's ``pending``."""
    data: dict[str, Any] = {
        "id": refund.id,
        "status": "pending" if refund.status == "requested" else refund.status,
        "amount": amount_json(refund.amount, refund.currency),
    }
    if refund.status == "failed" and refund.failure_message:
        data["failure"] = {"code": "refund_failed", "message": refund.failure_message}
    return data


def order_json(
    order: OrderRow, payments: Sequence[PaymentRow], refunds: Sequence[RefundRow], *, sandbox: bool = False
) -> dict[str, Any]:
    """An order with every payment (v1.1, oldest first), ``paid`` for v1 terminals, its failure and refunds."""
    data: dict[str, Any] = {
        "id": order.id,
        "status": WIRE_STATUS.get(order.status, order.status),
        "reference": order.reference,
        "amount": amount_json(order.amount, order.currency),
        "expires_at": time_json(order.expires_at),
        "created_at": time_json(order.created_at),
    }
    if order.qr_payload is not None:
        data["qr"] = {"scheme": order.qr_scheme, "payload": order.qr_payload}
        data["payee"] = {"name": order.payee_name, "id": order.payee_id}
    if sandbox:
        data["sandbox"] = True
    data["payments"] = [payment_json(p) for p in payments]
    if payments:
        data["paid"] = {k: v for k, v in data["payments"][0].items() if k != "id"}
    if order.failure_code:
        data["failure"] = {"code": order.failure_code, "message": order.failure_message or ""}
    if refunds:
        data["refunds"] = [refund_json(r) for r in refunds]
    return data


def error_json(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}

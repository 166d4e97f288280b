"""The sandbox's order book: contract v1's rules (idempotency, long-poll, expiry, cancel, refunds) in
memory, thread-safe. The HTTP layer (``server.py``) only translates requests to these calls."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from terminal.core.money import Amount, MoneyError
from terminal.core.orders import Payee
from terminal.core.payloads import emv, emv_profiles, epc, upi

#: The QR payloads the sandbox can issue, the contract's scheme name for each, and the currency each pays in.
SCHEMES = {
    "url": ("url", None),
    "upi": ("upi", "INR"),
    "pix": ("emv", "BRL"),
    "promptpay": ("emv", "THB"),
    "paynow": ("emv", "SGD"),
    "epc": ("epc", "EUR"),
}
#: A payee id of the right shape for each scheme (none of them real).
SAMPLE_PAYEE_IDS = {
    "url": "demo-shop@sandbox",
    "upi": "demo-shop@sandbox",
    "pix": "demo-shop@sandbox",
    "promptpay": "0812345678",
    "paynow": "201403121W",
    "epc": "DE89370400440532013000",
}
#: Test switch: what a compromised backend might change in the payload while its JSON stays honest.
TAMPERS = ("payee", "amount", "currency", "crc")

FINAL = {"paid", "failed", "expired", "cancelled", "refunded", "partially_refunded"}


class SandboxError(Exception):
    """A request the contract answers with an error: HTTP ``status``, error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


@dataclass
class SandboxOrder:
    """One order held by the sandbox."""

    id: str
    reference: str
    amount: Amount
    description: str
    created_at: datetime
    expires_at: datetime
    qr_scheme: str
    qr_payload: str
    status: str = "pending"
    #: Every payment captured, oldest first (contract v1.1 ``payments``); a customer may pay one QR twice.
    payments: list[dict[str, Any]] = field(default_factory=list)
    failure: dict[str, str] | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)


class OrderBook:
    """Orders by id, idempotency keys, and a condition that wakes long-polls on every change."""

    def __init__(
        self,
        *,
        payee: Payee,
        pay_base: str,
        scheme: str = "url",
        clock: Callable[[], float] = time.time,
        refund_delay: float = 0.0,
    ) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"sandbox QR scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        self.payee = payee
        self.pay_base = pay_base.rstrip("/")
        self.scheme = scheme
        self._clock = clock
        self._orders: dict[str, SandboxOrder] = {}
        self._keys: dict[str, tuple[str, Any]] = {}  # idempotency key → (body hash, order or refund id)
        self._changed = threading.Condition()
        #: One of TAMPERS (or None): every new order's payload is altered that way.
        self.tamper: str | None = None
        #: Seconds a refund stays pending before it succeeds (0: it succeeds at once), as banks take a while.
        self.refund_delay = refund_delay

    def now(self) -> datetime:
        """The sandbox's time."""
        return datetime.fromtimestamp(self._clock(), UTC)

    # --- contract ---------------------------------------------------------------------------

    def create(self, key: str | None, body: Any) -> tuple[dict[str, Any], bool]:
        """Create an order; returns (order JSON, created). Same key + same body → same order."""
        if not key:
            raise SandboxError(400, "idempotency_key_required", "Idempotency-Key header is required")
        reference, amount, expires_in, description = _order_request(body)
        currency = SCHEMES[self.scheme][1]
        if currency is not None and amount.currency != currency:
            raise SandboxError(400, "invalid_currency", f"{self.scheme} QRs pay in {currency}, not {amount.currency}")
        digest = _digest(body)
        with self._changed:
            if key in self._keys:
                known_digest, order_id = self._keys[key]
                if known_digest != digest:
                    raise SandboxError(409, "idempotency_conflict", "this Idempotency-Key was used with another body")
                return self._json(self._orders[order_id]), False
            order_id = "ord_" + secrets.token_hex(8)
            now = self.now()
            order = SandboxOrder(
                id=order_id,
                reference=reference,
                amount=amount,
                description=description,
                created_at=now,
                expires_at=now + timedelta(seconds=expires_in),
                qr_scheme=SCHEMES[self.scheme][0],
                qr_payload=self._payload(order_id, reference, amount, description),
            )
            self._orders[order_id] = order
            self._keys[key] = (digest, order_id)
            return self._json(order), True

    def get(
        self,
        order_id: str,
        *,
        wait: float = 0,
        known: str | None = None,
        known_payments: int | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """The order; with ``wait``, block until its status differs from ``known`` (or its number of payments
        from ``known_payments``: contract v1.1) or ``wait`` passes, or ``stop`` is set (its server is stopping:
        none of its threads may wait on)."""
        deadline = time.monotonic() + max(0.0, min(wait, 60.0))
        with self._changed:
            order = self._find(order_id)
            while (
                known is not None
                and order.status == known
                and known_payments in (None, len(order.payments))
                and not (stop is not None and stop.is_set())
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if order.status == "pending":
                    left = min(left, max(0.05, (order.expires_at - self.now()).total_seconds()))
                self._changed.wait(left)
                self._expire_due(order)
            return self._json(order)

    def wake_waiters(self) -> None:
        """Make every long-poll look at its ``stop`` event now (set it first)."""
        with self._changed:
            self._changed.notify_all()

    def cancel(self, order_id: str) -> dict[str, Any]:
        """Cancel a pending order (idempotent); a paid one → 409 carrying the order."""
        with self._changed:
            order = self._find(order_id)
            if order.status == "pending":
                self._set(order, "cancelled")
            elif order.status in ("paid", "refunded", "partially_refunded"):
                raise SandboxError(409, "already_paid", "the order is paid", self._json(order))
            return self._json(order)

    def refund(self, order_id: str, key: str | None, body: Any) -> tuple[dict[str, Any], bool]:
        """Refund part or all of a paid order, idempotently."""
        if not key:
            raise SandboxError(400, "idempotency_key_required", "Idempotency-Key header is required")
        if not isinstance(body, dict):
            raise SandboxError(400, "invalid_request", "body must be a JSON object")
        amount = amount_from_json(body.get("amount"), "amount")
        digest = _digest(body)
        with self._changed:
            order = self._find(order_id)
            if key in self._keys:
                known_digest, refund_id = self._keys[key]
                if known_digest != digest:
                    raise SandboxError(409, "idempotency_conflict", "this Idempotency-Key was used with another body")
                return _public(self._settle(next(r for r in order.refunds if r["id"] == refund_id))), False
            if order.status not in ("paid", "partially_refunded") or not order.payments:
                raise SandboxError(409, "not_paid", f"the order is {order.status}, not paid")
            refunded = sum(r["amount"]["value"] for r in order.refunds)
            paid_minor = sum(p["amount"]["value"] for p in order.payments if p["amount"]["currency"] == amount.currency)
            if amount.currency != order.amount.currency or amount.minor <= 0 or refunded + amount.minor > paid_minor:
                raise SandboxError(422, "refund_too_large", "the refund exceeds what remains of the payment")
            refund = {
                "id": "rfd_" + secrets.token_hex(8),
                "status": "succeeded" if self.refund_delay <= 0 else "pending",
                "amount": _amount_json(amount),
                "reason": str(body.get("reason", "")),
                "created_at": _time_json(self.now()),
                "_settles_at": self._clock() + self.refund_delay,
            }
            order.refunds.append(refund)
            self._keys[key] = (digest, refund["id"])
            whole = refunded + amount.minor == paid_minor
            self._set(order, "refunded" if whole else "partially_refunded")
            return _public(self._settle(refund)), True

    def history(self, since: str | None, limit: int) -> list[dict[str, Any]]:
        """Orders created at or after ``since`` (ISO 8601), oldest first."""
        start = datetime.min.replace(tzinfo=UTC)
        if since:
            try:
                start = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise SandboxError(400, "invalid_request", f"since={since!r} is not an ISO 8601 time") from None
        with self._changed:
            for order in self._orders.values():
                self._expire_due(order)
            chosen = sorted((o for o in self._orders.values() if o.created_at >= start), key=lambda o: o.created_at)
            return [self._json(o) for o in chosen[: max(1, min(limit, 500))]]

    def settlement(self, date: str) -> dict[str, Any]:
        """Totals of the orders paid on ``date`` (UTC), no fees (it is a sandbox)."""
        with self._changed:
            paid = [o for o in self._orders.values() if o.payments and o.payments[0]["at"].startswith(date)]
            captured = [p for o in paid for p in o.payments]
            gross = sum(p["amount"]["value"] for p in captured)
            refunds = sum(r["amount"]["value"] for o in paid for r in o.refunds)
            currency = paid[0].amount.currency if paid else "INR"
            return {
                "date": date,
                "currency": currency,
                "count": len(captured),
                "gross": gross,
                "fees": 0,
                "net": gross - refunds,
            }

    # --- the customer and the test helpers ----------------------------------------------------

    def pay(
        self,
        order_id: str,
        amount_minor: int | None = None,
        payer: str = "customer@sandbox",
        currency: str | None = None,
    ) -> dict[str, Any]:
        """The customer pays (the full amount, or ``amount_minor`` for a partial or over payment, in ``currency``
        for a payment in another currency). An order already paid and not yet expired can be paid again: a
        customer whose first attempt looked stuck pays the same QR twice."""
        with self._changed:
            order = self._find(order_id)
            again = order.status == "paid" and self.now() < order.expires_at
            if order.status != "pending" and not again:
                raise SandboxError(409, "not_pending", f"the order is {order.status}")
            minor = order.amount.minor if amount_minor is None else amount_minor
            order.payments.append(self._payment(minor, currency or order.amount.currency, payer))
            self._set(order, "paid")
            return self._json(order)

    def _payment(self, minor: int, currency: str, payer: str) -> dict[str, Any]:
        # Written directly, not through Amount: a test may ask for an amount or currency the terminal must refuse.
        return {
            "id": "pay_" + secrets.token_hex(8),
            "at": _time_json(self.now()),
            "amount": {"value": minor, "currency": currency},
            "payer": payer,
            "provider_ref": f"SBX{secrets.randbelow(10**9):09d}",
        }

    def record_payment(self, reference: str, amount: Amount, payer: str = "customer@sandbox") -> dict[str, Any]:
        """A payment that arrived without an order (to a QR the terminal built offline), as the PSP reports it:
        it appears in the history, paid, under its reference."""
        with self._changed:
            now = self.now()
            order = SandboxOrder(
                id="pay_" + secrets.token_hex(8),
                reference=reference,
                amount=amount,
                description="payment without an order",
                created_at=now,
                expires_at=now,
                qr_scheme="upi",
                qr_payload="",
            )
            order.payments.append(self._payment(amount.minor, amount.currency, payer))
            order.status = "paid"
            self._orders[order.id] = order
            self._changed.notify_all()
            return self._json(order)

    def fail(self, order_id: str, code: str = "declined", message: str = "The customer declined.") -> dict[str, Any]:
        """The payment fails (the customer declined)."""
        with self._changed:
            order = self._find(order_id)
            if order.status != "pending":
                raise SandboxError(409, "not_pending", f"the order is {order.status}")
            order.failure = {"code": code, "message": message}
            self._set(order, "failed")
            return self._json(order)

    def expire(self, order_id: str) -> dict[str, Any]:
        """The order expires now."""
        with self._changed:
            order = self._find(order_id)
            if order.status == "pending":
                self._set(order, "expired")
            return self._json(order)

    def order_for_page(self, order_id: str) -> SandboxOrder:
        """The order, for the customer page."""
        with self._changed:
            return self._find(order_id)

    # --- inside -----------------------------------------------------------------------------

    def _payload(self, order_id: str, reference: str, amount: Amount, description: str) -> str:
        payee_id, shown = self.payee.id, amount
        if self.tamper == "payee":
            payee_id = {"promptpay": "0899999999", "paynow": "199912345Z", "epc": "FR1420041010050500013M02606"}.get(
                self.scheme, "fraudster@sandbox"
            )
        elif self.tamper == "amount":
            shown = Amount(amount.minor * 10, amount.currency)
        payload = self._build(payee_id, shown, order_id, reference, description)
        if self.tamper == "currency":
            payload = _other_currency(payload)
        elif self.tamper == "crc":
            if not payload.startswith("000201"):
                raise SandboxError(400, "tamper_needs_emv", "only EMV payloads carry a CRC to corrupt")
            payload = payload[:-1] + ("0" if payload[-1] != "0" else "1")
        return payload

    def _build(self, payee_id: str, amount: Amount, order_id: str, reference: str, description: str) -> str:
        name = self.payee.name[:25]
        compact = "".join(c for c in reference if c.isalnum())[:25]
        if self.scheme == "upi":
            return upi.build(pa=payee_id, pn=self.payee.name, amount=amount, tr=reference, tn=description)
        if self.scheme == "pix":
            return emv_profiles.build_pix(key=payee_id, name=name, city="Sao Paulo", amount=amount, txid=compact)
        if self.scheme == "promptpay":
            return emv_profiles.build_promptpay(payee=payee_id, amount=amount, reference=reference)
        if self.scheme == "paynow":
            return emv_profiles.build_paynow(proxy=payee_id, name=name, amount=amount, reference=reference)
        if self.scheme == "epc":
            return epc.build(
                name=self.payee.name, iban=payee_id, amount=amount, text=f"{reference} {description}"[:140]
            )
        query = f"am={amount.decimal()}&cu={amount.currency}&tr={reference}"
        base = self.pay_base if payee_id == self.payee.id else "https://pay.fraudster.example"  # a link's payee
        return f"{base}/pay/{order_id}?{query}"

    def _find(self, order_id: str) -> SandboxOrder:
        order = self._orders.get(order_id)
        if order is None:
            raise SandboxError(404, "not_found", f"no order {order_id!r}")
        self._expire_due(order)
        return order

    def _expire_due(self, order: SandboxOrder) -> None:
        if order.status == "pending" and self.now() >= order.expires_at:
            self._set(order, "expired")

    def _set(self, order: SandboxOrder, status: str) -> None:
        order.status = status
        self._changed.notify_all()

    def _json(self, order: SandboxOrder) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": order.id,
            "status": order.status,
            "reference": order.reference,
            "amount": _amount_json(order.amount),
            "qr": {"scheme": order.qr_scheme, "payload": order.qr_payload},
            "payee": {"name": self.payee.name, "id": self.payee.id},
            "expires_at": _time_json(order.expires_at),
            "created_at": _time_json(order.created_at),
            "receipt_url": f"{self.pay_base}/pay/{order.id}",
            "sandbox": True,
        }
        if order.payments:
            data["payments"] = order.payments
            data["paid"] = order.payments[0]  # contract v1's single payment, for v1 clients
        if order.failure:
            data["failure"] = order.failure
        if order.refunds:
            data["refunds"] = [_public(self._settle(r)) for r in order.refunds]
        return data

    def _settle(self, refund: dict[str, Any]) -> dict[str, Any]:
        if refund["status"] == "pending" and self._clock() >= refund["_settles_at"]:
            refund["status"] = "succeeded"
        return refund


def _public(refund: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in refund.items() if not k.startswith("_")}


def _order_request(body: Any) -> tuple[str, Amount, int, str]:
    if not isinstance(body, dict):
        raise SandboxError(400, "invalid_request", "body must be a JSON object")
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference:
        raise SandboxError(400, "invalid_request", "'reference' must be a non-empty string")
    amount = amount_from_json(body.get("amount"), "amount")
    if amount.minor <= 0:
        raise SandboxError(400, "invalid_amount", "'amount.value' must be above zero")
    expires_in = body.get("expires_in", 300)
    if type(expires_in) is not int or not 1 <= expires_in <= 86400:
        raise SandboxError(400, "invalid_request", "'expires_in' must be whole seconds between 1 and 86400")
    description = body.get("description", "")
    return reference, amount, expires_in, description if isinstance(description, str) else ""


def amount_from_json(data: Any, where: str) -> Amount:
    if not isinstance(data, dict) or type(data.get("value")) is not int:
        raise SandboxError(400, "invalid_amount", f'\'{where}\' must be {{"value": <minor units>, "currency": …}}')
    try:
        return Amount(data["value"], str(data.get("currency")))
    except MoneyError as exc:
        raise SandboxError(400, "invalid_amount", f"'{where}': {exc}") from None


def _digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _other_currency(payload: str) -> str:
    """The same payload asking for another currency (a USD price where the shop sells in rupees…)."""
    if payload.startswith("000201"):
        parsed = emv.parse(payload)
        pairs: emv.Build = [(f.tag, "840" if f.tag == "53" else f.value) for f in parsed.fields if f.tag != "63"]
        return emv.build(pairs)
    if payload.startswith("BCD"):
        return payload.replace("\nEUR", "\nUSD", 1)
    return payload.replace("cu=INR", "cu=USD").replace("cu=BRL", "cu=USD")


# The sandbox writes contract v1's JSON itself, as an independent server would: it never uses the terminal's
# client helpers (terminal/backends/contract.py), so a bug shared by both ends cannot pass the tests unseen.


def _amount_json(amount: Amount) -> dict[str, Any]:
    """An amount as the contract writes it: integer minor units and the ISO 4217 code."""
    return {"value": int(amount.minor), "currency": str(amount.currency)}


def _time_json(at: datetime) -> str:
    """A time as the contract writes it: UTC, ISO 8601, whole seconds, ``Z``."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

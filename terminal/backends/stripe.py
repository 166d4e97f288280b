"""Stripe PaymentIntents with a QR next action (PromptPay, PayNow, PIX, WeChat Pay) behind the Backend interface.

Each sale is one PaymentIntent, created and confirmed in one call with the sale id as ``Idempotency-Key`` (form
encoded, as Stripe's API is). Every request carries ``Stripe-Version`` (:data:`API_VERSION`, the version the
request and response shapes here and the spec extract in ``tests/data/`` were written against), so the shapes do
not follow the account's default version. The QR shown is ``next_action.<method>_display_qr_code.data``, drawn
locally and checked by the payload guard (never the hosted image). The intent is polled (with its latest charge
expanded: payment time, payer, the charge's receipt page); it is cancelled with ``requested_by_customer`` when
the shopkeeper cancels and ``abandoned`` when the terminal's own timer ran out. Refunds go through
``/v1/refunds`` with our refund id as ``Idempotency-Key`` — except PromptPay's, which Stripe can only make with
the customer's email (:attr:`StripeBackend.refund_refusal`): the adapter refuses those before any request.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from terminal.backends.base import BackendError, bad_reply
from terminal.backends.contract import required_str as _str
from terminal.backends.transport import HttpError, Transport
from terminal.core.money import Amount, MoneyError
from terminal.core.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Payee,
    Payment,
    ProviderRefund,
    QrCode,
    Settlement,
)
from terminal.core.payloads.errors import PayloadError
from terminal.core.payloads.summary import scheme_of, summarise
from terminal.core.problems import Problem, ProblemKind

API_BASE = "https://api.stripe.com"
#: The Stripe API version every request asks for (``Stripe-Version``). Shapes of other versions differ: before
#: 2022-11-15 there is no ``latest_charge``; this version lists ``allowed_payment_method_types`` on create.
API_VERSION = "2026-10-28.endive"
#: The QR payment methods, and the currency each pays in (WeChat Pay: the terminal's).
METHODS = {"promptpay": "THB", "paynow": "SGD", "pix": "BRL", "wechat_pay": None}
#: Refund statuses: Stripe's → the contract's.
REFUND_STATUS = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}
#: ``cancellation_reason`` values that mean the QR ran out of time (Stripe's own expiry, or ours); every other
#: documented reason (requested_by_customer, duplicate, fraudulent, failed_invoice, void_invoice) is a cancel.
EXPIRED_REASONS = frozenset({"expired", "automatic", "abandoned"})
#: A QR whose payment attempt expired goes back to requires_payment_method with this error: an expiry.
ATTEMPT_EXPIRED = "payment_intent_payment_attempt_expired"
#: ``payment_method_options[pix][expires_after_seconds]``: Stripe's bounds, and the margin given over the
#: terminal's own timer so Stripe's expiry never fires first (the terminal's cancel does, as ``abandoned``).
PIX_EXPIRY = (60, 1_209_600)
PIX_MARGIN = 60
#: Stripe's minimum charge per currency (docs.stripe.com/currencies, "Minimum and maximum charge amounts":
#: USD 0.50 or its equivalent), for the currencies this terminal handles.
MINIMUMS = {"USD": 50, "EUR": 50, "BRL": 50, "SGD": 50, "INR": 50, "THB": 1000, "JPY": 50}
#: Why a refund of a method cannot be made from the counter (Stripe needs the customer's email for PromptPay:
#: ``instructions_email``, "for payment methods without native refund support (e.g., Konbini, PromptPay)").
REFUND_REFUSALS = {"promptpay": "PromptPay refunds are made in the Stripe Dashboard"}
#: How close to the terminal's own expiry a cancel counts as that expiry (its timer and our clock differ a little).
EXPIRY_SLACK = 2.0


def error_text(body: Any) -> str:
    """Stripe's ``{"error": {"type", "code", "message"}}``."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return str(err.get("message") or err.get("code") or err.get("type") or "")
    return ""


def minimum(currency: str) -> Amount | None:
    """The smallest charge Stripe accepts in ``currency`` (None when this terminal does not know it)."""
    minor = MINIMUMS.get(currency)
    return Amount(minor, currency) if minor is not None else None


def pix_expiry(sale_ttl: int) -> int:
    """Seconds after which Stripe expires a PIX QR for a sale the terminal expires after ``sale_ttl``."""
    return sale_ttl + PIX_MARGIN


def sale_ttl_problem(method: str, sale_ttl: int) -> str | None:
    """Why ``sale_ttl`` does not suit ``method`` (for the config error), or None."""
    low, high = PIX_EXPIRY
    if method == "pix" and not low <= pix_expiry(sale_ttl) <= high:
        return (
            f"{low - PIX_MARGIN} to {high - PIX_MARGIN} seconds for Stripe PIX (Stripe's expiry, "
            f"{PIX_MARGIN} s after the terminal's, must be {low} to {high} seconds)"
        )
    return None


class StripeBackend:
    """The terminal's backend, straight on Stripe's API with one QR payment method."""

    sandbox = False

    def __init__(
        self,
        secret_key: str,
        method: str,
        *,
        api_base: str = API_BASE,
        timeout: float = 10.0,
        ca_file: str | None = None,
        allow_plain_http: bool = False,
        clock: Any = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"Stripe QR method must be one of {', '.join(METHODS)}, not {method!r}")
        self.method = method
        #: Why no refund can be asked for from the terminal (shown in the menu before any request), or None.
        self.refund_refusal: str | None = REFUND_REFUSALS.get(method)
        headers = {"Authorization": f"Bearer {secret_key}", "Stripe-Version": API_VERSION}
        self._http = Transport(
            api_base,
            headers,
            timeout=timeout,
            ca_file=ca_file,
            allow_plain_http=allow_plain_http,
            error_text=error_text,
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        # The terminal's own expiry of each intent made in this run (after a restart: from its metadata).
        self._expires: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def minimum(self, currency: str) -> Amount | None:
        """The smallest sale Stripe accepts in ``currency``."""
        return minimum(currency)

    # --- Backend --------------------------------------------------------------------------------

    def create_order(self, request: OrderRequest) -> Order:
        """Create and confirm the PaymentIntent; its QR is the next action's data."""
        # From the sale's opening, not the clock: a retry under the same Idempotency-Key must send the same body
        # (Stripe answers another body with 400 idempotency_error), and the terminal's timer counts from there too.
        expires_at = (request.opened_at or self._clock()) + timedelta(seconds=request.expires_in)
        form: dict[str, Any] = {
            "amount": request.amount.minor,
            "currency": request.amount.currency.lower(),
            "confirm": "true",
            "allowed_payment_method_types[0]": self.method,
            "payment_method_data[type]": self.method,
            "description": request.description,
            "metadata[reference]": request.reference,
            "metadata[sale_id]": request.sale_id,
            "metadata[terminal_expires_at]": str(int(expires_at.timestamp())),
        }
        if self.method == "wechat_pay":
            form["payment_method_options[wechat_pay][client]"] = "web"
        if self.method == "pix":
            form["payment_method_options[pix][expires_after_seconds]"] = pix_expiry(request.expires_in)
        intent = self._call("POST", "/v1/payment_intents", data=form, headers={"Idempotency-Key": request.sale_id})
        order = self._order(intent, request, expires_at)
        with self._lock:
            self._expires[order.id] = expires_at
        return order

    def get_order(
        self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None, known_payments: int | None = None
    ) -> OrderUpdate:
        """The intent's status (Stripe does not long-poll: the worker polls)."""
        return self._update(self._intent(order_id))

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """Cancel the intent (idempotent): ``abandoned`` once the terminal's own expiry passed, else
        ``requested_by_customer``. One that succeeded first stays paid."""
        with self._lock:
            expires_at = self._expires.get(order_id)
        if expires_at is None:
            expires_at = _terminal_expiry(self._intent(order_id))
        expired = expires_at is not None and self._clock() >= expires_at - timedelta(seconds=EXPIRY_SLACK)
        reason = "abandoned" if expired else "requested_by_customer"
        try:
            intent = self._call(
                "POST",
                f"/v1/payment_intents/{quote(order_id, safe='')}/cancel",
                data={"cancellation_reason": reason, "expand[0]": "latest_charge"},
            )
        except HttpError as exc:
            if exc.status != 400:  # payment_intent_unexpected_state: already canceled or succeeded
                raise
            intent = self._intent(order_id)
        return self._update(intent)

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """POST /v1/refunds for the intent, our refund id as Idempotency-Key. A method Stripe cannot refund from
        here (PromptPay) is refused before any request."""
        if self.refund_refusal:
            raise BackendError(Problem(ProblemKind.REJECTED, self.refund_refusal))
        form = {
            "payment_intent": order_id,
            "amount": amount.minor,
            "metadata[refund_id]": refund_id,
            "metadata[reason]": reason[:200],
        }
        made = self._call("POST", "/v1/refunds", data=form, headers={"Idempotency-Key": refund_id})
        return _refund(made)

    def settlement(self, date: str) -> Settlement | None:
        """Stripe pays out balances, not days of sales: not compared (orders are)."""
        return None

    def history(self, since: datetime) -> list[tuple[str, OrderUpdate]]:
        """PaymentIntents created since ``since`` that carry a terminal reference."""
        found: list[tuple[str, OrderUpdate]] = []
        params: dict[str, Any] = {
            "created[gte]": int(since.timestamp()),
            "limit": 100,
            "expand[0]": "data.latest_charge",
        }
        for _ in range(50):
            page = self._call("GET", "/v1/payment_intents", params=params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise bad_reply("GET /v1/payment_intents: 'data' must be a list")
            for intent in data:
                reference = (intent.get("metadata") or {}).get("reference") if isinstance(intent, dict) else None
                if isinstance(reference, str):
                    found.append((reference, self._update(intent)))
            if not page.get("has_more") or not data:
                break
            params["starting_after"] = _str(data[-1], "id")
        return found

    def connect_ahead(self) -> None:
        self._http.connect_ahead()

    def probe(self) -> None:
        """The cheapest authenticated call."""
        self._call("GET", "/v1/payment_intents", params={"limit": 1})

    def close(self) -> None:
        """Release connections."""
        self._http.close()

    # --- Stripe's shapes ------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call. A 409 (``idempotency_key_in_use``: Stripe is still working on a request with this key)
        means "ask again with the same key": a SERVER problem the worker retries, never a refusal."""
        try:
            return self._http.call(method, path, **kwargs)
        except HttpError as exc:
            if exc.status == 409:
                detail = f"{exc.problem.detail}: Stripe is still processing this key; asking again with it"
                raise BackendError(Problem(ProblemKind.SERVER, detail, exc.problem.retry_after or 2.0)) from None
            raise

    def _intent(self, intent_id: str) -> dict[str, Any]:
        intent = self._call(
            "GET", f"/v1/payment_intents/{quote(intent_id, safe='')}", params={"expand[0]": "latest_charge"}
        )
        if not isinstance(intent, dict):
            raise bad_reply("PaymentIntent: not a JSON object")
        return intent

    def _order(self, intent: Any, request: OrderRequest, expires_at: datetime) -> Order:
        if not isinstance(intent, dict):
            raise bad_reply("PaymentIntent: not a JSON object")
        if intent.get("status") != "requires_action":
            update = self._update(intent)
            raise BackendError(
                Problem(
                    ProblemKind.REJECTED,
                    f"PaymentIntent is {intent.get('status')}, not waiting for a QR: {update.failure_message or ''}",
                )
            )
        action = (intent.get("next_action") or {}).get(f"{self.method}_display_qr_code")
        if not isinstance(action, dict) or not isinstance(action.get("data"), str):
            raise bad_reply(f"next_action.{self.method}_display_qr_code.data is missing")
        data = action["data"]
        scheme = scheme_of(data) or self.method
        try:
            said = summarise(data)
            payee = Payee(said.payee_name or "", said.accounts[0].ids[0])
        except (PayloadError, IndexError):
            # An opaque link (WeChat Pay's weixin://) names no payee: the shop opts in knowingly with this id in
            # payee.ids and payee.allow_unknown_formats = true; otherwise the guard refuses it.
            payee = Payee("Stripe", f"stripe:{self.method}")
        reference = (intent.get("metadata") or {}).get("reference")
        return Order(
            id=_str(intent, "id"),
            status=OrderStatus.PENDING,
            reference=reference if reference == request.reference else "",
            amount=_amount(intent, "amount"),
            qr=QrCode(scheme, data),
            payee=payee,
            # The terminal's own expiry: Stripe's (PIX: expires_at) is later by PIX_MARGIN, on purpose.
            expires_at=expires_at,
        )

    def _update(self, intent: dict[str, Any]) -> OrderUpdate:
        intent_id = _str(intent, "id")
        status = intent.get("status")
        created = _created(intent)
        if status == "succeeded":
            try:
                payment = self._payment(intent)
            except BackendError as exc:
                # Succeeded, but the money received cannot be read: shown as a mismatch, never the asked amount.
                return OrderUpdate(
                    intent_id, OrderStatus.PAID, created_at=created, unreadable_payment=exc.problem.detail[:200]
                )
            refunds = self._refunds(intent_id)
            counted = sum(r.amount.minor for r in refunds if r.status != "failed")
            state = OrderStatus.PAID
            if counted:
                state = OrderStatus.REFUNDED if counted >= payment.amount.minor else OrderStatus.PARTIALLY_REFUNDED
            return OrderUpdate(intent_id, state, (payment,), refunds=refunds, created_at=created)
        if status == "canceled":
            expired = intent.get("cancellation_reason") in EXPIRED_REASONS
            return OrderUpdate(intent_id, OrderStatus.EXPIRED if expired else OrderStatus.CANCELLED, created_at=created)
        error = intent.get("last_payment_error")
        if status == "requires_payment_method" and isinstance(error, dict):
            if error.get("code") == ATTEMPT_EXPIRED:
                return OrderUpdate(intent_id, OrderStatus.EXPIRED, failure_code=ATTEMPT_EXPIRED, created_at=created)
            return OrderUpdate(
                intent_id,
                OrderStatus.FAILED,
                failure_code=error.get("code"),
                failure_message=error.get("message"),
                created_at=created,
            )
        if status in ("requires_action", "processing", "requires_confirmation", "requires_payment_method"):
            return OrderUpdate(intent_id, OrderStatus.PENDING, created_at=created)
        raise bad_reply(f"PaymentIntent {intent_id}: status {status!r} is not one a QR payment can have")

    def _payment(self, intent: dict[str, Any]) -> Payment:
        """The money that arrived: the amount received, and from the (expanded) latest charge the time it was
        paid, who paid (billing details when the method gives them), the method's own reference and the
        charge's receipt page."""
        # Only what Stripe says was received: never the amount asked in its place.
        amount = _amount(intent, "amount_received")
        charge = intent.get("latest_charge")
        if not isinstance(charge, dict):  # not expanded (an older reply): the intent's own fields only
            ref = charge if isinstance(charge, str) and charge else _str(intent, "id")
            return Payment(amount, _created(intent), None, ref, id=ref)
        details = charge.get("payment_method_details") or {}
        own = details.get(self.method) if isinstance(details, dict) else None
        own = own if isinstance(own, dict) else {}
        found = own.get("reference") or own.get("bank_transaction_id") or own.get("transaction_id")
        method_ref = found if isinstance(found, str) and found else None
        billing = charge.get("billing_details")
        billing = billing if isinstance(billing, dict) else {}
        payer = billing.get("name") or billing.get("email")
        receipt = charge.get("receipt_url")
        charge_id = _str(charge, "id")
        return Payment(
            amount,
            _time(charge.get("created")) or _created(intent),
            payer if isinstance(payer, str) else None,
            method_ref or charge_id,
            id=charge_id,
            receipt_url=receipt if isinstance(receipt, str) and receipt else None,
        )

    def _refunds(self, intent_id: str) -> tuple[ProviderRefund, ...]:
        page = self._call("GET", "/v1/refunds", params={"payment_intent": intent_id, "limit": 100})
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            raise bad_reply("GET /v1/refunds: 'data' must be a list")
        return tuple(_refund(r) for r in data)


def _refund(data: Any) -> ProviderRefund:
    if not isinstance(data, dict):
        raise bad_reply("refund: not a JSON object")
    status = REFUND_STATUS.get(str(data.get("status")))
    if status is None:
        raise bad_reply(f"refund: unknown status {data.get('status')!r}")
    reason = data.get("failure_reason")
    return ProviderRefund(_str(data, "id"), status, _amount(data, "amount"), str(reason) if reason else "")


def _amount(obj: dict[str, Any], key: str) -> Amount:
    value, currency = obj.get(key), obj.get("currency")
    if type(value) is not int or not isinstance(currency, str):
        raise bad_reply(f"'{key}' must be an integer of minor units with a currency")
    try:
        return Amount(value, currency.upper())
    except MoneyError as exc:
        raise bad_reply(f"'{key}': {exc}") from None


def _terminal_expiry(intent: dict[str, Any]) -> datetime | None:
    """The terminal's own expiry, from the metadata it wrote at create (a restart forgot the in-memory one)."""
    raw = (intent.get("metadata") or {}).get("terminal_expires_at")
    return datetime.fromtimestamp(int(raw), UTC) if isinstance(raw, str) and raw.isdigit() else None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def _created(intent: dict[str, Any]) -> datetime:
    return _time(intent.get("created")) or datetime.now(UTC)

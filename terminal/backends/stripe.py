"""Stripe PaymentIntents with a QR next action (PromptPay, PayNow, PIX, WeChat Pay) behind the Backend interface.

Each sale is one PaymentIntent, created and confirmed in one call with the sale id as ``Idempotency-Key`` (form
encoded, as Stripe's API is). The QR shown is ``next_action.<method>_display_qr_code.data``, drawn locally and
checked by the payload guard (never the hosted image). Its status is polled; the intent is cancelled on cancel
or expiry; refunds go through ``/v1/refunds`` with our refund id as ``Idempotency-Key``.
"""

from __future__ import annotations

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
#: The QR payment methods, and the currency each pays in.
METHODS = {"promptpay": "THB", "paynow": "SGD", "pix": "BRL", "wechat_pay": None}
#: Refund statuses: Stripe's → the contract's.
REFUND_STATUS = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending",
                 "failed": "failed", "canceled": "failed"}  # fmt: skip


def error_text(body: Any) -> str:
    """Stripe's ``{"error": {"type", "code", "message"}}``."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return str(err.get("message") or err.get("code") or err.get("type") or "")
    return ""


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
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"Stripe QR method must be one of {', '.join(METHODS)}, not {method!r}")
        self.method = method
        self._http = Transport(api_base, {"Authorization": f"Bearer {secret_key}"}, timeout=timeout,
                               ca_file=ca_file, allow_plain_http=allow_plain_http, error_text=error_text)  # fmt: skip

    # --- Backend --------------------------------------------------------------------------------

    def create_order(self, request: OrderRequest) -> Order:
        """Create and confirm the PaymentIntent; its QR is the next action's data."""
        form = {
            "amount": request.amount.minor,
            "currency": request.amount.currency.lower(),
            "confirm": "true",
            "payment_method_types[]": self.method,
            "payment_method_data[type]": self.method,
            "description": request.description,
            "metadata[reference]": request.reference,
            "metadata[sale_id]": request.sale_id,
        }
        if self.method == "wechat_pay":
            form["payment_method_options[wechat_pay][client]"] = "web"
        if self.method == "pix":
            form["payment_method_options[pix][expires_after_seconds]"] = request.expires_in
        intent = self._http.call("POST", "/v1/payment_intents", data=form,
                                 headers={"Idempotency-Key": request.sale_id})  # fmt: skip
        return self._order(intent, request)

    def get_order(
        self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None, known_payments: int | None = None
    ) -> OrderUpdate:
        """The intent's status (Stripe does not long-poll: the worker polls)."""
        return self._update(self._intent(order_id))

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """Cancel the intent (idempotent); one that succeeded first stays paid."""
        try:
            intent = self._http.call("POST", f"/v1/payment_intents/{quote(order_id, safe='')}/cancel",
                                     data={"cancellation_reason": "abandoned"})  # fmt: skip
        except HttpError as exc:
            if exc.status != 400:  # payment_intent_unexpected_state: already canceled or succeeded
                raise
            intent = self._intent(order_id)
        return self._update(intent)

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """POST /v1/refunds for the intent, our refund id as Idempotency-Key."""
        form = {"payment_intent": order_id, "amount": amount.minor, "metadata[refund_id]": refund_id,
                "metadata[reason]": reason[:200]}  # fmt: skip
        made = self._http.call("POST", "/v1/refunds", data=form, headers={"Idempotency-Key": refund_id})
        return _refund(made)

    def settlement(self, date: str) -> Settlement | None:
        """Stripe pays out balances, not days of sales: not compared (orders are)."""
        return None

    def history(self, since: datetime) -> list[tuple[str, OrderUpdate]]:
        """PaymentIntents created since ``since`` that carry a terminal reference."""
        found: list[tuple[str, OrderUpdate]] = []
        params: dict[str, Any] = {"created[gte]": int(since.timestamp()), "limit": 100}
        for _ in range(50):
            page = self._http.call("GET", "/v1/payment_intents", params=params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise bad_reply("GET /v1/payment_intents: 'data' must be a list")
            for intent in data:
                reference = (intent.get("metadata") or {}).get("reference") if isinstance(intent, dict) else None
                if isinstance(reference, str):
                    found.append((reference, self._update(intent)))
            if not page.get("has_more") or not data:
                break
            params["starting_after"] = data[-1].get("id")
        return found

    def probe(self) -> None:
        """The cheapest authenticated call."""
        self._http.call("GET", "/v1/payment_intents", params={"limit": 1})

    def close(self) -> None:
        """Release connections."""
        self._http.close()

    # --- Stripe's shapes ------------------------------------------------------------------------

    def _intent(self, intent_id: str) -> dict[str, Any]:
        intent = self._http.call("GET", f"/v1/payment_intents/{quote(intent_id, safe='')}")
        if not isinstance(intent, dict):
            raise bad_reply("PaymentIntent: not a JSON object")
        return intent

    def _order(self, intent: Any, request: OrderRequest) -> Order:
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
            payee = Payee("Stripe", "(unreadable QR)")  # the guard refuses it unless unknown formats are allowed
        expires = action.get("expires_at")
        expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None
        reference = (intent.get("metadata") or {}).get("reference")
        return Order(
            id=_str(intent, "id"),
            status=OrderStatus.PENDING,
            reference=reference if reference == request.reference else "",
            amount=_amount(intent, "amount"),
            qr=QrCode(scheme, data),
            payee=payee,
            expires_at=expires_at or (_created(intent) + timedelta(seconds=request.expires_in)),
        )

    def _update(self, intent: dict[str, Any]) -> OrderUpdate:
        intent_id = _str(intent, "id")
        status = intent.get("status")
        created = _created(intent)
        if status == "succeeded":
            received = intent.get("amount_received")
            amount = _amount(intent, "amount_received" if type(received) is int else "amount")
            payment = Payment(amount, created, None, intent.get("latest_charge") or intent_id)
            refunds = self._refunds(intent_id)
            counted = sum(r.amount.minor for r in refunds if r.status != "failed")
            state = OrderStatus.PAID
            if counted:
                state = OrderStatus.REFUNDED if counted >= amount.minor else OrderStatus.PARTIALLY_REFUNDED
            return OrderUpdate(intent_id, state, (payment,) if payment else (), refunds=refunds, created_at=created)
        if status == "canceled":
            expired = intent.get("cancellation_reason") in ("automatic", "abandoned")
            return OrderUpdate(intent_id, OrderStatus.EXPIRED if expired else OrderStatus.CANCELLED,
                               created_at=created)  # fmt: skip
        error = intent.get("last_payment_error")
        if status == "requires_payment_method" and isinstance(error, dict):
            return OrderUpdate(intent_id, OrderStatus.FAILED, failure_code=error.get("code"),
                               failure_message=error.get("message"), created_at=created)  # fmt: skip
        if status in ("requires_action", "processing", "requires_confirmation", "requires_payment_method"):
            return OrderUpdate(intent_id, OrderStatus.PENDING, created_at=created)
        raise bad_reply(f"PaymentIntent {intent_id}: status {status!r} is not one a QR payment can have")

    def _refunds(self, intent_id: str) -> tuple[ProviderRefund, ...]:
        page = self._http.call("GET", "/v1/refunds", params={"payment_intent": intent_id, "limit": 100})
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


def _created(intent: dict[str, Any]) -> datetime:
    created = intent.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else datetime.now(UTC)

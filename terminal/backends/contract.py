"""Backend contract v1's JSON, both ways: replies parsed into core data, core data written as JSON.

Every parse error names the field, so a bad backend reply becomes a message an integrator can act on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from terminal.backends.base import BackendError, bad_reply
from terminal.core.money import Amount, MoneyError
from terminal.core.orders import (
    Order,
    OrderStatus,
    OrderUpdate,
    Payee,
    Payment,
    ProviderRefund,
    QrCode,
    Settlement,
)


def amount_json(amount: Amount) -> dict[str, Any]:
    """``{"value": 1250, "currency": "INR"}``."""
    return {"value": amount.minor, "currency": amount.currency}


def time_json(at: datetime) -> str:
    """An aware time as UTC ISO 8601 with a ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_order(data: Any) -> Order:
    """An order reply (create, or an order inside an error). Raises BackendError(bad_reply)."""
    obj = _object(data, "order")
    return Order(
        id=required_str(obj, "id"),
        status=_status(obj),
        reference=required_str(obj, "reference"),
        amount=parse_amount(obj.get("amount"), "amount"),
        qr=QrCode(
            scheme=required_str(_object(obj.get("qr"), "qr"), "scheme", "qr."),
            payload=required_str(_object(obj.get("qr"), "qr"), "payload", "qr."),
        ),
        payee=Payee(
            name=required_str(_object(obj.get("payee"), "payee"), "name", "payee."),
            id=required_str(_object(obj.get("payee"), "payee"), "id", "payee."),
        ),
        expires_at=parse_time(obj.get("expires_at"), "expires_at"),
        receipt_url=_optional_str(obj, "receipt_url"),
        sandbox=obj.get("sandbox") is True,
    )


def parse_update(data: Any) -> OrderUpdate:
    """A status reply (GET order, cancel)."""
    obj = _object(data, "order")
    payments, unreadable = _payments(obj)
    code = message = None
    if obj.get("failure") is not None:
        failure = _object(obj["failure"], "failure")
        code = _optional_str(failure, "code", "failure.")
        message = _optional_str(failure, "message", "failure.")
    status = _status(obj)
    raw_refunds = obj.get("refunds") or []
    if not isinstance(raw_refunds, list):
        raise bad_reply("'refunds' must be a list")
    return OrderUpdate(
        order_id=required_str(obj, "id"),
        status=status,
        payments=payments,
        unreadable_payment=unreadable,
        failure_code=code,
        failure_message=message,
        refunds=tuple(parse_refund(r) for r in raw_refunds),
        created_at=parse_time(obj["created_at"], "created_at") if obj.get("created_at") else None,
        amount=parse_amount(obj["amount"], "amount") if obj.get("amount") is not None else None,
    )


def _payments(obj: dict[str, Any]) -> tuple[tuple[Payment, ...], str | None]:
    """Contract v1.1's ``payments`` list when present (every capture), else v1's single ``paid`` object; and, when
    money may have arrived that the terminal cannot read one way, what the backend said (the core shows it as a
    mismatch rather than the reply being dropped and polled again): a payment whose amount cannot be read, a
    ``paid`` object that disagrees with the list (a v1 reader would read another amount), or a paid status that
    names no payment."""
    raw = obj.get("payments")
    if raw is None:
        raw = [obj["paid"]] if obj.get("paid") is not None else []
        names = ["paid"]
    else:
        if not isinstance(raw, list):
            raise bad_reply("'payments' must be a list")
        names = [f"payments[{n}]" for n in range(len(raw))]
    payments: list[Payment] = []
    unreadable: str | None = None
    for where, item in zip(names, raw, strict=False):
        try:
            payments.append(_payment(item, where))
        except BackendError as exc:
            unreadable = unreadable or exc.problem.detail[:200]
    if obj.get("payments") is not None and obj.get("paid") is not None and unreadable is None:
        try:
            v1 = _payment(obj["paid"], "paid")
        except BackendError as exc:
            v1, unreadable = None, exc.problem.detail[:200]
        if v1 is not None and (not payments or v1.amount != payments[0].amount):
            unreadable = "'paid' and 'payments' disagree: a v1 reader reads another payment"
    if not payments and unreadable is None and obj.get("status") == OrderStatus.PAID:
        unreadable = "status is paid but no payment is named"
    return tuple(payments), unreadable


def _payment(data: Any, where: str) -> Payment:
    paid = _object(data, where)
    return Payment(
        amount=parse_amount(paid.get("amount"), f"{where}.amount"),
        at=parse_time(paid["at"], f"{where}.at") if paid.get("at") else None,
        payer=_optional_str(paid, "payer", f"{where}."),
        provider_ref=_optional_str(paid, "provider_ref", f"{where}."),
        id=_optional_str(paid, "id", f"{where}."),
    )


REFUND_STATUSES = ("pending", "succeeded", "failed")


def parse_refund(data: Any) -> ProviderRefund:
    """A refund reply: ``{"id", "status": "pending|succeeded|failed", "amount": {…}}``."""
    obj = _object(data, "refund")
    status = obj.get("status")
    if status not in REFUND_STATUSES:
        raise bad_reply(f"refund 'status' {status!r} is not one of {', '.join(REFUND_STATUSES)}")
    failure = obj.get("failure")
    message = error_message({"error": failure}) if isinstance(failure, dict) else ""
    return ProviderRefund(
        required_str(obj, "id", "refund."), status, parse_amount(obj.get("amount"), "refund.amount"), message
    )


def parse_settlement(data: Any) -> Settlement:
    """``{"date", "currency", "count", "gross", "fees", "net"}`` (amounts in minor units)."""
    obj = _object(data, "settlement")
    numbers = {}
    for key in ("count", "gross", "fees", "net"):
        value = obj.get(key)
        if type(value) is not int:
            raise bad_reply(f"settlement '{key}' must be an integer, got {value!r}")
        numbers[key] = value
    return Settlement(required_str(obj, "date", "settlement."), required_str(obj, "currency", "settlement."), **numbers)


def parse_amount(data: Any, where: str) -> Amount:
    """``{"value": int, "currency": str}``."""
    obj = _object(data, where)
    value = obj.get("value")
    if type(value) is not int:
        raise bad_reply(f"'{where}.value' must be an integer of minor units, got {value!r}")
    try:
        return Amount(value, required_str(obj, "currency", f"{where}."))
    except MoneyError as exc:
        raise bad_reply(f"'{where}': {exc}") from None


def parse_time(data: Any, where: str) -> datetime:
    """An ISO 8601 time with a zone (``Z`` or an offset)."""
    if not isinstance(data, str):
        raise bad_reply(f"'{where}' must be an ISO 8601 time, got {data!r}")
    try:
        at = datetime.fromisoformat(data.replace("Z", "+00:00"))
    except ValueError:
        raise bad_reply(f"'{where}' is not an ISO 8601 time: {data!r}") from None
    if at.tzinfo is None:
        raise bad_reply(f"'{where}' has no time zone: {data!r}")
    return at


def error_message(data: Any) -> str:
    """The ``error.message`` (or code) of an error reply, or an empty string."""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        return str(err.get("message") or err.get("code") or "")
    return ""


def _object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_reply(f"'{where}' must be a JSON object, got {type(data).__name__}")
    return data


def required_str(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    """``obj[key]`` when it is a non-empty string, else the bad-reply error naming the field."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise bad_reply(f"'{prefix}{key}' is missing or not a string")
    return value


def _optional_str(obj: dict[str, Any], key: str, prefix: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_reply(f"'{prefix}{key}' must be a string")
    return value


def _status(obj: dict[str, Any]) -> OrderStatus:
    raw = obj.get("status")
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return OrderStatus(raw)
    except ValueError:
        raise bad_reply(f"'status' {raw!r} is not one of {', '.join(OrderStatus)}") from None


__all__ = [
    "BackendError",
    "amount_json",
    "error_message",
    "parse_order",
    "parse_refund",
    "parse_settlement",
    "parse_update",
    "required_str",
    "time_json",
]

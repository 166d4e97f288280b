"""Backend contract v1 over HTTP(S) (the shared transport, on http.client): a timeout on every call,
Idempotency-Key on create, long-poll with ``wait``/``known``. Every failure becomes a :class:`BackendError` with a
Problem."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from terminal.backends import signing
from terminal.backends.base import bad_reply
from terminal.backends.contract import (
    amount_json,
    error_message,
    parse_order,
    parse_refund,
    parse_settlement,
    parse_update,
    time_json,
)
from terminal.backends.transport import HttpError, Transport, check_url, is_loopback
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate, ProviderRefund, Settlement


class HttpBackend:
    """A client of backend contract v1 at ``base_url``, authenticated with a device token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        allow_plain_http: bool = False,
        ca_file: str | None = None,
        sandbox: bool = False,
    ) -> None:
        # A terminal enrolled with a hub signs each request (terminal/backends/signing.py) and sends no token.
        signer = signing.signer_for(token)
        headers = {} if signer else {"Authorization": f"Bearer {token}"}
        self._http = Transport(
            base_url,
            headers,
            timeout=timeout,
            auth=signer,
            connect_timeout=connect_timeout,
            allow_plain_http=allow_plain_http,
            ca_file=ca_file,
            error_text=error_message,
        )
        self.base_url = self._http.base_url
        self.sandbox = sandbox
        #: True when this backend is a hub the terminal is enrolled with (it signs; it takes heartbeats).
        self.hub = signer is not None

    # --- contract ---------------------------------------------------------------------------

    def create_order(self, request: OrderRequest) -> Order:
        """POST /v1/orders with the sale id as Idempotency-Key."""
        body = {
            "reference": request.reference,
            "amount": amount_json(request.amount),
            "expires_in": request.expires_in,
            "description": request.description,
        }
        reply = self._call("POST", "/v1/orders", json=body, headers={"Idempotency-Key": request.sale_id})
        return parse_order(reply)

    def get_order(
        self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None, known_payments: int | None = None
    ) -> OrderUpdate:
        """GET /v1/orders/{id}, long-polling when ``wait`` > 0."""
        params: dict[str, Any] = {}
        if wait > 0:
            params["wait"] = int(wait)
            if known is not None:
                params["known"] = str(known)
            if known_payments is not None:
                params["known_payments"] = known_payments
        reply = self._call("GET", f"/v1/orders/{quote(order_id, safe='')}", params=params, extra_time=wait)
        return parse_update(reply)

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """POST /v1/orders/{id}/cancel; a 409 carrying the (paid) order is an answer, not an error."""
        try:
            reply = self._call("POST", f"/v1/orders/{quote(order_id, safe='')}/cancel", json={})
        except HttpError as exc:
            if exc.status == 409 and isinstance(exc.body, dict) and "id" in exc.body:
                return parse_update(exc.body)
            raise
        return parse_update(reply)

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """POST /v1/orders/{id}/refunds with our refund id as Idempotency-Key."""
        body = {"amount": amount_json(amount), "reason": reason}
        path = f"/v1/orders/{quote(order_id, safe='')}/refunds"
        return parse_refund(self._call("POST", path, json=body, headers={"Idempotency-Key": refund_id}))

    def settlement(self, date: str) -> Settlement | None:
        """GET /v1/settlements?date=YYYY-MM-DD (None when the backend has no such endpoint: 404)."""
        try:
            return parse_settlement(self._call("GET", "/v1/settlements", params={"date": date}))
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise

    def history(self, since: datetime) -> list[tuple[str, OrderUpdate]]:
        """GET /v1/orders?since=…&limit=100, paged by ``since``."""
        found: dict[str, tuple[str, OrderUpdate]] = {}
        after = time_json(since)
        for _ in range(50):  # at most 5000 orders: a terminal's backlog, not an archive
            reply = self._call("GET", "/v1/orders", params={"since": after, "limit": 100})
            page = reply.get("orders") if isinstance(reply, dict) else None
            if not isinstance(page, list):
                raise bad_reply("GET /v1/orders: 'orders' must be a list")
            fresh = [o for o in page if isinstance(o, dict) and o.get("id") not in found]
            for order in fresh:
                reference = order.get("reference")
                if isinstance(reference, str):
                    found[order["id"]] = (reference, parse_update(order))
            if len(page) < 100 or not fresh:
                break
            after = str(page[-1].get("created_at") or after)
        return list(found.values())

    def heartbeat(self, facts: dict[str, Any]) -> None:
        """POST /v1/heartbeats (a hub's contract v1.1 addition): the terminal's facts for the owner's dashboard."""
        self._call("POST", "/v1/heartbeats", json=facts)

    def connect_ahead(self) -> None:
        self._http.connect_ahead()

    def probe(self) -> None:
        """GET /v1/orders?limit=1: the cheapest call of the contract that needs the token."""
        self._call("GET", "/v1/orders", params={"limit": 1})

    def close(self) -> None:
        """Close every thread's session."""
        self._http.close()

    def _call(self, method: str, path: str, *, extra_time: float = 0, **kwargs: Any) -> Any:
        return self._http.call(method, path, extra_time=extra_time, **kwargs)


__all__ = ["HttpBackend", "check_url", "is_loopback"]

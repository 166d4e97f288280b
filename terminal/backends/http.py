"""Backend contract v1 over HTTP(S) with requests: a timeout on every call, Idempotency-Key on create,
long-poll with ``wait``/``known``. Every failure becomes a :class:`BackendError` with a Problem."""

from __future__ import annotations

import ipaddress
import threading
import weakref
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from terminal import __version__
from terminal.backends.base import BackendError, bad_reply
from terminal.backends.contract import (
    amount_json,
    error_message,
    parse_order,
    parse_refund,
    parse_settlement,
    parse_update,
    time_json,
)
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate, ProviderRefund, Settlement
from terminal.core.problems import Problem, ProblemKind


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8, ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_plain_http: bool = False) -> str | None:
    """None when ``url`` is an acceptable backend base URL, else why not (for the config error)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an http(s) URL such as https://pay.example.com"
    if parts.scheme == "http" and not allow_plain_http and not is_loopback(parts.hostname):
        return "https (plain http only to 127.0.0.1/localhost, or set backend.allow_plain_http = true)"
    return None


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
        problem = check_url(base_url, allow_plain_http=allow_plain_http)
        if problem:
            raise ValueError(f"backend url {base_url!r}: expected {problem}")
        self.base_url = base_url.rstrip("/")
        self.sandbox = sandbox
        self._token = token
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._verify: bool | str = ca_file or True
        # requests.Session is not thread-safe; each worker thread gets its own (keep-alive per thread).
        self._local = threading.local()
        # Weak: a watcher thread's session goes away with its thread.
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._lock = threading.Lock()

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

    def get_order(self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None) -> OrderUpdate:
        """GET /v1/orders/{id}, long-polling when ``wait`` > 0."""
        params: dict[str, Any] = {}
        if wait > 0:
            params["wait"] = int(wait)
            if known is not None:
                params["known"] = str(known)
        reply = self._call("GET", f"/v1/orders/{quote(order_id, safe='')}", params=params, extra_time=wait)
        return parse_update(reply)

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """POST /v1/orders/{id}/cancel; a 409 carrying the (paid) order is an answer, not an error."""
        try:
            reply = self._call("POST", f"/v1/orders/{quote(order_id, safe='')}/cancel", json={})
        except _Conflict as conflict:
            return parse_update(conflict.body)
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
        except BackendError as exc:
            if exc.problem.kind is ProblemKind.REJECTED and "HTTP 404" in exc.problem.detail:
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

    def probe(self) -> None:
        """GET /v1/orders?limit=1: the cheapest call of the contract that needs the token."""
        self._call("GET", "/v1/orders", params={"limit": 1})

    def close(self) -> None:
        """Close every thread's session."""
        with self._lock:
            for session in list(self._sessions):
                session.close()
            self._sessions.clear()

    # --- transport --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self._token}"
            session.headers["User-Agent"] = f"qr-terminal/{__version__}"
            session.verify = self._verify
            self._local.session = session
            with self._lock:
                self._sessions.add(session)
        return session

    def _call(self, method: str, path: str, *, extra_time: float = 0, **kwargs: Any) -> Any:
        timeout = (self._connect_timeout, self._timeout + extra_time)
        try:
            response = self._session().request(method, self.base_url + path, timeout=timeout, **kwargs)
        except requests.Timeout as exc:
            raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: {exc}")) from None
        except requests.ConnectionError as exc:
            raise BackendError(Problem(ProblemKind.UNREACHABLE, f"{method} {path}: {_short(exc)}")) from None
        except requests.RequestException as exc:
            raise BackendError(Problem(ProblemKind.UNREACHABLE, f"{method} {path}: {_short(exc)}")) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if 200 <= status < 300:
            if body is None:
                raise bad_reply(f"{method} {path}: HTTP {status} with a body that is not JSON")
            return body
        detail = f"{method} {path}: HTTP {status} {error_message(body)}".rstrip()
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 409:
            if isinstance(body, dict) and "id" in body:
                raise _Conflict(body)
            raise BackendError(Problem(ProblemKind.CONFLICT, detail))
        if status in (401, 403):
            raise BackendError(Problem(ProblemKind.UNAUTHORISED, detail))
        if status == 429 or status >= 500:
            raise BackendError(Problem(ProblemKind.SERVER, detail, retry_after))
        raise BackendError(Problem(ProblemKind.REJECTED, detail))


class _Conflict(BackendError):
    """A 409 whose body is the order itself (cancel on a paid order)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(Problem(ProblemKind.CONFLICT, "order already final"))
        self.body = body


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        return None  # an HTTP date: rare from APIs; the caller's own backoff applies


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"

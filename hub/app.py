"""The hub's HTTP face: contract v1.1 for terminals (signed), provider webhooks (verified), the simulated
provider's customer page, fleet endpoints (admin token), on Starlette under uvicorn.

Starlette, not FastAPI or Litestar: every request here must be read as raw bytes before anything parses it (an
HMAC is over the exact body), errors have the contract's own shape, and validation is the contract's own code
(``hub/contract.py``, the hub's own reading of docs/backend-contract.md, shared with neither the terminal's client
nor the sandbox) — a model layer would be a second, competing validator. Starlette is the small, well-kept
ASGI toolkit both of the others are built on, with two dependencies.

Database calls are synchronous SQLAlchemy Core in worker threads; long-polls wait on asyncio events (no thread and
no connection held while waiting), so one process keeps thousands of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, ParamSpec, TypeAlias, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub import db as t
from hub import webhooks
from hub.contract import ContractError, error_json
from hub.dashboard import routes as dashboard_routes
from hub.db import Database, OrderRow
from hub.fleet import Fleet
from hub.ledger import Fact, Ledger, fact_of
from hub.providers import credited_event, provider_from
from hub.wake import Wakeups
from terminal.backends.base import BackendError
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus

if TYPE_CHECKING:
    from hub.dashboard.web import Dashboard

log = logging.getLogger(__name__)

#: A decoded JSON body (what json.loads returns), and the handlers a route is made of.
Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None
Endpoint: TypeAlias = Callable[[Request], Awaitable[Response]]
Signed: TypeAlias = Callable[[Request, str, Json], Awaitable[Response]]
P = ParamSpec("P")
R = TypeVar("R")

#: Request bodies: a terminal's are small; a provider's events can carry more.
TERMINAL_BODY_LIMIT = 64 * 1024
WEBHOOK_BODY_LIMIT = 256 * 1024


@dataclass
class Settings:
    """How one hub process runs (``qr-hub serve`` fills it from its options and secrets)."""

    db_url: str
    provider: str = "sim"
    provider_url: str | None = None
    stripe_method: str = "promptpay"
    public_url: str = "http://127.0.0.1:8780"
    #: razorpay_webhook_secret, stripe_webhook_secret, admin_token, provider keys.
    secrets: dict[str, str] = field(default_factory=dict)
    #: Ask the provider about orders still pending this long after creation, every ``reconcile_every`` s.
    reconcile_after: float = 120.0
    reconcile_every: float = 30.0
    #: Per-terminal rate limit: a bucket of ``burst`` requests refilled at ``rate`` per second.
    rate: float = 20.0
    burst: int = 40
    max_wait: float = 60.0
    #: A long-poll re-reads its order at least this often even when nothing woke it (a NOTIFY lost with a
    #: dropped LISTEN connection costs seconds, not the sale).
    reread: float = 5.0
    #: The chain's time zone (an IANA name): the dashboard's days and hours. The contract with terminals and its
    #: settlement stay in UTC.
    timezone: str = "UTC"


class RateLimits:
    """A token bucket per terminal (per replica: a fleet behind N replicas allows up to N times the rate)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, who: str) -> None:
        """Spend one request of ``who``'s bucket; 429 when it is empty."""
        now = self._clock()
        tokens, last = self._buckets.get(who, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[who] = (tokens, now)
            raise ContractError(429, "rate_limited", f"too many requests from {who}; slow down")
        self._buckets[who] = (tokens - 1, now)


class Hub:
    """One hub process: its database, terminals, orders, wake-ups and the ASGI app."""

    #: The owner's pages (set by :func:`hub.dashboard.routes` when the routes are made).
    dashboard: Dashboard

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.db_url)
        self.wakeups = Wakeups()
        self.provider = provider_from(
            settings.provider,
            settings.secrets,
            api_base=settings.provider_url,
            public_url=settings.public_url,
            stripe_method=settings.stripe_method,
        )
        self.fleet = Fleet(self.db, clock=clock)
        self.ledger = Ledger(self.db, self.provider, clock=clock, changed=self.wakeups.wake)
        self.limits = RateLimits(settings.rate, settings.burst)
        self.enroll_limits = RateLimits(0.2, 10)  # per client address: codes cannot be guessed at speed
        self._razorpay_secret = settings.secrets.get("razorpay_webhook_secret") or (
            secrets.token_hex(16) if settings.provider == "sim" else None
        )
        self.app = Starlette(
            routes=self._routes(), lifespan=self._lifespan, exception_handlers={404: _no_route, 405: _no_route}
        )

    # --- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        signed = self._signed
        return [
            Route("/v1/enroll", self._guard(self.enroll), methods=["POST"]),
            Route("/v1/orders", signed(self.create), methods=["POST"]),
            Route("/v1/orders", signed(self.history), methods=["GET"]),
            Route("/v1/orders/{order_id}", signed(self.get), methods=["GET"]),
            Route("/v1/orders/{order_id}/cancel", signed(self.cancel), methods=["POST"]),
            Route("/v1/orders/{order_id}/refunds", signed(self.refund), methods=["POST"]),
            Route("/v1/settlements", signed(self.settlement), methods=["GET"]),
            Route("/v1/heartbeats", signed(self.heartbeat), methods=["POST"]),
            Route("/webhooks/razorpay", self._guard(self.razorpay_webhook), methods=["POST"]),
            Route("/webhooks/stripe", self._guard(self.stripe_webhook), methods=["POST"]),
            Route("/pay/{qr_id}", self._guard(self.pay_page), methods=["GET"]),
            Route("/pay/{qr_id}/{action}", self._guard(self.pay_action), methods=["POST"]),
            Route("/sim/orders/{order_id}/pay", self._guard(self.sim_pay), methods=["POST"]),
            Route("/fleet/terminals", self._admin(self.fleet_terminals), methods=["GET"]),
            Route("/fleet/terminals/{terminal_id}/heartbeats", self._admin(self.fleet_heartbeats), methods=["GET"]),
            Route("/fleet/orders", self._admin(self.fleet_orders), methods=["GET"]),
            Route("/fleet/settlements", self._admin(self.fleet_settlement), methods=["GET"]),
            Route("/healthz", self._guard(self.health), methods=["GET"]),
            *dashboard_routes(self),
        ]

    async def enroll(self, request: Request) -> Response:
        """POST /v1/enroll {"code"} → {"terminal_id", "secret", "shop"} (once per code)."""
        self.enroll_limits.take(request.client.host if request.client else "?")
        data = _json(await _body(request, 4096))
        return JSONResponse(await run(self.fleet.enroll, data.get("code") if isinstance(data, dict) else None))

    async def create(self, request: Request, terminal: str, data: Json) -> Response:
        order, created = await run(self.ledger.create, terminal, request.headers.get("Idempotency-Key"), data)
        return JSONResponse(order, 201 if created else 200)

    async def get(self, request: Request, terminal: str, data: Json) -> Response:
        """GET /v1/orders/{id}?wait=&known=&known_payments=: answers when the status is not ``known`` or (v1.1) the
        number of payments is not ``known_payments`` (an underpaid order paid again, a QR paid twice), or after
        ``wait`` s."""
        order_id = _path(request, "order_id")
        wait = min(float(_int(request.query_params.get("wait", "0"), "wait")), self.settings.max_wait)
        known = request.query_params.get("known")
        counted = request.query_params.get("known_payments")
        known_payments = None if counted is None else _int(counted, "known_payments")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        with self.wakeups.waiter(f"order:{order_id}", f"terminal:{terminal}") as waiter:
            while True:
                waiter.event.clear()
                order = await run(self.ledger.get, terminal, order_id)
                left = deadline - loop.time()
                news = known_payments is not None and len(order["payments"]) != known_payments
                if known is None or order["status"] != known or news or left <= 0 or self.wakeups.closing:
                    return JSONResponse(order)
                expires = datetime.fromisoformat(order["expires_at"].replace("Z", "+00:00")).timestamp()
                slice_ = min(left, self.settings.reread)
                if order["status"] == "pending":
                    slice_ = min(slice_, max(0.05, expires - self.clock() + 0.05))
                await waiter.wait(slice_)
                if await run(self.fleet.is_revoked, terminal):
                    raise ContractError(403, "revoked", f"terminal {terminal} was revoked at the hub")

    async def cancel(self, request: Request, terminal: str, data: Json) -> Response:
        try:
            return JSONResponse(await run(self.ledger.cancel, terminal, _path(request, "order_id")))
        except ContractError as exc:
            if exc.status == 409 and exc.body:
                return JSONResponse(exc.body, 409)
            raise

    async def refund(self, request: Request, terminal: str, data: Json) -> Response:
        refund, created = await run(
            self.ledger.refund, terminal, _path(request, "order_id"), request.headers.get("Idempotency-Key"), data
        )
        return JSONResponse(refund, 201 if created else 200)

    async def history(self, request: Request, terminal: str, data: Json) -> Response:
        query = request.query_params
        orders = await run(
            self.ledger.history, {"terminal": terminal}, query.get("since"), _int(query.get("limit", "100"), "limit")
        )
        return JSONResponse({"orders": orders})

    async def settlement(self, request: Request, terminal: str, data: Json) -> Response:
        query = request.query_params
        return JSONResponse(
            await run(self.ledger.settlement, {"terminal": terminal}, query.get("date", ""), query.get("currency"))
        )

    async def heartbeat(self, request: Request, terminal: str, data: Json) -> Response:
        return JSONResponse(await run(self.fleet.heartbeat, terminal, data), 201)

    # --- webhooks -----------------------------------------------------------------------------

    async def razorpay_webhook(self, request: Request) -> Response:
        """Verified, then applied once. 400 and nothing changes for a bad signature or body."""
        if not self._razorpay_secret:
            raise ContractError(404, "not_configured", "no razorpay_webhook_secret in the hub's secrets")
        body = await _body(request, WEBHOOK_BODY_LIMIT)
        return await self._razorpay(
            body, request.headers.get("X-Razorpay-Signature"), request.headers.get("X-Razorpay-Event-Id")
        )

    async def _razorpay(self, body: bytes, signature: str | None, event_id: str | None) -> Response:
        assert self._razorpay_secret is not None
        try:
            webhooks.verify_razorpay(self._razorpay_secret, body, signature)
            event = webhooks.parse_event(body)
            if event_id is not None and not 0 < len(event_id) <= 200:
                raise webhooks.WebhookError("X-Razorpay-Event-Id is empty or longer than 200 characters")
            fact = webhooks.razorpay_fact(event, event_id or _digest_id(body))
        except webhooks.WebhookError as exc:
            raise ContractError(400, "bad_webhook", str(exc)) from None
        return await self._apply(fact)

    async def stripe_webhook(self, request: Request) -> Response:
        secret = self.settings.secrets.get("stripe_webhook_secret")
        if not secret:
            raise ContractError(404, "not_configured", "no stripe_webhook_secret in the hub's secrets")
        body = await _body(request, WEBHOOK_BODY_LIMIT)
        try:
            webhooks.verify_stripe(secret, body, request.headers.get("Stripe-Signature"), self.clock())
            fact = webhooks.stripe_fact(webhooks.parse_event(body))
        except webhooks.WebhookError as exc:
            raise ContractError(400, "bad_webhook", str(exc)) from None
        return await self._apply(fact)

    async def _apply(self, fact: Fact | None) -> Response:
        if fact is None:
            return JSONResponse({"outcome": "ignored (an event the hub does not use)"})
        return JSONResponse({"outcome": await run(self.ledger.apply, fact)})

    # --- the simulated provider's customer page and helper --------------------------------------

    async def pay_page(self, request: Request) -> Response:
        row = await run(self._sim_order, _path(request, "qr_id"))
        buttons = ""
        if row.status == "pending":
            buttons = "".join(
                f'<form method="post" action="/pay/{row.provider_id}/{a}"><button class="{a}">'
                f"{a.title()}</button></form>"
                for a in ("pay", "decline")
            )
        page = _template().format(
            amount=html.escape(Amount(row.amount, row.currency).format()),
            payee=html.escape(row.payee_name or ""),
            payee_id=html.escape(row.payee_id or ""),
            reference=html.escape(row.reference),
            status_text=html.escape(row.status),
            buttons=buttons,
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def pay_action(self, request: Request) -> Response:
        qr_id, action = _path(request, "qr_id"), _path(request, "action")
        row = await run(self._sim_order, qr_id)
        if action == "pay":
            await self._sim_credit(qr_id, Amount(row.amount, row.currency))  # qr_id is the row's provider_id
        elif action == "decline":
            await run(
                self.ledger.apply,
                Fact("sim", qr_id, status=OrderStatus.FAILED, failure=("declined", "The customer declined.")),
            )
        else:
            raise ContractError(404, "not_found", "use the page's buttons")
        return RedirectResponse(f"/pay/{qr_id}", 303)

    async def sim_pay(self, request: Request) -> Response:
        """POST /sim/orders/{id}/pay [{"amount": minor}]: the customer pays (tests, demos)."""
        data = _json(await _body(request, 4096)) or {}
        order = await run(self.ledger.get, None, _path(request, "order_id"))
        if self.settings.provider != "sim" or not order.get("qr"):
            raise ContractError(404, "not_found", "only the simulated provider's orders can be paid here")
        minor = data.get("amount", order["amount"]["value"]) if isinstance(data, dict) else order["amount"]["value"]
        if type(minor) is not int:
            raise ContractError(400, "invalid_amount", "'amount' must be an integer of minor units")
        provider_id = order["qr"]["payload"].split("/pay/", 1)[1].split("?", 1)[0]
        return await self._sim_credit(provider_id, Amount(minor, order["amount"]["currency"]))

    async def _sim_credit(self, qr_id: str, amount: Amount) -> Response:
        """A signed Razorpay-shaped event, through the same verification as one from outside."""
        event_id, body = credited_event(qr_id, amount, now=self.clock())
        assert self._razorpay_secret is not None
        return await self._razorpay(body, webhooks.razorpay_signature(self._razorpay_secret, body), event_id)

    def _sim_order(self, qr_id: str) -> OrderRow:
        with self.db.transaction() as conn:
            row = conn.execute(
                select(t.orders).where(t.orders.c.provider_id == qr_id, t.orders.c.provider == "sim")
            ).first()
        if row is None or self.settings.provider != "sim":
            raise ContractError(404, "not_found", f"no simulated order {qr_id!r}")
        return OrderRow.of(row)

    # --- fleet (admin token) ------------------------------------------------------------------

    async def fleet_terminals(self, request: Request) -> Response:
        return JSONResponse({"terminals": await run(self.fleet.terminals, request.query_params.get("shop"))})

    async def fleet_heartbeats(self, request: Request) -> Response:
        limit = _int(request.query_params.get("limit", "100"), "limit")
        beats = await run(self.fleet.heartbeats, _path(request, "terminal_id"), limit)
        return JSONResponse({"heartbeats": beats})

    async def fleet_orders(self, request: Request) -> Response:
        query = request.query_params
        orders = await run(
            self.ledger.history, _fleet_scope(request), query.get("since"), _int(query.get("limit", "100"), "limit")
        )
        return JSONResponse({"orders": orders})

    async def fleet_settlement(self, request: Request) -> Response:
        query = request.query_params
        return JSONResponse(
            await run(self.ledger.settlement, _fleet_scope(request), query.get("date", ""), query.get("currency"))
        )

    async def health(self, request: Request) -> Response:
        await run(self._ping)
        return JSONResponse({"ok": True, "waiting": self.wakeups.waiting})

    def _ping(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(select(1))

    # --- plumbing -----------------------------------------------------------------------------

    def _guard(self, handler: Endpoint) -> Endpoint:
        """Every failure becomes the contract's error JSON: never a traceback, a dead database is a clear 503."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ContractError as exc:
                return _error(exc.status, exc.code, exc.message)
            except (OperationalError, InterfaceError, PoolTimeout) as exc:
                log.warning("database unavailable: %s", str(exc).splitlines()[0])
                return _error(
                    503,
                    "database_unavailable",
                    "the hub's database is not reachable; retry shortly (the request was not applied)",
                )
            except ClientDisconnect:
                return Response(status_code=400)
            except Exception:
                log.exception("unexpected error in %s %s", request.method, request.url.path)
                return _error(500, "internal", "the hub failed unexpectedly; retry (its log says why)")

        return endpoint

    def _signed(self, handler: Signed) -> Endpoint:
        """A terminal's request: size-limited, signature and freshness checked, rate-limited, JSON-decoded."""

        async def endpoint(request: Request) -> Response:
            body = await _body(request, TERMINAL_BODY_LIMIT)
            raw_path: bytes = request.scope.get("raw_path", b"")
            query: bytes = request.scope.get("query_string", b"")
            path = raw_path.decode("latin-1") or request.url.path
            if query:
                path += "?" + query.decode("latin-1")
            terminal = await run(self.fleet.authenticate, request.method, path, request.headers, body)
            self.limits.take(terminal)
            return await handler(request, terminal, _json(body))

        return self._guard(endpoint)

    def _admin(self, handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            token = self.settings.secrets.get("admin_token")
            given = request.headers.get("Authorization", "")
            if not token:
                raise ContractError(404, "not_configured", "no admin_token in the hub's secrets")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                raise ContractError(401, "unauthorised", "the fleet endpoints need the hub's admin token")
            return await handler(request)

        return self._guard(endpoint)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.wakeups.waiter().close()  # binds the wake-ups to this event loop
        if self.db.is_postgres:
            self.wakeups.listen(self.db.engine.url.set(drivername="postgresql").render_as_string(False))
        task = asyncio.create_task(self._maintain())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.wakeups.stop()
            self.provider.close()
            self.db.close()

    async def _maintain(self) -> None:
        """Every second: expire due orders, hear revocations made by other processes; now and then forget old
        nonces and ask the provider about orders pending too long (a webhook that never came)."""
        revoked_after = self.clock()
        last_reconcile = last_nonces = 0.0
        while True:
            await asyncio.sleep(1.0 if self.settings.reconcile_every >= 1 else self.settings.reconcile_every)
            try:
                await run(self.ledger.expire_due)
                now = self.clock()
                for terminal in await run(self.fleet.revoked_since, revoked_after - 2):
                    self.wakeups.wake(f"terminal:{terminal}")
                revoked_after = now
                if now - last_nonces > 60:
                    await run(self.fleet.forget_nonces)
                    last_nonces = now
                if self.settings.provider != "sim" and now - last_reconcile >= self.settings.reconcile_every:
                    last_reconcile = now
                    await run(self.reconcile)
            except (OperationalError, InterfaceError, PoolTimeout) as exc:
                log.warning("maintenance skipped, database unavailable: %s", str(exc).splitlines()[0])
            except Exception:
                log.exception("maintenance failed; trying again in a second")

    def reconcile(self) -> int:
        """Ask the provider about each order pending (or underpaid) past ``reconcile_after``; how many it changed."""
        now = self.clock()
        changed = 0
        for _order_id, provider_id in self.ledger.pending_since(now - self.settings.reconcile_after, now - 86400):
            try:
                said = self.provider.get_order(provider_id)
            except BackendError as exc:
                log.warning("reconcile: the provider did not answer for %s: %s", provider_id, exc.problem.detail)
                continue
            if self.ledger.apply(fact_of(self.provider.name, provider_id, said)) == "applied":
                changed += 1
        return changed


async def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args)`` in a worker thread (database and provider calls block)."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise ContractError(413, "too_large", f"the body is over {limit // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ContractError(413, "too_large", f"the body is over {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Json:
    if not body:
        return None
    try:
        parsed: Json = json.loads(body)
    except (ValueError, RecursionError):
        raise ContractError(400, "invalid_json", "the body is not JSON (or nested too deep)") from None
    return parsed


def _path(request: Request, name: str) -> str:
    """A path parameter of the route, as the str it is (the hub's routes use Starlette's default str convertor;
    its ``path_params`` are typed Any)."""
    return str(request.path_params[name])


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ContractError(400, "invalid_request", f"{name} must be a whole number") from None


def _fleet_scope(request: Request) -> dict[str, str]:
    return {k: v for k in ("terminal", "shop") if (v := request.query_params.get(k))}


def _digest_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def _no_route(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return _error(
        status, "not_found" if status == 404 else "method_not_allowed", f"no route {request.method} {request.url.path}"
    )


def _error(status: int, code: str, message: str) -> JSONResponse:
    headers = {"Retry-After": "1" if status == 429 else "2"} if status in (429, 503) else None
    return JSONResponse(error_json(code, message), status, headers=headers)


_PAGE: str | None = None


def _template() -> str:
    global _PAGE
    if _PAGE is None:  # the sandbox's customer page, reused
        _PAGE = resources.files("terminal.sandbox").joinpath("pay.html").read_text("utf-8")
    return _PAGE

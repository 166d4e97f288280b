"""``qr-terminal sandbox``: backend contract v1 over HTTP (stdlib ``http.server``, one thread per request,
so long-polls do not block each other), the customer page and the test helpers."""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from terminal.core.orders import Payee
from terminal.sandbox.book import SAMPLE_PAYEE_IDS, SCHEMES, TAMPERS, OrderBook, SandboxError, amount_from_json

log = logging.getLogger(__name__)

#: The device token the sandbox accepts unless told otherwise (obviously not a secret).
DEFAULT_TOKEN = "sandbox-device-token"


def sample_payee(scheme: str) -> Payee:
    """The sandbox's payee for ``scheme``: Demo Shop with an id of the shape that scheme uses."""
    return Payee(name="Demo Shop", id=SAMPLE_PAYEE_IDS[scheme])


_ORDER = re.compile(r"^/v1/orders/([A-Za-z0-9_-]+)$")
_ORDER_ACTION = re.compile(r"^/v1/orders/([A-Za-z0-9_-]+)/(cancel|refunds)$")
_PAGE = re.compile(r"^/pay/([A-Za-z0-9_-]+)(?:/(pay|decline))?$")
_HELPER = re.compile(r"^/sandbox/orders/([A-Za-z0-9_-]+)/(pay|fail|expire)$")
_TAMPER = "/sandbox/tamper"


@dataclass
class Fault:
    """A planned misbehaviour for the next ``count`` requests to ``route`` (create, get, cancel, refund).

    ``status`` 0 means "answer normally, after ``delay``" (a slow network); else that status and ``body``.
    """

    route: str
    count: int = 1
    status: int = 500
    body: str = '{"error": {"code": "injected", "message": "injected fault"}}'
    delay: float = 0.0


class Sandbox(ThreadingHTTPServer):
    """The sandbox server. ``url`` is where the terminal reaches it; QR links use ``public_url``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_host: str | None = None,
        token: str = DEFAULT_TOKEN,
        payee: Payee | None = None,
        scheme: str = "url",
        book: OrderBook | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        bound_port = self.server_address[1]
        connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.url = f"http://{connect_host}:{bound_port}"
        self.public_url = f"http://{public_host or connect_host}:{bound_port}"
        self.token = token
        if scheme not in SCHEMES:
            raise ValueError(f"sandbox QR scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        # ``book``: the orders of an earlier run (a backend restarted with its database).
        self.book = book or OrderBook(payee=payee or sample_payee(scheme), pay_base=self.public_url, scheme=scheme)
        self.faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._connections: set[Any] = set()
        self._thread: threading.Thread | None = None
        #: Set by stop(): long-polls answer at once.
        self.stopped = threading.Event()

    def start(self) -> Sandbox:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (a backend going down drops its keep-alive clients too)."""
        self.stopped.set()
        self.shutdown()
        self.server_close()
        self.book.wake_waiters()
        with self._faults_lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request (a terminal losing power) is normal here, not a traceback.
        log.debug("request from %s ended badly", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._faults_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._faults_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: Fault) -> None:
        """Misbehave on purpose (tests, demos): the next requests to ``fault.route`` get ``fault``."""
        with self._faults_lock:
            self.faults.append(fault)

    def take_fault(self, route: str) -> Fault | None:
        """The planned fault for this request to ``route``, if any."""
        with self._faults_lock:
            for fault in self.faults:
                if fault.route == route and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None


def lan_address() -> str:
    """This machine's address on the LAN (the interface of the default route), without sending anything."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect only picks a route; nothing is sent
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    server: Sandbox
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits ~40 ms for
    # the delayed ACK before the body arrives.
    disable_nagle_algorithm = True
    # Buffered: the headers and the body leave in one write (one segment, one wake-up of the client) when the
    # answer is flushed, not in two.
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # --- dispatch -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body()
            if url.path.startswith("/v1/"):
                self._authorise()
                self._api(method, url.path, query, body)
            elif (m := _PAGE.match(url.path)) is not None:
                self._page(method, m.group(1), m.group(2))
            elif method == "POST" and (m := _HELPER.match(url.path)) is not None:
                self._helper(m.group(1), m.group(2), body)
            elif method == "POST" and url.path == _TAMPER:
                self._tamper(body)
            elif method == "POST" and url.path == "/sandbox/payments":
                options = body if isinstance(body, dict) else {}
                reference = options.get("reference")
                if not isinstance(reference, str) or not reference:
                    raise SandboxError(400, "invalid_request", "'reference' must be a non-empty string")
                self._json(
                    201, self.server.book.record_payment(reference, amount_from_json(options.get("amount"), "amount"))
                )
            else:
                raise SandboxError(404, "not_found", f"no route {method} {url.path}")
        except SandboxError as exc:
            self._json(exc.status, exc.body or {"error": {"code": exc.code, "message": exc.message}})

    def _api(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        book = self.server.book
        if method == "POST" and path == "/v1/orders":
            if self._fault("create"):
                return
            order, created = book.create(self.headers.get("Idempotency-Key"), body)
            self._json(201 if created else 200, order)
        elif method == "GET" and path == "/v1/orders":
            limit = _int(query.get("limit", "100"), "limit")
            self._json(200, {"orders": book.history(query.get("since"), limit)})
        elif method == "GET" and path == "/v1/settlements":
            date = query.get("date", "")
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                raise SandboxError(400, "invalid_request", "date must be YYYY-MM-DD")
            self._json(200, book.settlement(date))
        elif method == "GET" and (m := _ORDER.match(path)):
            if self._fault("get"):
                return
            wait = _int(query.get("wait", "0"), "wait")
            counted = _int(query["known_payments"], "known_payments") if "known_payments" in query else None
            self._json(
                200,
                book.get(
                    m.group(1), wait=wait, known=query.get("known"), known_payments=counted, stop=self.server.stopped
                ),
            )
        elif method == "POST" and (m := _ORDER_ACTION.match(path)):
            if m.group(2) == "cancel":
                if self._fault("cancel"):
                    return
                self._json(200, book.cancel(m.group(1)))
            else:
                if self._fault("refund"):
                    return
                refund, created = book.refund(m.group(1), self.headers.get("Idempotency-Key"), body)
                self._json(201 if created else 200, refund)
        else:
            raise SandboxError(404, "not_found", f"no route {method} {path}")

    def _helper(self, order_id: str, action: str, body: Any) -> None:
        book = self.server.book
        options = body if isinstance(body, dict) else {}
        if action == "pay":
            amount, currency = options.get("amount"), options.get("currency")
            if amount is not None and type(amount) is not int:
                raise SandboxError(400, "invalid_amount", "'amount' must be an integer of minor units")
            if currency is not None and not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
                raise SandboxError(400, "invalid_amount", "'currency' must be an ISO 4217 code such as INR")
            # When the payment was recorded, on this machine's monotonic clock (shared by every process): the bench
            # times paid→screen from this moment, not from when the helper's reply reached the caller.
            recorded = time.monotonic()
            paid = book.pay(order_id, amount, currency=currency)
            self._json(200, paid, headers={"X-Sandbox-Recorded-Monotonic": f"{recorded:.6f}"})
        elif action == "fail":
            self._json(
                200,
                book.fail(
                    order_id,
                    str(options.get("code", "declined")),
                    str(options.get("message", "The customer declined.")),
                ),
            )
        else:
            self._json(200, book.expire(order_id))

    def _tamper(self, body: Any) -> None:
        what = body.get("what") if isinstance(body, dict) else None
        if what is not None and what not in TAMPERS:
            raise SandboxError(400, "invalid_request", f"'what' must be one of {', '.join(TAMPERS)} or null")
        self.server.book.tamper = what
        self._json(200, {"tamper": what})

    def _page(self, method: str, order_id: str, action: str | None) -> None:
        book = self.server.book
        if method == "POST" and action == "pay":
            book.pay(order_id)
        elif method == "POST" and action == "decline":
            book.fail(order_id)
        elif method != "GET" or action is not None:
            raise SandboxError(405, "method_not_allowed", "use the page's buttons")
        if method == "POST":
            self.send_response(303)
            self.send_header("Location", f"/pay/{order_id}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        order = book.order_for_page(order_id)
        buttons = ""
        if order.status == "pending":
            buttons = (
                f'<form method="post" action="/pay/{order.id}/pay"><button class="pay">Pay</button></form>'
                f'<form method="post" action="/pay/{order.id}/decline">'
                '<button class="decline">Decline</button></form>'
            )
        texts = {
            "pending": "Waiting for you to pay",
            "paid": "Paid ✔",
            "failed": "Declined",
            "expired": "Expired",
            "cancelled": "Cancelled by the shop",
        }
        page = _template().format(
            amount=html.escape(order.amount.format()),
            payee=html.escape(book.payee.name),
            payee_id=html.escape(book.payee.id),
            reference=html.escape(order.reference),
            status_text=html.escape(texts.get(order.status, order.status)),
            buttons=buttons,
        )
        self._send(200, page.encode(), "text/html; charset=utf-8")

    # --- plumbing -------------------------------------------------------------------------------

    def _authorise(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            raise SandboxError(401, "unauthorised", "missing or wrong device token")

    def _fault(self, route: str) -> bool:
        fault = self.server.take_fault(route)
        if fault is None:
            return False
        if fault.delay:
            self.server.stopped.wait(fault.delay)  # a stopping server answers at once
        if fault.status == 0:
            return False
        self._send(fault.status, fault.body.encode(), "application/json")
        return True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            raise SandboxError(413, "too_large", "request body over 64 KiB")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        if self.headers.get_content_type() == "application/x-www-form-urlencoded":
            return {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        try:
            return json.loads(raw)
        except ValueError:
            raise SandboxError(400, "invalid_json", "the body is not JSON") from None

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        try:
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away before the answer (a long-poll abandoned)")


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SandboxError(400, "invalid_request", f"{name} must be a whole number") from None


_PAGE_TEMPLATE: str | None = None


def _template() -> str:
    global _PAGE_TEMPLATE
    if _PAGE_TEMPLATE is None:
        _PAGE_TEMPLATE = resources.files("terminal.sandbox").joinpath("pay.html").read_text("utf-8")
    return _PAGE_TEMPLATE

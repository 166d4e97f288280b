"""The plumbing of the local servers that play Razorpay and Stripe (``fake_razorpay.py``, ``fake_stripe.py``):
real HTTP servers on 127.0.0.1, every request recorded, faults injected per path (429 with Retry-After, 409 "still
processing"), idempotent replay. Each provider's fake answers with that provider's published shapes and cites
where each shape comes from."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: Test keys: plainly fake, in the providers' formats.
RAZORPAY_KEY_ID = "rzp_test_qrterminalfixture"
RAZORPAY_KEY_SECRET = "fixture-secret-not-real"
STRIPE_KEY = "sk_test_qrterminal_fixture_not_real"


@dataclass
class Fault:
    """The next ``count`` requests whose path contains ``path`` (and whose method is ``method``, when given)
    answer ``status`` with the provider's error body for it (and ``Retry-After`` when ``retry_after`` is set)."""

    path: str
    status: int = 429
    count: int = 1
    retry_after: int | None = 1
    method: str | None = None


@dataclass
class Request:
    """One request as the fake received it: form fields keep their bracketed names and every value given."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Raw:
    """A reply that is not JSON: an image, a redirect."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ProviderError(Exception):
    """An error reply: its HTTP status and the provider's error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


class FakeProvider(ThreadingHTTPServer):
    """Common plumbing: routes, auth, faults, idempotency keys, every request recorded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.keys: dict[str, tuple[str, int, Any]] = {}  # idempotency key → (body, status, answer)

    def __enter__(self) -> FakeProvider:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.count > 0 and fault.method in (None, method):
                    fault.count -= 1
                    return fault
        return None

    def idempotent(self, key: str | None, body: Any, make: Any, conflict: dict[str, Any]) -> tuple[int, Any, bool]:
        """(status, answer, replayed): the same key and body → the same answer; another body → 400."""
        with self.lock:
            digest = json.dumps(body, sort_keys=True)
            if key and key in self.keys:
                known, status, answer = self.keys[key]
                if known != digest:
                    raise ProviderError(400, conflict)
                return status, copy.deepcopy(answer), True
            status, answer = make()
            if key:  # the answer as it was first given, as the providers replay it
                self.keys[key] = (digest, status, copy.deepcopy(answer))
            return status, answer, False

    def calls(self, method: str, path: str) -> list[Request]:
        """The requests received for ``method path`` (path exact)."""
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    # --- what each provider's fake implements ---

    def authorised(self, headers: Any) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> dict[str, Any]:
        raise NotImplementedError

    def error_for(self, status: int) -> dict[str, Any]:
        """The provider's error body for an injected fault of ``status``."""
        raise NotImplementedError

    def public(self, path: str) -> bool:
        """True for paths served without the API's authentication (a hosted image)."""
        return False

    def route(self, request: Request) -> tuple[int, Any] | Raw:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    server: FakeProvider

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        form: list[tuple[str, str]] = []
        if "json" in self.headers.get("Content-Type", ""):
            body: Any = json.loads(raw or b"{}")
        else:
            form = parse_qsl(raw.decode(), keep_blank_values=True)
            body = dict(form)
        request = Request(self.command, url.path, dict(self.headers), body, parse_qsl(url.query), form)
        self.server.requests.append(request)
        extra: dict[str, str] = {}
        fault = self.server.fault(self.command, url.path)
        answer: Any
        if fault is not None:
            status, answer = fault.status, self.server.error_for(fault.status)
            if fault.retry_after is not None:
                extra["Retry-After"] = str(fault.retry_after)
        elif not self.server.public(url.path) and not self.server.authorised(self.headers):
            status, answer = 401, self.server.unauthorised()
        else:
            try:
                routed = self.server.route(request)
            except ProviderError as exc:
                routed = exc.status, exc.body
            if isinstance(routed, Raw):
                return self._send(routed.status, routed.body, routed.headers)
            status, answer = routed
            if isinstance(answer, tuple):
                answer, replayed = answer
                if replayed:
                    extra["Idempotent-Replayed"] = "true"
        self._send(status, json.dumps(answer).encode(), {"Content-Type": "application/json", **extra})

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

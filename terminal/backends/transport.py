"""HTTPS for every backend (contract v1, Razorpay, Stripe) on the standard library's ``http.client``: one
kept-alive connection per thread and API (TLS sessions reused), a timeout on every call and on each reply as a
whole, TLS verified, no redirect followed, replies read up to a size limit, and every failure turned into a
BackendError whose Problem says what kind of trouble it is — never a library exception.

Why not requests (which the CLI tools still use): measured on this project's build machine, requests with urllib3
adds 5.6 MB to the terminal's memory and 33 ms to its start, and takes 0.78 ms of a loopback create where
``http.client`` takes 0.27 ms; the terminal needs none of what requests adds over it (cookies, proxies from the
environment, redirects, content decoding, .netrc). ``ssl`` (4 MB with OpenSSL) comes with
``http.client`` whatever the backend's scheme: a real backend is https anyway.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import json
import logging
import re
import select
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from terminal import __version__
from terminal.backends.base import BackendError, bad_reply
from terminal.core.problems import Problem, ProblemKind
from terminal.threads import at_thread_exit

if TYPE_CHECKING:
    import ssl

#: The largest reply read (contract replies are a few kB; a history page of 100 orders well under this).
MAX_REPLY_BYTES = 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes '²', which int() refuses
#: A server's Retry-After is obeyed up to this many seconds: a larger one (or a date next week) is not.
MAX_RETRY_AFTER = 60.0

log = logging.getLogger(__name__)


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


class HttpError(BackendError):
    """An HTTP status outside 2xx, with the decoded body (None when it was not JSON)."""

    def __init__(self, problem: Problem, status: int, body: Any) -> None:
        super().__init__(problem)
        self.status = status
        self.body = body


class Redirected(HttpError):
    """A 3xx answer. Redirects are never followed: the device token and the Idempotency-Key must not reach
    another origin, and a backend that moved is a configuration change, not something to accept silently."""

    def __init__(self, method: str, path: str, status: int, target: str) -> None:
        where = _short(target) if target else "nowhere (no Location header)"
        detail = f"{method} {path}: HTTP {status}: the backend redirected to {where}; redirects are not followed"
        super().__init__(Problem(ProblemKind.BAD_REPLY, detail), status, None)
        self.target = target


class TooLarge(BackendError):
    """A reply over :data:`MAX_REPLY_BYTES`: refused (read no further than the limit)."""


@dataclass
class Outgoing:
    """A request as it is about to be sent: what an auth hook (the hub's :class:`signing.Signer`) reads and signs;
    it may add headers. The same attribute names as requests' PreparedRequest, so one hook serves both."""

    method: str
    url: str
    path_url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


#: An auth hook: called with each :class:`Outgoing` request before it is sent (it adds its headers).
AuthHook = Callable[[Outgoing], object]


class Transport:
    """Calls to one API at ``base_url`` with fixed headers (authorisation); JSON answers."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        allow_plain_http: bool = False,
        ca_file: str | None = None,
        auth: AuthHook | tuple[str, str] | None = None,
        error_text: Callable[[Any], str] = lambda body: "",
    ) -> None:
        problem = check_url(base_url, allow_plain_http=allow_plain_http)
        if problem:
            raise ValueError(f"backend url {base_url!r}: expected {problem}")
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path
        # identity: replies are small JSON, and a compressed one could expand far past the size limit
        self._headers = {
            "User-Agent": f"qr-terminal/{__version__}",
            "Accept-Encoding": "identity",
            "Accept": "*/*",
            "Connection": "keep-alive",
            **headers,
        }
        if isinstance(auth, tuple):  # HTTP Basic (Razorpay's key id and secret)
            basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode("latin-1")).decode()
            self._headers["Authorization"] = f"Basic {basic}"
            auth = None
        self._auth = auth
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        self._error_text = error_text
        # An HTTPConnection is not thread-safe: each thread gets its own (kept alive between its calls).
        self._local = threading.local()
        # Every connection's socket, so that close() can end the calls in flight (a long-poll holds its thread
        # until the server answers: a stopping terminal must not wait for that).
        self._sockets = _Sockets()
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        *,
        extra_time: float = 0,
        json: Any = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The JSON body of a 2xx answer; HttpError for another status, BackendError for no answer."""
        read_timeout = self._timeout + extra_time
        outgoing = self._outgoing(method, path, json, data, params, headers)
        connection: http.client.HTTPConnection | None = None
        response: http.client.HTTPResponse | None = None
        try:
            connection = self._connection()
            assert connection.sock is not None
            connection.sock.settimeout(read_timeout)
            connection.request(method, outgoing.path_url, outgoing.body or None, outgoing.headers)
            response = connection.getresponse()
            status = response.status
            if 300 <= status < 400:  # refused before a byte of its body is read
                target = urljoin(outgoing.url, response.getheader("Location", ""))
                raise Redirected(method, path, status, target)
            content = self._read(response, method, path, time.monotonic() + self._connect_timeout + read_timeout)
            if response.will_close:
                connection.close()
        except TimeoutError as exc:
            _forget(connection, response)
            raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: {_short(exc) or 'timed out'}")) from None
        except BackendError:
            _forget(connection, response)
            raise
        except (OSError, http.client.HTTPException) as exc:  # refused, DNS, TLS, a dropped connection
            _forget(connection, response)
            raise BackendError(Problem(ProblemKind.UNREACHABLE, f"{method} {path}: {_describe(exc)}")) from None
        try:
            body = _json_loads(content) if content else None
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than Python recurses
            body = None
        if 200 <= status < 300:
            if body is None:
                raise bad_reply(f"{method} {path}: HTTP {status} with a body that is not JSON")
            return body
        detail = f"{method} {path}: HTTP {status} {self._error_text(body)}".rstrip()
        if status == 409:
            kind = ProblemKind.CONFLICT
        elif status in (401, 403):
            kind = ProblemKind.UNAUTHORISED
        elif status == 429 or status >= 500:
            kind = ProblemKind.SERVER
        else:
            kind = ProblemKind.REJECTED
        retry_after = retry_after_seconds(response.getheader("Retry-After")) if kind is ProblemKind.SERVER else None
        raise HttpError(Problem(kind, detail, retry_after), status, body)

    def _outgoing(
        self,
        method: str,
        path: str,
        body_json: Any,
        data: dict[str, Any] | None,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> Outgoing:
        """The request's bytes and headers (keys with a None value are left out, as requests does)."""
        path_url = self._prefix + path
        if params:
            query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
            path_url += ("&" if "?" in path_url else "?") + query if query else ""
        sent = dict(self._headers)
        body = b""
        if data is not None:
            body = urlencode({k: v for k, v in data.items() if v is not None}, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body_json is not None:
            body = _json_dumps(body_json, allow_nan=False).encode()
            sent["Content-Type"] = "application/json"
        if body or method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = str(len(body))
        sent.update(headers or {})
        outgoing = Outgoing(
            method, self.base_url[: len(self.base_url) - len(self._prefix)] + path_url, path_url, body, sent
        )
        if self._auth is not None:
            self._auth(outgoing)
        return outgoing

    @staticmethod
    def _read(response: http.client.HTTPResponse, method: str, path: str, deadline: float) -> bytes:
        """The body, refused over MAX_REPLY_BYTES, and timed out as a whole (not only per read: a server
        dripping a byte every few seconds must not hold the call forever)."""
        too_large = TooLarge(
            Problem(
                ProblemKind.BAD_REPLY,
                f"{method} {path}: the reply is larger than {MAX_REPLY_BYTES // 1024} KiB: refused",
            )
        )
        declared = response.getheader("Content-Length", "")
        if _DIGITS.fullmatch(declared) and int(declared) > MAX_REPLY_BYTES:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        # read1: what has arrived (read(n) would wait for n bytes, however slowly they come)
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise too_large
            if time.monotonic() > deadline:
                raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: the reply took too long"))
            chunks.append(chunk)
        response.close()  # read to its end: the connection is free for the next call
        return b"".join(chunks)

    def close(self) -> None:
        """End the calls in flight (they fail as UNREACHABLE) and close every thread's connection. The
        transport stays usable: a later call opens a new connection."""
        for sock in self._sockets.take():
            with contextlib.suppress(OSError):  # closed already
                sock.shutdown(socket.SHUT_RDWR)
            # Its thread finds it closed on its next call and connects again (or, in flight, fails UNREACHABLE).
            sock.close()

    def connect_ahead(self) -> None:
        """Open this thread's connection (TCP, and TLS over https) before its first call needs it, so the first
        sale of the day waits no more than the next. A failure is only logged: that call connects again."""
        try:
            self._connection()
        except OSError as exc:
            log.info("could not connect ahead to %s: %s", self._host, _describe(exc))

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection, connected: the kept-alive one unless the server closed it meanwhile."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._connect_timeout, context=self._tls_context()
                )
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
            self._local.connection = connection
            at_thread_exit(connection.close)  # a watcher's connection closes with its thread
        elif connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the server (or close()) ended it while it was idle
        if connection.sock is None:
            connection.timeout = self._connect_timeout
            connection.connect()
            assert connection.sock is not None
            self._sockets.add(connection.sock)
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        """TLS verified: the certificate chain and the host name, against ``ca_file`` or certifi's authorities
        (the same bundle requests trusts; the system's when certifi is not installed)."""
        with self._lock:
            if self._tls is None:
                import ssl

                cafile = self._ca_file
                if cafile is None:
                    with contextlib.suppress(ImportError):
                        import certifi

                        cafile = certifi.where()
                self._tls = ssl.create_default_context(cafile=cafile)
            return self._tls


def _forget(connection: http.client.HTTPConnection | None, response: http.client.HTTPResponse | None) -> None:
    """After a failed call the connection is in an unknown state: closed (its reply too, which holds the socket
    open), and the next call opens a new one."""
    if response is not None:
        response.close()
    if connection is not None:
        connection.close()


def _dropped(sock: socket.socket) -> bool:
    """True when an idle kept-alive connection was closed by its server (readable: EOF, or bytes nobody asked
    for)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed or shut down here
        return True


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return f"the connection was closed ({_short(exc) or type(exc).__name__})"
    return _short(exc) or type(exc).__name__


_json_loads = json.loads
_json_dumps = json.dumps


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds, capped at :data:`MAX_RETRY_AFTER`;
    None when absent or unreadable (the caller's own backoff applies)."""
    if value is None:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        seconds = float(int(value)) if len(value) <= 12 else MAX_RETRY_AFTER
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


class _Sockets:
    """The sockets of a transport's connections (weakly: a closed connection's socket goes away)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def take(self) -> list[socket.socket]:
        with self._lock:
            taken = list(self._sockets)
            self._sockets.clear()
        return taken


def _short(what: object) -> str:
    text = str(what)
    return text if len(text) < 200 else text[:200] + "…"

"""HTTPS for every backend (contract v1, Razorpay, Stripe): requests with a session per thread (keep-alive and
TLS sessions reused), a timeout on every call, TLS verified, no redirect followed, replies read up to a size
limit, and every failure turned into a BackendError whose Problem says what kind of trouble it is — never a
library exception."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions

from terminal import __version__
from terminal.backends.base import BackendError, bad_reply
from terminal.core.problems import Problem, ProblemKind
from terminal.threads import at_thread_exit

#: The largest reply read (contract replies are a few kB; a history page of 100 orders well under this).
MAX_REPLY_BYTES = 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes '²', which int() refuses
#: A server's Retry-After is obeyed up to this many seconds: a larger one (or a date next week) is not.
MAX_RETRY_AFTER = 60.0


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
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        error_text: Callable[[Any], str] = lambda body: "",
    ) -> None:
        problem = check_url(base_url, allow_plain_http=allow_plain_http)
        if problem:
            raise ValueError(f"backend url {base_url!r}: expected {problem}")
        self.base_url = base_url.rstrip("/")
        # identity: replies are small JSON, and a compressed one could expand far past the size limit
        self._headers = {"User-Agent": f"qr-terminal/{__version__}", "Accept-Encoding": "identity", **headers}
        self._auth = auth
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._verify: bool | str = ca_file or True
        self._error_text = error_text
        # requests.Session is not thread-safe; each worker thread gets its own (keep-alive per thread).
        self._local = threading.local()
        # Weak: a watcher thread's session goes away with its thread.
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        # Every connection's socket, so that close() can end the calls in flight (a long-poll holds its thread
        # until the server answers: a stopping terminal must not wait for that).
        self._sockets = _Sockets()
        self._lock = threading.Lock()

    def call(self, method: str, path: str, *, extra_time: float = 0, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer; HttpError for another status, BackendError for no answer."""
        url = self.base_url + path
        read_timeout = self._timeout + extra_time
        try:
            with self._session().request(
                method, url, timeout=(self._connect_timeout, read_timeout), allow_redirects=False, stream=True, **kwargs
            ) as response:
                status = response.status_code
                content = self._read(response, method, path, time.monotonic() + self._connect_timeout + read_timeout)
        except requests.Timeout as exc:
            raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: {exc}")) from None
        except requests.RequestException as exc:  # connection refused, DNS, TLS, a dropped connection
            raise BackendError(Problem(ProblemKind.UNREACHABLE, f"{method} {path}: {_short(exc)}")) from None
        try:
            body = json.loads(content) if content else None
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
        retry_after = retry_after_seconds(response.headers.get("Retry-After")) if kind is ProblemKind.SERVER else None
        raise HttpError(Problem(kind, detail, retry_after), status, body)

    @staticmethod
    def _read(response: requests.Response, method: str, path: str, deadline: float) -> bytes:
        """The body, refused over MAX_REPLY_BYTES, and timed out as a whole (not only per read: a server
        dripping a byte every few seconds must not hold the call forever)."""
        too_large = TooLarge(
            Problem(
                ProblemKind.BAD_REPLY,
                f"{method} {path}: the reply is larger than {MAX_REPLY_BYTES // 1024} KiB: refused",
            )
        )
        declared = response.headers.get("Content-Length", "")
        if _DIGITS.fullmatch(declared) and int(declared) > MAX_REPLY_BYTES:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            # read1: what has arrived (read(n) would wait for n bytes, however slowly they come)
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise too_large
                if time.monotonic() > deadline:
                    raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: the reply took too long"))
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: {_short(exc)}")) from None
        except urllib3.exceptions.DecodeError as exc:
            raise bad_reply(f"{method} {path}: the reply's encoding is broken: {_short(exc)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # the connection dropped mid-reply
            raise BackendError(Problem(ProblemKind.UNREACHABLE, f"{method} {path}: {_short(exc)}")) from None
        return b"".join(chunks)

    def close(self) -> None:
        """End the calls in flight (they fail as UNREACHABLE) and close every thread's connections. The
        transport stays usable: a later call opens a new connection."""
        with self._lock:
            sessions = list(self._sessions)  # kept: each thread goes on using its own after this
        for sock in self._sockets.take():
            with contextlib.suppress(OSError):  # closed already
                sock.shutdown(socket.SHUT_RDWR)
        for session in sessions:
            _close(session)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Nothing the session holds refers back to the transport: a session lives in a thread-local, where
            # the garbage collector cannot see a cycle, so one would keep the transport and its sockets forever.
            adapter = _Adapter(self._sockets.add)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(self._headers)
            session.auth = self._auth
            session.verify = self._verify
            # Checked as soon as the headers arrive: with allow_redirects=False requests still reads a redirect's
            # whole body (unbounded) to prepare Response.next; the hook refuses it before that.
            session.hooks["response"].append(functools.partial(_refuse_redirect, self.base_url))
            self._local.session = session
            with self._lock:
                self._sessions.add(session)
            at_thread_exit(lambda: _close(session))  # a watcher's connections close with its thread
        return session


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


def _refuse_redirect(base_url: str, response: requests.Response, **kwargs: Any) -> None:
    """A response hook: a 3xx is refused before anything reads its body."""
    if 300 <= response.status_code < 400:
        response.close()
        request = response.request
        url = request.url or ""
        path = url[len(base_url) :] if url.startswith(base_url) else url
        target = urljoin(url, response.headers.get("Location", ""))
        raise Redirected(request.method or "?", path, response.status_code, target)


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


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter, telling ``opened`` the socket of every connection it makes (urllib3's pool classes
    are made per adapter with a connection class that reports its socket once connected)."""

    def __init__(self, opened: Callable[[socket.socket], None]) -> None:
        self._opened_hook = opened
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        opened = self._opened_hook

        class Http(urllib3.connection.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                opened(self.sock)

        class Https(urllib3.connection.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                opened(self.sock)

        self.poolmanager.pool_classes_by_scheme = {
            "http": type("HttpPool", (urllib3.HTTPConnectionPool,), {"ConnectionCls": Http}),
            "https": type("HttpsPool", (urllib3.HTTPSConnectionPool,), {"ConnectionCls": Https}),
        }


def _close(session: requests.Session) -> None:
    """Close the session's connections now. Session.close() alone only forgets its pools (urllib3 2 closes a
    pool when it is garbage), and a pool stays alive as long as any response of it does — one held by a logged
    exception's traceback, say — with its idle connections open."""
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is None:
            continue
        for key in list(manager.pools.keys()):
            pool = manager.pools.get(key)
            if pool is not None:
                pool.close()
    session.close()


def _short(what: object) -> str:
    text = str(what)
    return text if len(text) < 200 else text[:200] + "…"

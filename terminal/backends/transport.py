"""HTTPS for every backend (contract v1, Razorpay, Stripe): requests with a session per thread (keep-alive and
TLS sessions reused), a timeout on every call, TLS verified, and every failure turned into a BackendError whose
Problem says what kind of trouble it is — never a library exception."""

from __future__ import annotations

import ipaddress
import threading
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from terminal import __version__
from terminal.backends.base import BackendError, bad_reply
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


class HttpError(BackendError):
    """An HTTP status outside 2xx, with the decoded body (None when it was not JSON)."""

    def __init__(self, problem: Problem, status: int, body: Any) -> None:
        super().__init__(problem)
        self.status = status
        self.body = body


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
        auth: tuple[str, str] | None = None,
        error_text: Callable[[Any], str] = lambda body: "",
    ) -> None:
        problem = check_url(base_url, allow_plain_http=allow_plain_http)
        if problem:
            raise ValueError(f"backend url {base_url!r}: expected {problem}")
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": f"qr-terminal/{__version__}", **headers}
        self._auth = auth
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._verify: bool | str = ca_file or True
        self._error_text = error_text
        # requests.Session is not thread-safe; each worker thread gets its own (keep-alive per thread).
        self._local = threading.local()
        # Weak: a watcher thread's session goes away with its thread.
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._lock = threading.Lock()

    def call(self, method: str, path: str, *, extra_time: float = 0, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer; HttpError for another status, BackendError for no answer."""
        timeout = (self._connect_timeout, self._timeout + extra_time)
        try:
            response = self._session().request(method, self.base_url + path, timeout=timeout, **kwargs)
        except requests.Timeout as exc:
            raise BackendError(Problem(ProblemKind.TIMEOUT, f"{method} {path}: {exc}")) from None
        except requests.RequestException as exc:  # connection refused, DNS, TLS, a dropped connection
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
        detail = f"{method} {path}: HTTP {status} {self._error_text(body)}".rstrip()
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 409:
            kind = ProblemKind.CONFLICT
        elif status in (401, 403):
            kind = ProblemKind.UNAUTHORISED
        elif status == 429 or status >= 500:
            kind = ProblemKind.SERVER
        else:
            kind = ProblemKind.REJECTED
        raise HttpError(Problem(kind, detail, retry_after if kind is ProblemKind.SERVER else None), status, body)

    def close(self) -> None:
        """Close every thread's session."""
        with self._lock:
            for session in list(self._sessions):
                session.close()
            self._sessions.clear()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self._headers)
            session.auth = self._auth
            session.verify = self._verify
            self._local.session = session
            with self._lock:
                self._sessions.add(session)
        return session


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

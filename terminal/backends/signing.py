"""Signed requests to a hub (contract v1.1): a terminal enrolled with ``qr-hub`` holds a per-terminal secret and
signs every request instead of sending a bearer token, so the secret never travels after enrollment.

The signature is HMAC-SHA256, with the secret, over::

    qrhub1 \\n METHOD \\n /path?query \\n timestamp \\n nonce \\n sha256(body) in hex

sent as ``X-QR-Terminal`` (the terminal id), ``X-QR-Timestamp`` (Unix seconds), ``X-QR-Nonce`` (random, never
reused) and ``X-QR-Signature`` (hex). The nonce is signed too, so a captured request cannot be replayed under a
fresh nonce; the hub refuses a timestamp more than five minutes off and a nonce it has seen.

An enrolled terminal's device token is ``qrhub1:<terminal id>:<secret>`` (``qr-terminal enroll`` writes it into
the secrets file); :func:`signer_for` turns such a token into the request hook, and returns None for an ordinary
bearer token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, MutableMapping
from typing import Protocol, TypeVar

VERSION = "qrhub1"
#: A terminal id as the hub issues them: letters, digits, '-' and '_'.
TERMINAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
HEADER_TERMINAL = "X-QR-Terminal"
HEADER_TIMESTAMP = "X-QR-Timestamp"
HEADER_NONCE = "X-QR-Nonce"
HEADER_SIGNATURE = "X-QR-Signature"


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes that are signed (both sides build them with this function)."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((VERSION, method.upper(), path, timestamp, nonce, digest)).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """HMAC-SHA256 of :func:`canonical` with ``secret``, in hex."""
    return hmac.new(secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def token(terminal_id: str, secret: str) -> str:
    """The device token an enrolled terminal keeps in its secrets file."""
    return f"{VERSION}:{terminal_id}:{secret}"


def parse_token(value: str) -> tuple[str, str] | None:
    """(terminal id, secret) of an enrolled terminal's token, or None for any other token."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != VERSION or not TERMINAL_ID.match(parts[1]) or len(parts[2]) < 32:
        return None
    return parts[1], parts[2]


class Outgoing(Protocol):
    """A request about to be sent: the terminal's transport's, or requests' PreparedRequest (the tests' and
    tools' clients sign with the same hook)."""

    @property
    def method(self) -> str | None: ...
    @property
    def path_url(self) -> str: ...
    @property
    def body(self) -> bytes | str | None: ...
    @property
    def headers(self) -> MutableMapping[str, str]: ...


R = TypeVar("R", bound=Outgoing)


class Signer:
    """An auth hook (the transport's, and requests' ``auth=``) that signs each request about to be sent (its
    final method, path, query and body bytes)."""

    def __init__(self, terminal_id: str, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.terminal_id = terminal_id
        self._secret = secret
        self._clock = clock

    def __call__(self, request: R) -> R:
        raw = request.body or b""
        if not isinstance(raw, bytes | str):
            raise TypeError("a signed request needs its body as bytes (not a stream)")
        body = raw.encode() if isinstance(raw, str) else raw
        timestamp = str(int(self._clock()))
        nonce = secrets.token_hex(16)
        path = request.path_url
        request.headers[HEADER_TERMINAL] = self.terminal_id
        request.headers[HEADER_TIMESTAMP] = timestamp
        request.headers[HEADER_NONCE] = nonce
        request.headers[HEADER_SIGNATURE] = signature(
            self._secret, request.method or "GET", path, timestamp, nonce, body
        )
        return request

    def __repr__(self) -> str:  # never the secret
        return f"Signer({self.terminal_id!r})"


def signer_for(device_token: str) -> Signer | None:
    """The signing hook for an enrolled terminal's token, or None (an ordinary bearer token)."""
    parsed = parse_token(device_token)
    return Signer(*parsed) if parsed else None

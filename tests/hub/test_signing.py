"""The terminal's side of signed requests (terminal/backends/signing.py): what is signed, byte for byte, and that
an enrolled terminal never sends its secret — only the signature."""

from __future__ import annotations

import hashlib
import hmac

from terminal.backends import signing
from terminal.backends.http import HttpBackend
from tests.servers import Reply, ScriptedServer

SECRET = "s" * 43  # the shape of secrets.token_urlsafe(32); not a real one


def test_the_signed_bytes_are_version_method_path_time_nonce_and_body_hash() -> None:
    body = b'{"a":1}'
    expected = b"qrhub1\nPOST\n/v1/orders?x=1\n1764590400\nabc\n" + hashlib.sha256(body).hexdigest().encode()
    assert signing.canonical("post", "/v1/orders?x=1", "1764590400", "abc", body) == expected
    mac = hmac.new(SECRET.encode(), expected, hashlib.sha256).hexdigest()
    assert signing.signature(SECRET, "POST", "/v1/orders?x=1", "1764590400", "abc", body) == mac


def test_an_enrollment_token_is_recognised_and_an_ordinary_token_is_not() -> None:
    assert signing.parse_token(signing.token("T1", SECRET)) == ("T1", SECRET)
    assert signing.signer_for("sandbox-device-token") is None
    assert signing.parse_token("qrhub1:T 1:" + SECRET) is None  # not a terminal id
    assert signing.parse_token("qrhub1:T1:short") is None


def test_an_enrolled_terminal_signs_and_never_sends_its_secret() -> None:
    with ScriptedServer(Reply(200, b'{"orders": []}')) as server:
        backend = HttpBackend(server.url, signing.token("T1", SECRET), timeout=5)
        backend.probe()
        backend.close()
    method, path, headers, body = server.requests[0]
    assert "Authorization" not in headers and SECRET not in repr(headers) + body.decode()
    stamp, nonce = headers[signing.HEADER_TIMESTAMP], headers[signing.HEADER_NONCE]
    assert headers[signing.HEADER_TERMINAL] == "T1"
    assert headers[signing.HEADER_SIGNATURE] == signing.signature(SECRET, method, path, stamp, nonce, body)


def test_a_terminal_with_an_ordinary_token_still_sends_it_as_a_bearer_token() -> None:
    with ScriptedServer(Reply(200, b'{"orders": []}')) as server:
        backend = HttpBackend(server.url, "sandbox-device-token", timeout=5)
        backend.probe()
        backend.close()
    headers = server.requests[0][2]
    assert headers["Authorization"] == "Bearer sandbox-device-token" and signing.HEADER_SIGNATURE not in headers

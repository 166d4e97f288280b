"""Terminals authenticate by signing every request with their enrolled secret: a forged, replayed, stale, unsigned,
oversized or revoked request is refused and changes nothing; a terminal that asks too often is slowed down."""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest
import requests

from hub.fleet import Fleet
from terminal.backends import signing
from terminal.backends.base import BackendError
from terminal.backends.http import HttpBackend
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from tests.hub.running import RunningHub

ORDER = {
    "reference": "T1-000001",
    "amount": {"value": 1250, "currency": "INR"},
    "expires_in": 300,
    "description": "Chai",
}


def _send(
    hub: RunningHub,
    token: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    stamp: int | None = None,
    nonce: str | None = None,
    sign_body: bytes | None = None,
) -> requests.Response:
    terminal_id, secret = signing.parse_token(token)  # type: ignore[misc]
    stamp_text = str(int(time.time()) if stamp is None else stamp)
    nonce = nonce or secrets.token_hex(16)
    mac = signing.signature(secret, method, path, stamp_text, nonce, body if sign_body is None else sign_body)
    sent = {
        signing.HEADER_TERMINAL: terminal_id,
        signing.HEADER_TIMESTAMP: stamp_text,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: mac,
        "Content-Type": "application/json",
        "Idempotency-Key": "K1",
    }
    return requests.request(method, hub.url + path, data=body, headers=sent, timeout=10)


def _orders(hub: RunningHub) -> int:
    return len(hub.fleet("/fleet/orders")["orders"])


def test_a_correctly_signed_request_is_answered(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = _send(hub, hub.enroll("T1"), "POST", "/v1/orders", json.dumps(ORDER).encode())
        assert answer.status_code == 201, answer.text


def test_a_body_changed_on_the_way_is_refused_and_creates_nothing(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        signed = json.dumps(ORDER).encode()
        forged = signed.replace(b"1250", b"9250")
        answer = _send(hub, hub.enroll("T1"), "POST", "/v1/orders", forged, sign_body=signed)
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "bad_signature")
        assert _orders(hub) == 0


def test_a_request_signed_with_another_secret_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        hub.enroll("T1")
        forged = signing.token("T1", secrets.token_urlsafe(32))
        answer = _send(hub, forged, "POST", "/v1/orders", json.dumps(ORDER).encode())
        assert answer.status_code == 401 and _orders(hub) == 0


def test_a_replayed_request_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        token = hub.enroll("T1")
        first = _send(hub, token, "GET", "/v1/orders?limit=1", nonce="n" * 32)
        again = _send(hub, token, "GET", "/v1/orders?limit=1", nonce="n" * 32)
        assert first.status_code == 200
        assert (again.status_code, again.json()["error"]["code"]) == (401, "replayed")


def test_a_request_older_than_five_minutes_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = _send(hub, hub.enroll("T1"), "GET", "/v1/orders", stamp=int(time.time()) - 301)
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "stale_request")


def test_the_query_is_signed_too(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        token = hub.enroll("T1")
        terminal_id, secret = signing.parse_token(token)  # type: ignore[misc]
        stamp, nonce = str(int(time.time())), secrets.token_hex(8)
        mac = signing.signature(secret, "GET", "/v1/orders?limit=1", stamp, nonce, b"")
        answer = requests.get(
            f"{hub.url}/v1/orders?limit=500",
            timeout=5,
            headers={
                signing.HEADER_TERMINAL: terminal_id,
                signing.HEADER_TIMESTAMP: stamp,
                signing.HEADER_NONCE: nonce,
                signing.HEADER_SIGNATURE: mac,
            },
        )
        assert answer.status_code == 401


def test_an_unsigned_request_with_a_bearer_token_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = requests.get(
            f"{hub.url}/v1/orders", headers={"Authorization": "Bearer sandbox-device-token"}, timeout=5
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unsigned")


def test_an_oversized_request_is_refused_before_it_is_read(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        body = json.dumps({**ORDER, "description": "x" * 70_000}).encode()
        answer = _send(hub, hub.enroll("T1"), "POST", "/v1/orders", body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (413, "too_large")


def test_a_body_that_is_not_json_is_a_clear_400(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        answer = _send(hub, hub.enroll("T1"), "POST", "/v1/orders", json.dumps(ORDER).encode()[:30])
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_json")


def test_one_terminal_cannot_see_another_terminals_order(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        order = hub.terminal("T1").create_order(OrderRequest("S1", "T1-S1", Amount(1250, "INR"), 300, "Chai"))
        with pytest.raises(BackendError) as caught:
            hub.terminal("T2").get_order(order.id)
        assert caught.value.problem.kind is ProblemKind.REJECTED  # 404: as if it did not exist


def test_a_revoked_terminal_is_refused_at_once(db_url: str) -> None:
    with RunningHub(db_url) as hub:
        terminal = hub.terminal("T1")
        terminal.probe()
        Fleet(hub.hub.db).revoke("T1")
        with pytest.raises(BackendError) as caught:
            terminal.probe()
        assert caught.value.problem.kind is ProblemKind.UNAUTHORISED


def test_revoking_a_terminal_ends_its_long_poll(db_url: str) -> None:
    with RunningHub(db_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(OrderRequest("S1", "T1-S1", Amount(1250, "INR"), 300, "Chai"))
        outcome: list = []

        def poll() -> None:
            try:
                terminal.get_order(order.id, wait=30, known=OrderStatus.PENDING)
            except BackendError as exc:
                outcome.append(exc.problem.kind)

        thread = threading.Thread(target=poll)
        started = time.monotonic()
        thread.start()
        time.sleep(0.5)
        Fleet(hub.hub.db).revoke("T1")  # as 'qr-hub revoke' does, from outside the serving code
        thread.join(timeout=10)
        assert outcome == [ProblemKind.UNAUTHORISED] and time.monotonic() - started < 5


def test_a_terminal_asking_too_often_is_told_to_slow_down(sqlite_url: str) -> None:
    with RunningHub(sqlite_url, rate=1.0, burst=5) as hub:
        terminal = HttpBackend(hub.url, hub.enroll("T1"), timeout=5)
        kinds = []
        for _ in range(8):
            try:
                terminal.probe()
                kinds.append("ok")
            except BackendError as exc:
                kinds.append(f"{exc.problem.kind}:{exc.problem.retry_after}")
        terminal.close()
        assert kinds[:5] == ["ok"] * 5 and kinds[5:] == ["server:1.0"] * 3


def test_an_enrollment_code_works_once(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        code = Fleet(hub.hub.db).new_code("T1", "Chai Point")
        first = requests.post(f"{hub.url}/v1/enroll", json={"code": code}, timeout=5)
        again = requests.post(f"{hub.url}/v1/enroll", json={"code": code}, timeout=5)
        assert first.status_code == 200 and first.json()["terminal_id"] == "T1"
        assert (again.status_code, again.json()["error"]["code"]) == (400, "code_used")


def test_an_expired_enrollment_code_is_refused(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        code = Fleet(hub.hub.db, clock=lambda: time.time() - 3600).new_code("T1", ttl=900)
        answer = requests.post(f"{hub.url}/v1/enroll", json={"code": code}, timeout=5)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "code_expired")


def test_re_enrolling_a_terminal_retires_its_old_secret(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        old = HttpBackend(hub.url, hub.enroll("T1"), timeout=5)
        new = HttpBackend(hub.url, hub.enroll("T1"), timeout=5)
        new.probe()
        with pytest.raises(BackendError) as caught:
            old.probe()
        assert caught.value.problem.kind is ProblemKind.UNAUTHORISED
        old.close()
        new.close()

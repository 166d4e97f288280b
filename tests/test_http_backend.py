"""The contract v1 client against real servers: the sandbox, and a scripted one for every way to fail."""

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from terminal.backends.base import BackendError
from terminal.backends.http import HttpBackend, check_url
from terminal.backends.razorpay import RazorpayBackend
from terminal.backends.transport import MAX_REPLY_BYTES, MAX_RETRY_AFTER, Redirected, retry_after_seconds
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from terminal.sandbox.server import DEFAULT_TOKEN

from .servers import Reply, ScriptedServer, closed_port

REQUEST = OrderRequest("T1-ab-000001", "T1-000001", Amount(1250, "INR"), 300, "Demo Shop T1-000001")


def client(url, **kw):
    return HttpBackend(url, kw.pop("token", DEFAULT_TOKEN), **kw)


def test_create_returns_the_order_with_its_qr(sandbox):
    order = client(sandbox.url, sandbox=True).create_order(REQUEST)
    assert order.status is OrderStatus.PENDING
    assert order.reference == "T1-000001" and order.amount == Amount(1250, "INR")
    assert order.qr.scheme == "url" and "/pay/" + order.id in order.qr.payload
    assert order.payee.id == "demo-shop@sandbox" and order.sandbox


def test_create_sends_the_idempotency_key_the_token_and_integer_minor_units():
    with ScriptedServer(Reply(201, b"{}")) as server, pytest.raises(BackendError):
        client(server.url, token="device-token-for-tests").create_order(REQUEST)
    method, path, headers, body = server.requests[0]
    assert (method, path) == ("POST", "/v1/orders")
    assert headers["Idempotency-Key"] == "T1-ab-000001"
    assert headers["Authorization"] == "Bearer device-token-for-tests"
    assert json.loads(body) == {
        "reference": "T1-000001",
        "amount": {"value": 1250, "currency": "INR"},
        "expires_in": 300,
        "description": "Demo Shop T1-000001",
    }


def test_retrying_create_returns_the_same_order(sandbox):
    backend = client(sandbox.url)
    assert backend.create_order(REQUEST).id == backend.create_order(REQUEST).id


def problem_of(call):
    with pytest.raises(BackendError) as caught:
        call()
    return caught.value.problem


def test_connection_refused_is_unreachable():
    problem = problem_of(lambda: client(f"http://127.0.0.1:{closed_port()}").create_order(REQUEST))
    assert problem.kind is ProblemKind.UNREACHABLE


def test_a_slow_backend_times_out():
    with ScriptedServer(Reply(201, b"{}", delay=2)) as server:
        started = time.monotonic()
        problem = problem_of(lambda: client(server.url, timeout=0.3).create_order(REQUEST))
    assert problem.kind is ProblemKind.TIMEOUT
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("reply", "kind", "detail"),
    [
        (
            Reply(400, b'{"error": {"code": "invalid_amount", "message": "amount too small"}}'),
            ProblemKind.REJECTED,
            "amount too small",
        ),
        (Reply(401, b'{"error": {"code": "unauthorised"}}'), ProblemKind.UNAUTHORISED, "401"),
        (Reply(409, b'{"error": {"code": "idempotency_conflict"}}'), ProblemKind.CONFLICT, "idempotency_conflict"),
        (Reply(500, b"<html>oops</html>"), ProblemKind.SERVER, "HTTP 500"),
        (Reply(503, b"", headers={"Retry-After": "7"}), ProblemKind.SERVER, "503"),
        (Reply(201, b"not json at all"), ProblemKind.BAD_REPLY, "not JSON"),
        (Reply(201, b'{"id": "ord_1", "status": "pending"}'), ProblemKind.BAD_REPLY, "'reference'"),
        (Reply(201, b"[1, 2]"), ProblemKind.BAD_REPLY, "JSON object"),
    ],
)
def test_every_failure_becomes_a_problem_with_a_reason(reply, kind, detail):
    with ScriptedServer(reply) as server:
        problem = problem_of(lambda: client(server.url).create_order(REQUEST))
    assert problem.kind is kind
    assert detail in problem.detail


def test_retry_after_is_read():
    with ScriptedServer(Reply(429, b"{}", headers={"Retry-After": "7"})) as server:
        assert problem_of(lambda: client(server.url).create_order(REQUEST)).retry_after == 7.0


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("amount", {"value": 12.5, "currency": "INR"}, "integer of minor units"),
        ("amount", {"value": 1250, "currency": "XXX"}, "unknown currency"),
        ("expires_at", "tomorrow", "ISO 8601"),
        ("expires_at", "2026-11-27T10:00:00", "no time zone"),
        ("status", "weird", "is not one of"),
        ("qr", {"scheme": "upi"}, "'qr.payload'"),
    ],
)
def test_a_reply_with_a_bad_field_names_the_field(sandbox, field, value, why):
    order, _ = sandbox.book.create("k1", {"reference": "T1-000001", "amount": {"value": 1250, "currency": "INR"}})
    order[field] = value
    with ScriptedServer(Reply(201, json.dumps(order).encode())) as server:
        problem = problem_of(lambda: client(server.url).create_order(REQUEST))
    assert problem.kind is ProblemKind.BAD_REPLY and why in problem.detail


def test_long_poll_answers_as_soon_as_the_order_is_paid(sandbox):
    backend = client(sandbox.url)
    order = backend.create_order(REQUEST)
    threading.Timer(0.3, sandbox.book.pay, args=(order.id,)).start()
    started = time.monotonic()
    update = backend.get_order(order.id, wait=10, known=OrderStatus.PENDING)
    assert update.status is OrderStatus.PAID
    assert update.payment.amount == Amount(1250, "INR") and update.payment.provider_ref.startswith("SBX")
    assert 0.25 < time.monotonic() - started < 3


def test_long_poll_returns_the_same_status_after_wait(sandbox):
    backend = client(sandbox.url)
    order = backend.create_order(REQUEST)
    started = time.monotonic()
    assert backend.get_order(order.id, wait=1, known=OrderStatus.PENDING).status is OrderStatus.PENDING
    assert time.monotonic() - started >= 0.9


def test_long_poll_query_carries_wait_and_known():
    body = json.dumps({"id": "ord_1", "status": "pending"}).encode()
    with ScriptedServer(Reply(200, body)) as server:
        client(server.url).get_order("ord_1", wait=25, known=OrderStatus.PENDING)
    assert server.requests[0][1] == "/v1/orders/ord_1?wait=25&known=pending"


def test_cancel_on_a_paid_order_reports_it_paid(sandbox):
    backend = client(sandbox.url)
    order = backend.create_order(REQUEST)
    sandbox.book.pay(order.id)
    assert backend.cancel_order(order.id).status is OrderStatus.PAID


def test_cancel_is_idempotent(sandbox):
    backend = client(sandbox.url)
    order = backend.create_order(REQUEST)
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED


def test_a_wrong_token_is_unauthorised(sandbox):
    problem = problem_of(lambda: client(sandbox.url, token="wrong-token-here").create_order(REQUEST))
    assert problem.kind is ProblemKind.UNAUTHORISED


@pytest.mark.parametrize(
    ("url", "plain", "ok"),
    [
        ("https://pay.example.com", False, True),
        ("http://127.0.0.1:8765", False, True),
        ("http://localhost:8765", False, True),
        ("http://192.168.1.10:8765", False, False),
        ("http://192.168.1.10:8765", True, True),
        ("ftp://x", False, False),
        ("pay.example.com", False, False),
    ],
)
def test_plain_http_only_to_loopback_unless_allowed(url, plain, ok):
    assert (check_url(url, allow_plain_http=plain) is None) is ok


# --- refunds and settlements ---------------------------------------------------------------------


def paid_order(sandbox):
    backend = client(sandbox.url, sandbox=True)
    order = backend.create_order(REQUEST)
    sandbox.book.pay(order.id)
    return backend, order


def test_refund_is_idempotent_by_our_refund_id(sandbox):
    backend, order = paid_order(sandbox)
    first = backend.refund(order.id, "T1-ab-000001-R1", Amount(500, "INR"), "refund by the shop")
    again = backend.refund(order.id, "T1-ab-000001-R1", Amount(500, "INR"), "refund by the shop")
    assert first == again and first.status == "succeeded" and first.amount == Amount(500, "INR")
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PARTIALLY_REFUNDED and [r.id for r in update.refunds] == [first.id]


def test_a_refund_over_what_remains_is_rejected(sandbox):
    backend, order = paid_order(sandbox)
    with pytest.raises(BackendError) as refused:
        backend.refund(order.id, "T1-ab-000001-R1", Amount(1251, "INR"), "")
    assert refused.value.problem.kind is ProblemKind.REJECTED and "exceeds" in refused.value.problem.detail


def test_refund_sends_the_idempotency_key_and_a_garbage_reply_is_a_bad_reply():
    with (
        ScriptedServer(
            Reply(201, b'{"id": "rfd_1", "status": "maybe", "amount": {"value": 5, "currency": "INR"}}')
        ) as server,
        pytest.raises(BackendError) as bad,
    ):
        client(server.url).refund("ord_1", "T1-ab-000001-R1", Amount(5, "INR"), "why")
    assert bad.value.problem.kind is ProblemKind.BAD_REPLY and "refund 'status'" in bad.value.problem.detail
    method, path, headers, body = server.requests[0]
    assert (method, path, headers["Idempotency-Key"]) == ("POST", "/v1/orders/ord_1/refunds", "T1-ab-000001-R1")
    assert json.loads(body) == {"amount": {"value": 5, "currency": "INR"}, "reason": "why"}


def test_settlement_of_a_day_and_none_when_the_backend_has_no_such_endpoint(sandbox):
    backend, _ = paid_order(sandbox)
    today = sandbox.book.now().date().isoformat()
    settled = backend.settlement(today)
    assert settled is not None and (settled.count, settled.gross, settled.currency) == (1, 1250, "INR")
    with ScriptedServer(Reply(404, b'{"error": {"code": "not_found", "message": "no route"}}')) as server:
        assert client(server.url).settlement(today) is None


# --- redirects, Retry-After, size: a backend (or whoever answers in its name) cannot steer the terminal ---------


def redirected(call):
    with pytest.raises(Redirected) as refused:
        call()
    return refused.value


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_on_create_is_refused_and_nothing_reaches_the_other_origin(status):
    # An attacker's backend (or a man in the middle of plain http) sends the create elsewhere, hoping the
    # Idempotency-Key and the token follow and that host's QR is shown. requests would follow it by default.
    with ScriptedServer(Reply(201, b"{}")) as elsewhere:
        target = f"{elsewhere.url}/v1/orders"
        with ScriptedServer(Reply(status, b"", headers={"Location": target})) as backend:
            problem = redirected(lambda: client(backend.url).create_order(REQUEST)).problem
    assert problem.kind is ProblemKind.BAD_REPLY
    assert f"the backend redirected to {target}; redirects are not followed" in problem.detail
    assert (len(backend.requests), elsewhere.requests) == (1, [])


def test_a_redirect_body_is_not_read():
    # requests reads a redirect's whole body even with allow_redirects=False (to prepare Response.next):
    # 64 MiB, far more than the loopback buffers hold, would be read into memory if that were not stopped.
    endless = Reply(307, b"x" * (64 * 1024 * 1024), headers={"Location": "http://127.0.0.1:9/"})
    with ScriptedServer(endless) as backend:
        problem_of(lambda: client(backend.url).create_order(REQUEST))
    assert backend.undelivered == ["/v1/orders"]


CALLS = {
    "get_order": lambda backend: backend.get_order("ord_1", wait=1, known=OrderStatus.PENDING),
    "cancel_order": lambda backend: backend.cancel_order("ord_1"),
    "refund": lambda backend: backend.refund("ord_1", "T1-ab-000001-R1", Amount(5, "INR"), "why"),
    "settlement": lambda backend: backend.settlement("2026-11-27"),
    "history": lambda backend: backend.history(datetime(2026, 11, 27, tzinfo=UTC)),
    "probe": lambda backend: backend.probe(),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_no_call_of_the_contract_follows_a_redirect(call):
    with ScriptedServer() as elsewhere, ScriptedServer(Reply(307, headers={"Location": elsewhere.url})) as backend:
        refused = redirected(lambda: call(client(backend.url)))
    assert refused.target == elsewhere.url and elsewhere.requests == []


def test_a_relative_redirect_is_named_in_full():
    with ScriptedServer(Reply(302, headers={"Location": "/v2/orders"})) as backend:
        problem = problem_of(lambda: client(backend.url).create_order(REQUEST))
    assert f"redirected to {backend.url}/v2/orders;" in problem.detail


def test_a_provider_adapter_does_not_follow_a_redirect_either():
    with ScriptedServer() as elsewhere, ScriptedServer(Reply(307, headers={"Location": elsewhere.url})) as api:
        redirected(lambda: RazorpayBackend("rzp_test_key", "test-secret", api_base=api.url).create_order(REQUEST))
    assert elsewhere.requests == []


@pytest.mark.parametrize("length", [True, False], ids=["declared", "undeclared"])
def test_a_reply_over_the_size_limit_is_refused(length):
    huge = b'{"id": "ord_1", "padding": "' + b"x" * (MAX_REPLY_BYTES + 1) + b'"}'
    with ScriptedServer(Reply(201, huge, length=length)) as server:
        problem = problem_of(lambda: client(server.url).create_order(REQUEST))
    assert problem.kind is ProblemKind.BAD_REPLY
    assert "POST /v1/orders: the reply is larger than 1024 KiB: refused" in problem.detail


def test_a_reply_dripped_a_byte_at_a_time_times_out_as_a_whole():
    # Each byte comes well within the read timeout, so only a limit on the whole reply ends it.
    dripping = Reply(201, b'{"id": "ord_1", "status": "pending", "padding": "' + b"x" * 200 + b'"}', drip=0.05)
    with ScriptedServer(dripping) as server:
        problem = problem_of(lambda: client(server.url, timeout=0.5, connect_timeout=0.5).create_order(REQUEST))
    assert problem.kind is ProblemKind.TIMEOUT and "the reply took too long" in problem.detail


def test_the_terminal_asks_for_uncompressed_replies():
    # A compressed reply under the size limit could expand far beyond it.
    with ScriptedServer(Reply(200, b'{"id": "ord_1", "status": "pending"}')) as server:
        client(server.url).get_order("ord_1")
    assert server.requests[0][2]["Accept-Encoding"] == "identity"


def test_a_reply_nested_deeper_than_python_recurses_is_not_json_not_a_crash():
    with ScriptedServer(Reply(201, b"[" * 200_000)) as server:
        problem = problem_of(lambda: client(server.url).create_order(REQUEST))
    assert problem.kind is ProblemKind.BAD_REPLY and "not JSON" in problem.detail


def test_a_retry_after_of_a_day_is_obeyed_for_a_minute_at_most():
    with ScriptedServer(Reply(503, b"{}", headers={"Retry-After": "86400"})) as server:
        assert problem_of(lambda: client(server.url).cancel_order("ord_1")).retry_after == MAX_RETRY_AFTER == 60


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("86400", 60.0),
        ("9" * 5000, 60.0),  # more digits than int() takes
        ("Wed, 02 Dec 2026 12:00:10 GMT", 10.0),
        ("Wed, 02 Dec 2026 11:00:00 GMT", 0.0),  # in the past
        ("Sun, 02 Dec 2046 12:00:00 GMT", 60.0),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("-5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date_is_capped(header, seconds):
    assert retry_after_seconds(header, now=datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)) == seconds

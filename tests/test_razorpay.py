"""The Razorpay adapter against a local server answering with Razorpay's published shapes (``fake_razorpay.py``):
the QR from ``image_content`` when the account has that feature, else read from the hosted ``image_url`` under
the image rules (allow-listed hosts, size cap, a real decoder), and closed when neither works; every captured
payment of a QR; refunds (asynchronous ones too) idempotent by our key, a 409 retried with it."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest

from terminal.backends.base import BackendError
from terminal.backends.razorpay import RazorpayBackend
from terminal.core import guard
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind

from .fake_razorpay import FakeRazorpay
from .providers import RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, Fault

VPA = "rzr.qrchaipoint1234@icici"


def request(minor=1250, seq=1):
    return OrderRequest(f"T1-ab12-{seq:06d}", f"T1-{seq:06d}", Amount(minor, "INR"), 300, "Chai Point T1-000001")


def razorpay(server, **kw):
    kw.setdefault("image_hosts", ("127.0.0.1",))
    return RazorpayBackend(RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, api_base=server.url, **kw)


def rules():
    return guard.PayeeRules("Chai Point", (VPA,))


@pytest.fixture
def rzp():
    with FakeRazorpay(vpa=VPA) as server:
        yield server


def refused_and_closed(server, backend, needle):
    with pytest.raises(BackendError) as refused:
        backend.create_order(request())
    assert refused.value.problem.kind is ProblemKind.BAD_REPLY and needle in str(refused.value)
    (qr,) = server.state.qrs.values()
    assert (qr["status"], qr["close_reason"]) == ("closed", "on_demand")  # never left payable at Razorpay


# --- the QR: image_content, or the hosted image -------------------------------------------------


def test_without_image_content_the_qr_is_read_from_the_hosted_image_and_passes_the_guard(rzp):
    order = razorpay(rzp).create_order(request())
    qr = next(iter(rzp.state.qrs.values()))
    assert "image_content" not in rzp.calls("POST", "/v1/payments/qr_codes") and order.qr.payload == qr["_content"]
    assert [r.path for r in rzp.requests if r.method == "GET"] == [
        f"/i/{qr['_short']}",
        f"/qr-images/{qr['_short']}.png",
    ]
    assert order.qr.scheme == "upi" and order.payee.id == VPA
    assert guard.check(order, reference="T1-000001", amount=Amount(1250, "INR"), rules=rules()) is None


def test_with_the_image_content_feature_the_string_is_used_and_no_image_is_fetched():
    with FakeRazorpay(vpa=VPA, image_content=True) as server:
        order = razorpay(server).create_order(request())
        assert order.qr.payload.startswith("upi://pay?") and order.payee.id == VPA
        assert [r.path for r in server.requests] == ["/v1/payments/qr_codes"]


def test_an_image_host_off_the_allow_list_is_never_fetched_and_the_qr_is_closed(rzp):
    refused_and_closed(rzp, razorpay(rzp, image_hosts=("rzp.io", "razorpay.com")), "not in backend.image_hosts")
    assert not any(r.path.startswith(("/i/", "/qr-images/")) for r in rzp.requests)


def test_a_redirect_off_the_allow_list_is_not_followed():
    with FakeRazorpay(vpa=VPA, image="elsewhere") as server:
        refused_and_closed(server, razorpay(server), "'images.elsewhere.example' is not in backend.image_hosts")


@pytest.mark.parametrize(
    ("image", "said"),
    [
        ("garbage", "not an image the terminal can read"),
        ("not_upi", "holds no UPI QR"),
        ("huge", "is over 2000000 bytes"),
    ],
)
def test_an_image_that_gives_no_upi_string_fails_the_create_and_closes_the_qr(image, said):
    with FakeRazorpay(vpa=VPA, image=image) as server:
        refused_and_closed(server, razorpay(server), said)


def test_a_qr_image_of_another_payee_is_read_faithfully_for_the_guard_to_refuse(rzp):
    rzp.pay_to = "fraudster@okaxis"
    order = razorpay(rzp).create_order(request())
    assert order.payee.id == "fraudster@okaxis"
    assert "not this shop" in guard.check(order, reference="T1-000001", amount=Amount(1250, "INR"), rules=rules())


def test_creates_a_single_use_fixed_amount_upi_qr_with_basic_auth(rzp):
    order = razorpay(rzp).create_order(request())
    (create,) = rzp.calls("POST", "/v1/payments/qr_codes")
    expected = base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
    assert create.headers["Authorization"] == f"Basic {expected}"
    body = create.body
    assert body["type"] == "upi_qr" and body["usage"] == "single_use" and body["fixed_amount"] is True
    assert body["payment_amount"] == 1250 and body["notes"]["reference"] == "T1-000001"
    assert body["close_by"] >= time.time() + 15 * 60  # Razorpay's rule; the terminal keeps its own 5 minutes
    assert (order.expires_at - datetime.now(UTC)).total_seconds() <= 300


# --- payments -----------------------------------------------------------------------------------


def test_a_payment_reports_amount_payer_time_and_rrn(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    assert backend.get_order(order.id).status is OrderStatus.PENDING
    paid = rzp.pay(order.id, vpa="gauri.kumari@okhdfcbank")
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PAID and update.payment.amount == Amount(1250, "INR")
    assert update.payment.payer == "gauri.kumari@okhdfcbank" and update.payment.id == paid["id"]
    assert update.payment.provider_ref == paid["acquirer_data"]["rrn"]
    assert update.payment.at == datetime.fromtimestamp(paid["created_at"], UTC)  # the payment's time, not the QR's


def test_a_qr_paid_twice_reports_both_payments_oldest_first(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    first, second = rzp.pay(order.id, vpa="one@okbank"), rzp.pay(order.id, vpa="two@okbank")
    assert rzp.state.qrs[order.id]["payments_count_received"] == 2
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PAID
    assert [(p.id, p.payer, p.amount.minor) for p in update.payments] == [
        (first["id"], "one@okbank", 1250),
        (second["id"], "two@okbank", 1250),
    ]


def test_history_reports_every_payment_of_a_paid_qr(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    rzp.pay(order.id)
    rzp.pay(order.id, amount=600)
    history = dict(backend.history(datetime(2026, 1, 1, tzinfo=UTC)))
    assert [p.amount.minor for p in history["T1-000001"].payments] == [1250, 600]


def test_history_carries_references_and_open_qrs(rzp):
    backend = razorpay(rzp)
    paid, open_ = backend.create_order(request(seq=1)), backend.create_order(request(seq=2))
    rzp.pay(paid.id)
    history = dict(backend.history(datetime(2026, 1, 1, tzinfo=UTC)))
    assert history["T1-000001"].status is OrderStatus.PAID and history["T1-000002"].status is OrderStatus.PENDING
    assert open_.id == history["T1-000002"].order_id


# --- refunds --------------------------------------------------------------------------------------


def test_refund_is_idempotent_by_our_key_and_a_refusal_says_why(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    rzp.pay(order.id)
    first = backend.refund(order.id, "T1-ab12-000001-R1", Amount(500, "INR"), "refund by the shop")
    again = backend.refund(order.id, "T1-ab12-000001-R1", Amount(500, "INR"), "refund by the shop")
    assert first == again and first.status == "succeeded"  # replayed by X-Refund-Idempotency: one refund
    assert rzp.requests[-1].headers["X-Refund-Idempotency"] == "T1-ab12-000001-R1"
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PARTIALLY_REFUNDED and [r.id for r in update.refunds] == [first.id]
    with pytest.raises(BackendError) as refused:
        backend.refund(order.id, "T1-ab12-000001-R2", Amount(800, "INR"), "")
    assert refused.value.problem.kind is ProblemKind.REJECTED and "greater than amount captured" in str(refused.value)
    assert backend.cancel_order(order.id).status is OrderStatus.PARTIALLY_REFUNDED  # closing a paid QR: money wins


def test_an_asynchronous_refund_is_pending_until_razorpay_processes_it():
    with FakeRazorpay(vpa=VPA, refunds_async=True) as server:
        backend = razorpay(server)
        order = backend.create_order(request())
        server.pay(order.id)
        made = backend.refund(order.id, "T1-ab12-000001-R1", Amount(1250, "INR"), "refund by the shop")
        assert made.status == "pending" and backend.get_order(order.id).refunds[0].status == "pending"
        server.settle_refunds()
        update = backend.get_order(order.id)
        assert update.status is OrderStatus.REFUNDED and update.refunds[0].status == "succeeded"


def test_a_409_on_a_refund_is_retried_with_the_same_key_never_a_refusal(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    payment = rzp.pay(order.id)
    rzp.faults.append(Fault(f"/v1/payments/{payment['id']}/refund", status=409, retry_after=None))
    with pytest.raises(BackendError) as busy:
        backend.refund(order.id, "T1-ab12-000001-R1", Amount(1250, "INR"), "refund by the shop")
    assert busy.value.problem.kind is ProblemKind.SERVER and busy.value.problem.retry_after  # the worker retries
    made = backend.refund(order.id, "T1-ab12-000001-R1", Amount(1250, "INR"), "refund by the shop")
    keys = [r.headers["X-Refund-Idempotency"] for r in rzp.requests if r.path.endswith("/refund")]
    assert made.status == "succeeded" and keys == ["T1-ab12-000001-R1"] * 2 and len(rzp.state.refunds) == 1


# --- cancel, errors, lost answers -------------------------------------------------------------------


def test_cancel_closes_the_qr_and_is_idempotent(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert rzp.state.qrs[order.id]["status"] == "closed"
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED


def test_wrong_keys_and_429(rzp):
    bad = RazorpayBackend(RAZORPAY_KEY_ID, "wrong-secret-for-test", api_base=rzp.url)
    with pytest.raises(BackendError) as refused:
        bad.create_order(request())
    assert refused.value.problem.kind is ProblemKind.UNAUTHORISED
    assert "api key provided is invalid" in str(refused.value)
    rzp.faults.append(Fault("/v1/payments/qr_codes", status=429, retry_after=7))
    with pytest.raises(BackendError) as limited:
        razorpay(rzp).create_order(request())
    assert limited.value.problem.kind is ProblemKind.SERVER and limited.value.problem.retry_after == 7


def test_a_retried_create_finds_the_qr_its_lost_answer_made(rzp):
    backend = razorpay(rzp, timeout=0.5)
    original = rzp._create

    def slow_create(body):  # the QR is made, but the answer comes too late
        qr = original(body)
        time.sleep(1.0)
        return qr

    rzp._create = slow_create
    with pytest.raises(BackendError):
        backend.create_order(request())
    time.sleep(1.0)  # the provider finishes making the QR whose answer the terminal gave up on
    rzp._create = original
    order = backend.create_order(request())
    assert len(rzp.state.qrs) == 1 and order.id in rzp.state.qrs

"""The Razorpay and Stripe adapters against local servers speaking the providers' documented shapes: the requests
they send, and the whole sale through the terminal — QR shown (decoded from the frame), paid, receipt, refund;
cancel closes the provider's QR or intent; a QR for another payee is refused by the guard."""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from terminal.app import open_printer
from terminal.backends.base import BackendError
from terminal.backends.razorpay import RazorpayBackend
from terminal.backends.stripe import StripeBackend
from terminal.core import guard
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from terminal.devices.printer import PrinterConfig
from terminal.manager_pin import PinChecker, hash_pin, write_hash

from .providers import (
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    STRIPE_KEY,
    FakeRazorpay,
    FakeStripe,
    Fault,
)
from .qr import decode
from .terminal_app import make_terminal
from .test_printer import CACHE

VPA = "rzr.qrchaipoint1234@icici"
PROMPTPAY = "0105556000000"


def request(minor=1250, currency="INR", seq=1):
    return OrderRequest(f"T1-ab12-{seq:06d}", f"T1-{seq:06d}", Amount(minor, currency), 300, "Chai Point T1-000001")


def razorpay(server, **kw):
    return RazorpayBackend(RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, api_base=server.url, **kw)


def stripe(server, method="promptpay", **kw):
    return StripeBackend(STRIPE_KEY, method, api_base=server.url, **kw)


def rules(*ids):
    return guard.PayeeRules("Chai Point", ids)


@pytest.fixture
def rzp():
    with FakeRazorpay(vpa=VPA) as server:
        yield server


@pytest.fixture
def stp():
    with FakeStripe(promptpay_id=PROMPTPAY) as server:
        yield server


# --- Razorpay: the requests and answers --------------------------------------------------------


def test_razorpay_creates_a_single_use_fixed_amount_upi_qr_and_the_guard_accepts_it(rzp):
    order = razorpay(rzp).create_order(request())
    method, path, headers, body = rzp.requests[0]
    assert (method, path) == ("POST", "/v1/payments/qr_codes")
    assert (
        headers["Authorization"]
        == "Basic " + base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
    )
    assert body["type"] == "upi_qr" and body["usage"] == "single_use" and body["fixed_amount"] is True
    assert body["payment_amount"] == 1250 and body["notes"]["reference"] == "T1-000001"
    assert body["close_by"] >= time.time() + 15 * 60  # Razorpay's rule; the terminal keeps its own 5 minutes
    assert (order.expires_at - datetime.now(UTC)).total_seconds() <= 300
    assert order.qr.scheme == "upi" and order.qr.payload.startswith("upi://pay?") and order.payee.id == VPA
    assert guard.check(order, reference="T1-000001", amount=Amount(1250, "INR"), rules=rules(VPA)) is None


def test_razorpay_payment_refund_and_close(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    assert backend.get_order(order.id).status is OrderStatus.PENDING
    payment = rzp.pay(order.id)
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PAID and update.payment.amount == Amount(1250, "INR")
    assert update.payment.payer == "customer@okbank" and update.payment.provider_ref == payment["acquirer_data"]["rrn"]
    first = backend.refund(order.id, "T1-ab12-000001-R1", Amount(500, "INR"), "refund by the shop")
    again = backend.refund(order.id, "T1-ab12-000001-R1", Amount(500, "INR"), "refund by the shop")
    assert first == again and first.status == "succeeded"  # replayed by X-Refund-Idempotency: one refund
    assert rzp.requests[-1][2]["X-Refund-Idempotency"] == "T1-ab12-000001-R1"
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.PARTIALLY_REFUNDED and [r.id for r in update.refunds] == [first.id]
    with pytest.raises(BackendError) as refused:
        backend.refund(order.id, "T1-ab12-000001-R2", Amount(800, "INR"), "")
    assert refused.value.problem.kind is ProblemKind.REJECTED and "greater than amount captured" in str(refused.value)
    # Closing a paid QR is refused by Razorpay; the adapter answers with the payment: money wins.
    assert backend.cancel_order(order.id).status is OrderStatus.PARTIALLY_REFUNDED


def test_razorpay_cancel_closes_the_qr_and_is_idempotent(rzp):
    backend = razorpay(rzp)
    order = backend.create_order(request())
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert rzp.state.qrs[order.id]["status"] == "closed"
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED


def test_razorpay_history_carries_references_and_payments(rzp):
    backend = razorpay(rzp)
    paid, open_ = backend.create_order(request(seq=1)), backend.create_order(request(seq=2))
    rzp.pay(paid.id)
    history = dict(backend.history(datetime(2026, 1, 1, tzinfo=UTC)))
    assert history["T1-000001"].status is OrderStatus.PAID and history["T1-000002"].status is OrderStatus.PENDING
    assert open_.id == history["T1-000002"].order_id


def test_razorpay_wrong_keys_and_429(rzp):
    bad = RazorpayBackend(RAZORPAY_KEY_ID, "wrong-secret-for-test", api_base=rzp.url)
    with pytest.raises(BackendError) as refused:
        bad.create_order(request())
    assert refused.value.problem.kind is ProblemKind.UNAUTHORISED and "api key provided is invalid" in str(
        refused.value
    )
    rzp.faults.append(Fault("/v1/payments/qr_codes", status=429, retry_after=7))
    with pytest.raises(BackendError) as limited:
        razorpay(rzp).create_order(request())
    assert limited.value.problem.kind is ProblemKind.SERVER and limited.value.problem.retry_after == 7


def test_razorpay_a_retried_create_finds_the_qr_its_lost_answer_made(rzp):
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


# --- Stripe: the requests and answers ------------------------------------------------------------


def test_stripe_creates_and_confirms_with_the_idempotency_key_and_replays(stp):
    backend = stripe(stp)
    order = backend.create_order(request(4200, "THB"))
    method, path, headers, form = stp.requests[0]
    assert (method, path, headers["Idempotency-Key"]) == ("POST", "/v1/payment_intents", "T1-ab12-000001")
    assert headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["amount"] == "4200" and form["currency"] == "thb" and form["confirm"] == "true"
    assert form["payment_method_types[]"] == "promptpay" and form["metadata[reference]"] == "T1-000001"
    assert order.id.startswith("pi_") and order.qr.scheme == "emv" and order.payee.id == PROMPTPAY
    assert guard.check(order, reference="T1-000001", amount=Amount(4200, "THB"), rules=rules(PROMPTPAY)) is None
    assert backend.create_order(request(4200, "THB")).id == order.id and len(stp.intents) == 1


@pytest.mark.parametrize(("method", "currency", "account"), [("paynow", "SGD", "201912345K"),
                                                             ("pix", "BRL", "pix@stripe.example")])  # fmt: skip
def test_stripe_paynow_and_pix_qrs_pass_the_guard(stp, method, currency, account):
    order = stripe(stp, method).create_order(request(1990, currency))
    assert guard.check(order, reference="T1-000001", amount=Amount(1990, currency), rules=rules(account)) is None


def test_stripe_statuses_map_onto_ours(stp):
    backend = stripe(stp)
    paid, declined, cancelled = (backend.create_order(request(100, "THB", seq)) for seq in (1, 2, 3))
    stp.pay(paid.id)
    stp.decline(declined.id)
    update = backend.get_order(paid.id)
    assert update.status is OrderStatus.PAID and update.payment.amount == Amount(100, "THB")
    failed = backend.get_order(declined.id)
    assert failed.status is OrderStatus.FAILED and failed.failure_message == "The customer's bank declined."
    assert backend.cancel_order(cancelled.id).status is OrderStatus.EXPIRED  # cancelled as abandoned (our timer)
    assert backend.cancel_order(paid.id).status is OrderStatus.PAID  # Stripe refuses: money wins
    refund = backend.refund(paid.id, "T1-ab12-000001-R1", Amount(40, "THB"), "refund by the shop")
    assert refund.status == "succeeded" and stp.requests[-1][2]["Idempotency-Key"] == "T1-ab12-000001-R1"
    assert backend.get_order(paid.id).status is OrderStatus.PARTIALLY_REFUNDED
    with pytest.raises(BackendError) as refused:
        backend.refund(paid.id, "T1-ab12-000001-R2", Amount(61, "THB"), "")
    assert "greater than unrefunded amount" in str(refused.value)


# --- end to end through the terminal -------------------------------------------------------------


def shop(tmp_path, backend, *, currency, payee_id):
    secrets = tmp_path / "secrets.toml"
    write_hash(secrets, hash_pin("2580"))
    terminal = make_terminal(tmp_path, backend._http.base_url, backend=backend, currency=currency,
                             payee_id=payee_id, pin_checker=PinChecker(secrets))  # fmt: skip
    app = terminal.app
    app.state = replace(app.state, settings=replace(app.state.settings, auto_print="always"))
    open_printer(PrinterConfig(connection="file", device=str(tmp_path / "lp0"), profile="TM-T88III"), app, CACHE)
    return terminal


def refund_all(terminal):
    terminal.press("M2580E")
    terminal.until_screen("menu-main")
    terminal.press("1")
    terminal.until_screen("menu-recent")
    terminal.press("12EE")
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund done",), timeout=15)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_a_sale_end_to_end_paid_receipt_refund(tmp_path, rzp, stp, provider):
    if provider == "razorpay":
        backend, server, currency, payee = razorpay(rzp), rzp, "INR", VPA
    else:
        backend, server, currency, payee = stripe(stp), stp, "THB", PROMPTPAY
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    qr = terminal.until_screen("qr")
    (_, frame) = terminal.recorder.first("qr")
    assert decode(frame) == [qr.qr]  # what the customer's camera reads is exactly the provider's payload
    order_id = terminal.app.state.sale.order.id
    server.pay(order_id)
    paid = terminal.until_screen("paid")
    assert paid.amount in ("₹25.00", "฿25.00")
    terminal.until(lambda: (tmp_path / "lp0").exists() and b"PAID" in (tmp_path / "lp0").read_bytes())
    terminal.press("C")
    refund_all(terminal)
    if provider == "razorpay":
        assert [p["amount_refunded"] for p in rzp.state.payments.values()] == [2500]
    else:
        assert [r["amount"] for r in stp.refunds.values()] == [2500]
    terminal.until(lambda: b"REFUNDED" in (tmp_path / "lp0").read_bytes())


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_cancel_closes_the_providers_qr(tmp_path, rzp, stp, provider):
    backend, currency, payee = (
        (razorpay(rzp), "INR", VPA) if provider == "razorpay" else (stripe(stp), "THB", PROMPTPAY)
    )
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    terminal.press("C")
    terminal.until_screen("cancelled")
    if provider == "razorpay":
        terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
        assert rzp.state.qrs[order_id]["close_reason"] == "on_demand"
    else:
        terminal.until(lambda: stp.intents[order_id]["status"] == "canceled")
    terminal.until(lambda: terminal.app.state.background == ())  # the close was confirmed


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_a_qr_for_another_payee_is_refused_and_closed(tmp_path, rzp, stp, provider):
    if provider == "razorpay":
        rzp.pay_to = "fraudster@okaxis"
        backend, currency, payee = razorpay(rzp), "INR", VPA
    else:
        stp.pay_to = "0812345678"
        backend, currency, payee = stripe(stp), "THB", PROMPTPAY
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    refused = terminal.until_screen("error")
    assert refused.title == "QR refused" and "not this shop" in refused.lines[0]
    assert all(name != "qr" for name in (m.name for m, _ in terminal.recorder.frames))
    order_id = terminal.app.state.sale.order.id
    if provider == "razorpay":
        terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
    else:
        terminal.until(lambda: stp.intents[order_id]["status"] == "canceled")


def test_a_429_while_waiting_backs_off_as_told_and_the_payment_still_shows(tmp_path, rzp):
    terminal = shop(tmp_path, razorpay(rzp), currency="INR", payee_id=VPA)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    rzp.faults.append(Fault(f"/v1/payments/qr_codes/{order_id}", status=429, retry_after=1, count=1))
    terminal.until(lambda: not rzp.faults[0].count)
    limited_at = time.monotonic()
    rzp.pay(order_id)
    terminal.until_screen("paid")
    asked = [t for t in rzp.requests if order_id in t[1]]
    assert time.monotonic() - limited_at >= 0.9 and asked  # waited out Retry-After before asking again


def test_doctor_checks_the_provider_keys(tmp_path, stp):
    from terminal.config import load
    from terminal.doctor import _provider

    (tmp_path / "terminal.toml").write_text(f"""
[terminal]
id = "T1"
currency = "THB"
[merchant]
name = "Shop"
[payee]
ids = ["{PROMPTPAY}"]
[backend]
kind = "stripe"
api_base = "{stp.url}"
[secrets]
file = "secrets.toml"
""")
    (tmp_path / "secrets.toml").write_text(f'stripe_secret_key = "{STRIPE_KEY}"\n')
    good = _provider(load(tmp_path / "terminal.toml", environ={}))
    assert good.ok and "keys accepted" in good.line()
    (tmp_path / "secrets.toml").write_text('stripe_secret_key = "sk_test_another_fixture_key"\n')
    bad = _provider(load(tmp_path / "terminal.toml", environ={}))
    assert not bad.ok and "refused the API keys" in bad.line() and "sk_test" not in bad.line()


def test_stripe_refund_replayed_with_the_same_key_is_one_refund(stp):
    backend = stripe(stp)
    order = backend.create_order(request(1000, "THB"))
    stp.pay(order.id)
    first = backend.refund(order.id, "T1-ab12-000001-R1", Amount(300, "THB"), "refund by the shop")
    again = backend.refund(order.id, "T1-ab12-000001-R1", Amount(300, "THB"), "refund by the shop")
    assert first == again and len(stp.refunds) == 1
    with pytest.raises(BackendError) as conflict:  # the same key for another amount: Stripe's idempotency_error
        backend.refund(order.id, "T1-ab12-000001-R1", Amount(200, "THB"), "refund by the shop")
    assert "same parameters" in str(conflict.value)


def test_the_terminals_own_expiry_closes_the_razorpay_qr(tmp_path, rzp):
    terminal = make_terminal(tmp_path, rzp.url, backend=razorpay(rzp), payee_id=VPA, sale_ttl=2)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    terminal.until_screen("expired", timeout=6)
    terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
    assert rzp.state.qrs[order_id]["close_reason"] == "on_demand"  # closed by the terminal, long before close_by

"""The Stripe adapter against a local server answering with Stripe's published shapes (``fake_stripe.py``):
the pinned API version, the QR of each method, every documented status and cancellation reason, Stripe's own
expiry, the payment's time, payer and receipt page, refunds (asynchronous, refused before asking for PromptPay,
a 409 retried with the same key), history and WeChat Pay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from terminal.backends.base import BackendError
from terminal.backends.stripe import API_VERSION, PIX_MARGIN, StripeBackend
from terminal.core import guard
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind

from .fake_stripe import FakeStripe
from .providers import STRIPE_KEY, Fault

PROMPTPAY = "0105556000000"


def request(minor=4200, currency="THB", seq=1, ttl=300):
    """A sale's create request, opened now (the core gives each create its sale's journaled opening)."""
    description = "Chai Point T1-000001"
    opened = datetime.now(UTC)
    return OrderRequest(f"T1-ab12-{seq:06d}", f"T1-{seq:06d}", Amount(minor, currency), ttl, description, opened)


def stripe(server, method="promptpay", **kw):
    return StripeBackend(STRIPE_KEY, method, api_base=server.url, **kw)


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def stp():
    with FakeStripe(promptpay_id=PROMPTPAY) as server:
        yield server


def rules(*ids):
    return guard.PayeeRules("Chai Point", ids)


# --- the request ------------------------------------------------------------------------------------


def test_every_request_pins_the_api_version(stp):
    backend = stripe(stp, "paynow")
    order = backend.create_order(request(1990, "SGD"))
    backend.get_order(order.id)
    backend.cancel_order(order.id)
    backend.history(datetime(2026, 1, 1, tzinfo=UTC))
    assert len(stp.requests) >= 4 and {r.headers.get("Stripe-Version") for r in stp.requests} == {API_VERSION}


def test_creates_and_confirms_with_the_idempotency_key_and_replays(stp):
    backend = stripe(stp)
    asked = request()
    order = backend.create_order(asked)
    (create,) = stp.calls("POST", "/v1/payment_intents")
    assert (
        create.headers["Idempotency-Key"] == "T1-ab12-000001"
        and create.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    )
    assert create.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = create.body
    assert form["amount"] == "4200" and form["currency"] == "thb" and form["confirm"] == "true"
    assert form["payment_method_data[type]"] == "promptpay" and form["metadata[reference]"] == "T1-000001"
    assert order.id.startswith("pi_") and order.qr.scheme == "emv" and order.payee.id == PROMPTPAY
    assert guard.check(order, reference="T1-000001", amount=Amount(4200, "THB"), rules=rules(PROMPTPAY)) is None
    assert backend.create_order(asked).id == order.id and len(stp.intents) == 1  # the same sale's request


@pytest.mark.parametrize(
    ("method", "currency", "account"), [("paynow", "SGD", "201912345K"), ("pix", "BRL", "pix@stripe.example")]
)
def test_paynow_and_pix_qrs_pass_the_guard(stp, method, currency, account):
    order = stripe(stp, method).create_order(request(1990, currency))
    assert guard.check(order, reference="T1-000001", amount=Amount(1990, currency), rules=rules(account)) is None


def test_pix_expires_at_stripe_a_margin_after_the_terminals_own_timer(stp):
    order = stripe(stp, "pix").create_order(request(1990, "BRL", ttl=30))
    (create,) = stp.calls("POST", "/v1/payment_intents")
    assert create.body["payment_method_options[pix][expires_after_seconds]"] == str(30 + PIX_MARGIN)
    stripe_expiry = stp.intents[order.id]["next_action"]["pix_display_qr_code"]["expires_at"]
    assert datetime.fromtimestamp(stripe_expiry, UTC) >= order.expires_at + timedelta(seconds=PIX_MARGIN - 2)


def test_an_amount_under_stripes_minimum_is_refused_with_stripes_words_and_the_minimum_is_known(stp):
    backend = stripe(stp)
    assert backend.minimum("THB") == Amount(1000, "THB") and backend.minimum("SGD") == Amount(50, "SGD")
    with pytest.raises(BackendError) as refused:
        backend.create_order(request(999))
    assert refused.value.problem.kind is ProblemKind.REJECTED and "Amount must be at least ฿10.00" in str(refused.value)


# --- statuses ---------------------------------------------------------------------------------------


def test_a_payment_reports_its_own_time_payer_reference_and_receipt_page(stp):
    backend = stripe(stp, "paynow")
    order = backend.create_order(request(1990, "SGD"))
    charge = stp.pay(order.id, name="TAN AH KOW")
    payment = backend.get_order(order.id).payment
    assert payment.amount == Amount(1990, "SGD") and payment.payer == "TAN AH KOW" and payment.id == charge["id"]
    assert payment.at == datetime.fromtimestamp(charge["created"], UTC)
    assert payment.provider_ref == charge["payment_method_details"]["paynow"]["reference"]
    assert payment.receipt_url == charge["receipt_url"]


def test_a_decline_is_a_failure_with_stripes_message(stp):
    backend = stripe(stp)
    order = backend.create_order(request())
    stp.decline(order.id)
    failed = backend.get_order(order.id)
    assert failed.status is OrderStatus.FAILED and failed.failure_message == "The customer's bank declined."


def test_stripes_own_expiry_reads_as_expired(stp):
    backend = stripe(stp)
    order = backend.create_order(request())
    stp.expire(order.id)
    assert backend.get_order(order.id).status is OrderStatus.EXPIRED


def test_an_expired_payment_attempt_is_an_expiry_not_a_decline(stp):
    backend = stripe(stp)
    order = backend.create_order(request())
    stp.attempt_expired(order.id)
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.EXPIRED and update.failure_code == "payment_intent_payment_attempt_expired"


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("expired", "expired"),
        ("automatic", "expired"),
        ("abandoned", "expired"),
        ("requested_by_customer", "cancelled"),
        ("duplicate", "cancelled"),
        ("fraudulent", "cancelled"),
        ("failed_invoice", "cancelled"),
        ("void_invoice", "cancelled"),
        (None, "cancelled"),
    ],
)
def test_every_documented_cancellation_reason_maps(stp, reason, status):
    backend = stripe(stp)
    order = backend.create_order(request())
    stp.intents[order.id].update(status="canceled", cancellation_reason=reason)
    assert backend.get_order(order.id).status == status


def test_a_shopkeepers_cancel_is_requested_by_customer_and_reads_back_as_cancelled(stp):
    backend = stripe(stp)
    order = backend.create_order(request())
    assert backend.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert stp.intents[order.id]["cancellation_reason"] == "requested_by_customer"


def test_a_create_retried_later_under_its_key_sends_the_same_body_and_gets_the_same_intent(stp):
    # The same sale's create again, seconds later and from a fresh adapter (a restart): Stripe answers another
    # body under a used Idempotency-Key with 400 idempotency_error, so nothing in it may come from the clock.
    clock = Clock()
    asked = request()
    order = stripe(stp, clock=clock).create_order(asked)
    clock.now += timedelta(seconds=7)
    assert stripe(stp, clock=clock).create_order(asked).id == order.id
    first, again = stp.calls("POST", "/v1/payment_intents")
    assert first.body == again.body and len(stp.intents) == 1


def test_a_cancel_once_the_terminals_timer_ran_out_is_abandoned_and_reads_back_as_expired(stp):
    clock = Clock()
    backend = stripe(stp, clock=clock)
    order = backend.create_order(request(ttl=300))
    clock.now += timedelta(seconds=300)
    assert backend.cancel_order(order.id).status is OrderStatus.EXPIRED
    assert stp.intents[order.id]["cancellation_reason"] == "abandoned"


def test_after_a_restart_the_expiry_is_read_from_the_intents_metadata(stp):
    clock = Clock()
    order = stripe(stp, clock=clock).create_order(request(ttl=300))
    clock.now += timedelta(seconds=301)
    assert stripe(stp, clock=clock).cancel_order(order.id).status is OrderStatus.EXPIRED  # a fresh adapter


def test_cancel_on_a_paid_intent_keeps_it_paid(stp):
    backend = stripe(stp)
    order = backend.create_order(request())
    stp.pay(order.id)
    assert backend.cancel_order(order.id).status is OrderStatus.PAID  # Stripe refuses: money wins


# --- refunds ------------------------------------------------------------------------------------------


def test_promptpay_refunds_are_refused_before_any_request(stp):
    backend = stripe(stp)
    assert backend.refund_refusal == "PromptPay refunds are made in the Stripe Dashboard"
    order = backend.create_order(request())
    stp.pay(order.id)
    with pytest.raises(BackendError) as refused:
        backend.refund(order.id, "T1-ab12-000001-R1", Amount(4200, "THB"), "refund by the shop")
    assert refused.value.problem.kind is ProblemKind.REJECTED and "Stripe Dashboard" in str(refused.value)
    assert stp.calls("POST", "/v1/refunds") == []


@pytest.mark.parametrize("method", ["paynow", "pix", "wechat_pay"])
def test_methods_stripe_refunds_natively_have_no_refusal(stp, method):
    assert stripe(stp, method).refund_refusal is None


def test_a_paynow_refund_is_pending_until_the_bank_settles_it(stp):
    backend = stripe(stp, "paynow")
    order = backend.create_order(request(1990, "SGD"))
    stp.pay(order.id)
    made = backend.refund(order.id, "T1-ab12-000001-R1", Amount(1990, "SGD"), "refund by the shop")
    assert made.status == "pending" and backend.get_order(order.id).refunds[0].status == "pending"
    stp.settle_refunds()
    update = backend.get_order(order.id)
    assert update.status is OrderStatus.REFUNDED and update.refunds[0].status == "succeeded"


def test_a_refund_replayed_with_the_same_key_is_one_refund_and_another_amount_is_refused(stp):
    backend = stripe(stp, "pix")
    order = backend.create_order(request(1000, "BRL"))
    stp.pay(order.id)
    first = backend.refund(order.id, "T1-ab12-000001-R1", Amount(300, "BRL"), "refund by the shop")
    again = backend.refund(order.id, "T1-ab12-000001-R1", Amount(300, "BRL"), "refund by the shop")
    assert first == again and first.status == "succeeded" and len(stp.refunds) == 1
    assert backend.get_order(order.id).status is OrderStatus.PARTIALLY_REFUNDED
    with pytest.raises(BackendError) as conflict:  # the same key for another amount: Stripe's idempotency_error
        backend.refund(order.id, "T1-ab12-000001-R1", Amount(200, "BRL"), "refund by the shop")
    assert "same parameters" in str(conflict.value)
    with pytest.raises(BackendError) as refused:
        backend.refund(order.id, "T1-ab12-000001-R2", Amount(701, "BRL"), "")
    assert "greater than unrefunded amount" in str(refused.value)


@pytest.mark.parametrize("path", ["/v1/refunds", "/v1/payment_intents"])
def test_a_409_idempotency_key_in_use_is_retried_with_the_same_key_never_a_refusal(stp, path):
    backend = stripe(stp, "pix")
    if path == "/v1/refunds":
        order = backend.create_order(request(1000, "BRL"))
        stp.pay(order.id)
    stp.faults.append(Fault(path, status=409, retry_after=None, method="POST"))

    def ask():
        if path == "/v1/refunds":
            return backend.refund(order.id, "T1-ab12-000001-R1", Amount(1000, "BRL"), "refund by the shop")
        return backend.create_order(request(1000, "BRL", seq=2))

    with pytest.raises(BackendError) as busy:
        ask()
    assert busy.value.problem.kind is ProblemKind.SERVER and busy.value.problem.retry_after
    made = ask()
    keys = {
        r.headers["Idempotency-Key"]
        for r in stp.calls("POST", path)
        if r.headers["Idempotency-Key"] != "T1-ab12-000001"
    }
    assert made is not None and len(keys) == 1


def test_a_429_carries_stripes_retry_after(stp):
    stp.faults.append(Fault("/v1/payment_intents", status=429, retry_after=5))
    with pytest.raises(BackendError) as limited:
        stripe(stp).create_order(request())
    assert limited.value.problem.kind is ProblemKind.SERVER and limited.value.problem.retry_after == 5
    assert "rate limit" in str(limited.value)


# --- history and WeChat Pay -------------------------------------------------------------------------------


def test_history_pages_through_every_intent_with_a_terminal_reference(stp):
    backend = stripe(stp, "paynow")
    made = [backend.create_order(request(1000 + n, "SGD", seq=n)) for n in range(1, 4)]
    stp.pay(made[0].id, name="TAN AH KOW")
    stp.intents[made[2].id]["metadata"] = {}  # not one of the terminal's
    for intent in stp.intents.values():
        intent["created"] -= 10
    original = stp.route

    def small_pages(request):  # two to a page, so the adapter must follow has_more / starting_after
        if request.method == "GET" and request.path == "/v1/payment_intents":
            request.query = [(k, "2" if k == "limit" else v) for k, v in request.query]
        return original(request)

    stp.route = small_pages
    history = dict(backend.history(datetime.now(UTC) - timedelta(minutes=5)))
    assert sorted(history) == ["T1-000001", "T1-000002"]
    assert history["T1-000001"].status is OrderStatus.PAID and history["T1-000001"].payment.payer == "TAN AH KOW"
    assert history["T1-000002"].status is OrderStatus.PENDING
    pages = stp.calls("GET", "/v1/payment_intents")
    assert len(pages) == 2 and dict(pages[1].query)["starting_after"] == made[1].id
    assert dict(pages[0].query)["expand[0]"] == "data.latest_charge"


def test_wechat_pay_shows_stripes_link_only_when_the_shop_opted_in_and_reports_the_payment(stp):
    backend = stripe(stp, "wechat_pay")
    order = backend.create_order(request(1990, "EUR"))
    (create,) = stp.calls("POST", "/v1/payment_intents")
    assert create.body["payment_method_options[wechat_pay][client]"] == "web"
    assert order.qr.payload.startswith("weixin://") and order.payee.id == "stripe:wechat_pay"
    opted_in = guard.PayeeRules("Chai Point", ("stripe:wechat_pay",), allow_unknown=True)
    assert guard.check(order, reference="T1-000001", amount=Amount(1990, "EUR"), rules=rules("stripe:wechat_pay"))
    assert guard.check(order, reference="T1-000001", amount=Amount(1990, "EUR"), rules=opted_in) is None
    charge = stp.pay(order.id)
    payment = backend.get_order(order.id).payment
    assert payment.provider_ref == charge["payment_method_details"]["wechat_pay"]["transaction_id"]

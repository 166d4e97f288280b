"""Provider webhooks: verified by signature over the raw body, applied once, never moving an order backwards; a
lost webhook is made good by the reconciliation loop. The hub runs the terminal's Razorpay and Stripe adapters
against the fake providers of tests/providers.py (their published API shapes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from tests.fake_razorpay import FakeRazorpay
from tests.fake_stripe import FakeStripe
from tests.hub.running import RunningHub, hub_status, provider_id
from tests.hub.webhook_events import razorpay_event, send_razorpay, send_stripe, stripe_event
from tests.providers import RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, STRIPE_KEY

SALE = OrderRequest("S1", "T1-S1", Amount(12500, "INR"), 300, "Masala chai")


@pytest.fixture
def razorpay(db_url: str) -> Iterator[tuple[RunningHub, FakeRazorpay]]:
    """A hub on SQLite and on PostgreSQL, its provider Razorpay (the fake)."""
    keys = {"razorpay_key_id": RAZORPAY_KEY_ID, "razorpay_key_secret": RAZORPAY_KEY_SECRET}
    with (
        FakeRazorpay(image_content=True) as fake,
        RunningHub(db_url, provider="razorpay", provider_url=fake.url, secrets=keys, reconcile_after=3600) as hub,
    ):
        yield hub, fake


def _paid_at_razorpay(hub: RunningHub, fake: FakeRazorpay) -> tuple[str, str, bytes]:
    """A sale made through the hub and paid by the customer at Razorpay: (order id, qr id, the credited event)."""
    order = hub.terminal("T1").create_order(SALE)
    qr_id = provider_id(hub, order.id)
    payment = fake.pay(qr_id)
    return order.id, qr_id, razorpay_event("qr_code.credited", payment=payment, qr_code=fake.state.qrs[qr_id])


def _order(hub: RunningHub, order_id: str) -> dict:
    return next(o for o in hub.fleet("/fleet/orders")["orders"] if o["id"] == order_id)


def test_a_signed_qr_code_credited_pays_the_order_and_wakes_the_terminal(razorpay) -> None:
    hub, fake = razorpay
    terminal = hub.terminal("T1")
    order = terminal.create_order(SALE)
    qr_id = provider_id(hub, order.id)
    polled: list = []
    poll = threading.Thread(target=lambda: polled.append(terminal.get_order(order.id, wait=20, known="pending")))
    poll.start()
    time.sleep(0.2)
    body = razorpay_event("qr_code.credited", payment=fake.pay(qr_id), qr_code=fake.state.qrs[qr_id])
    assert send_razorpay(hub.url, body).json() == {"outcome": "applied"}
    poll.join(timeout=10)
    assert polled[0].status is OrderStatus.PAID and polled[0].payments[0].amount == Amount(12500, "INR")
    assert polled[0].payments[0].payer == "customer@okbank"


def test_a_forged_signature_is_400_and_changes_nothing(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    answer = send_razorpay(hub.url, body, signature="0" * 64)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "bad_webhook")
    assert _order(hub, order_id)["status"] == "pending"


def test_a_missing_signature_is_400(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    assert send_razorpay(hub.url, body, signature="").status_code == 400
    assert _order(hub, order_id)["status"] == "pending"


def test_a_signature_made_with_another_secret_is_400(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    assert send_razorpay(hub.url, body, secret="not-the-webhook-secret").status_code == 400
    assert _order(hub, order_id)["status"] == "pending"


def test_a_truncated_body_with_the_full_bodys_signature_is_400(razorpay) -> None:
    from hub.webhooks import razorpay_signature
    from tests.hub.running import WEBHOOK_SECRET

    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    answer = send_razorpay(hub.url, body[: len(body) // 2], signature=razorpay_signature(WEBHOOK_SECRET, body))
    assert answer.status_code == 400 and _order(hub, order_id)["status"] == "pending"


def test_an_oversized_webhook_is_413(razorpay) -> None:
    hub, _ = razorpay
    assert send_razorpay(hub.url, b"{" + b" " * 300_000 + b"}").status_code == 413


def test_a_signed_body_that_is_not_an_event_is_400(razorpay) -> None:
    hub, _ = razorpay
    answer = send_razorpay(hub.url, b'{"event": "qr_code.credited", "payload": {}}')
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "bad_webhook")


def test_an_event_delivered_twice_is_applied_once(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    first = send_razorpay(hub.url, body, event_id="evt_SameEvent01")
    again = send_razorpay(hub.url, body, event_id="evt_SameEvent01")
    assert (first.json()["outcome"], again.json()["outcome"]) == ("applied", "duplicate")
    assert len(_order(hub, order_id)["payments"]) == 1


def test_the_same_payment_in_two_events_is_one_payment(razorpay) -> None:
    hub, fake = razorpay
    order_id, qr_id, credited = _paid_at_razorpay(hub, fake)
    payment = next(iter(fake.state.payments.values()))
    captured = razorpay_event("payment.captured", payment=payment, qr_code=fake.state.qrs[qr_id])
    send_razorpay(hub.url, credited)
    assert send_razorpay(hub.url, captured).json()["outcome"] == "no change"
    assert len(_order(hub, order_id)["payments"]) == 1


def test_a_late_closed_event_does_not_undo_the_payment(razorpay) -> None:
    hub, fake = razorpay
    order_id, qr_id, credited = _paid_at_razorpay(hub, fake)
    send_razorpay(hub.url, credited)
    closed = razorpay_event("qr_code.closed", qr_code={**fake.state.qrs[qr_id], "close_reason": "on_demand"})
    send_razorpay(hub.url, closed)
    assert _order(hub, order_id)["status"] == "paid"


def test_a_payment_after_the_order_was_closed_still_wins(razorpay) -> None:
    hub, fake = razorpay
    order_id, qr_id, credited = _paid_at_razorpay(hub, fake)
    closed = razorpay_event("qr_code.closed", qr_code={**fake.state.qrs[qr_id], "close_reason": "on_demand"})
    send_razorpay(hub.url, closed)
    assert _order(hub, order_id)["status"] == "cancelled"
    send_razorpay(hub.url, credited)
    assert _order(hub, order_id)["status"] == "paid"


def test_a_refund_made_at_the_dashboard_arrives_by_webhook(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, credited = _paid_at_razorpay(hub, fake)
    send_razorpay(hub.url, credited)
    payment = next(iter(fake.state.payments.values()))
    refund = {
        "id": "rfnd_Dashboard0001",
        "entity": "refund",
        "amount": 2500,
        "currency": "INR",
        "payment_id": payment["id"],
        "status": "processed",
        "created_at": int(time.time()),
    }
    assert send_razorpay(hub.url, razorpay_event("refund.processed", refund=refund)).json()["outcome"] == "applied"
    order = _order(hub, order_id)
    assert order["status"] == "partially_refunded"
    assert [(r["status"], r["amount"]["value"]) for r in order["refunds"]] == [("succeeded", 2500)]


def test_a_lost_webhook_is_made_good_by_reconciliation(sqlite_url: str) -> None:
    keys = {"razorpay_key_id": RAZORPAY_KEY_ID, "razorpay_key_secret": RAZORPAY_KEY_SECRET}
    with (
        FakeRazorpay(image_content=True) as fake,
        RunningHub(sqlite_url, provider="razorpay", provider_url=fake.url, secrets=keys, reconcile_after=0.5) as hub,
    ):
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        fake.pay(provider_id(hub, order.id))  # …and Razorpay's webhook never arrives
        update = terminal.get_order(order.id, wait=10, known=OrderStatus.PENDING)
        assert update.status is OrderStatus.PAID and update.payments[0].amount == Amount(12500, "INR")


def test_the_rest_of_an_underpaid_order_is_found_by_reconciliation_when_its_webhook_is_lost(sqlite_url: str) -> None:
    keys = {"razorpay_key_id": RAZORPAY_KEY_ID, "razorpay_key_secret": RAZORPAY_KEY_SECRET}
    with (
        FakeRazorpay(image_content=True) as fake,
        RunningHub(sqlite_url, provider="razorpay", provider_url=fake.url, secrets=keys, reconcile_after=0.5) as hub,
    ):
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        fake.pay(provider_id(hub, order.id), amount=6000)  # no webhook, for either payment
        first = terminal.get_order(order.id, wait=10, known=OrderStatus.PENDING)
        assert [p.amount.minor for p in first.payments] == [6000]
        fake.pay(provider_id(hub, order.id), amount=6500)
        update = terminal.get_order(order.id, wait=10, known=OrderStatus.PAID, known_payments=1)
        assert sorted(p.amount.minor for p in update.payments) == [6000, 6500]
        assert hub_status(hub, order.id) == "paid"


def test_a_provider_that_answers_garbage_is_a_503_and_no_order(sqlite_url: str) -> None:
    from terminal.backends.base import BackendError
    from terminal.core.problems import ProblemKind
    from tests.servers import Reply, ScriptedServer

    keys = {"razorpay_key_id": RAZORPAY_KEY_ID, "razorpay_key_secret": RAZORPAY_KEY_SECRET}
    with (
        ScriptedServer(Reply(200, b"<html>gateway</html>")) as garbage,
        RunningHub(sqlite_url, provider="razorpay", provider_url=garbage.url, secrets=keys) as hub,
    ):
        with pytest.raises(BackendError) as caught:
            hub.terminal("T1").create_order(SALE)
        assert caught.value.problem.kind is ProblemKind.SERVER and "provider" in caught.value.problem.detail
        assert hub.fleet("/fleet/orders")["orders"] == []


# --- Stripe ------------------------------------------------------------------------------------------

SGD_SALE = OrderRequest("S1", "T1-S1", Amount(5000, "SGD"), 300, "Teh tarik")


@pytest.fixture
def stripe(sqlite_url: str) -> Iterator[tuple[RunningHub, FakeStripe]]:
    keys = {"stripe_secret_key": STRIPE_KEY}
    with (
        FakeStripe() as fake,
        RunningHub(
            sqlite_url,
            provider="stripe",
            provider_url=fake.url,
            secrets=keys,
            stripe_method="paynow",
            reconcile_after=3600,
        ) as hub,
    ):
        yield hub, fake


def _paid_at_stripe(hub: RunningHub, fake: FakeStripe) -> tuple[str, dict]:
    order = hub.terminal("T1").create_order(SGD_SALE)
    intent_id = provider_id(hub, order.id)
    fake.pay(intent_id)
    return order.id, fake.intents[intent_id]


def test_a_signed_payment_intent_succeeded_pays_the_order(stripe) -> None:
    hub, fake = stripe
    order_id, intent = _paid_at_stripe(hub, fake)
    assert send_stripe(hub.url, stripe_event("payment_intent.succeeded", intent)).json() == {"outcome": "applied"}
    order = _order(hub, order_id)
    assert order["status"] == "paid" and order["payments"][0]["amount"] == {"value": 5000, "currency": "SGD"}


def test_a_stripe_signature_older_than_300_seconds_is_400(stripe) -> None:
    hub, fake = stripe
    order_id, intent = _paid_at_stripe(hub, fake)
    body = stripe_event("payment_intent.succeeded", intent)
    answer = send_stripe(hub.url, body, stamp=int(time.time()) - 301)
    assert answer.status_code == 400 and "300 s" in answer.json()["error"]["message"]
    assert _order(hub, order_id)["status"] == "pending"


def test_a_stripe_signature_with_another_secret_is_400(stripe) -> None:
    hub, fake = stripe
    order_id, intent = _paid_at_stripe(hub, fake)
    answer = send_stripe(hub.url, stripe_event("payment_intent.succeeded", intent), secret="whsec_other")
    assert answer.status_code == 400 and _order(hub, order_id)["status"] == "pending"


def test_a_stripe_header_without_v1_is_400(stripe) -> None:
    hub, fake = stripe
    _, intent = _paid_at_stripe(hub, fake)
    answer = send_stripe(hub.url, stripe_event("payment_intent.succeeded", intent), header=f"t={int(time.time())}")
    assert answer.status_code == 400


def test_a_failure_reported_after_success_does_not_undo_it(stripe) -> None:
    hub, fake = stripe
    order_id, intent = _paid_at_stripe(hub, fake)
    send_stripe(hub.url, stripe_event("payment_intent.succeeded", intent))
    failed = {
        **intent,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "payment_method_provider_decline", "message": "Declined."},
    }
    send_stripe(hub.url, stripe_event("payment_intent.payment_failed", failed))
    assert _order(hub, order_id)["status"] == "paid"


def test_a_declined_payment_fails_the_order_with_stripes_message(stripe) -> None:
    hub, fake = stripe
    order = hub.terminal("T1").create_order(SGD_SALE)
    intent_id = provider_id(hub, order.id)
    fake.decline(intent_id)
    send_stripe(hub.url, stripe_event("payment_intent.payment_failed", fake.intents[intent_id]))
    got = _order(hub, order.id)
    assert got["status"] == "failed" and got["failure"]["message"] == "The customer's bank declined."


def test_a_pending_refund_is_settled_by_refund_updated(stripe) -> None:
    hub, fake = stripe
    terminal = hub.terminal("T1")
    order = terminal.create_order(SGD_SALE)
    intent_id = provider_id(hub, order.id)
    fake.pay(intent_id)
    send_stripe(hub.url, stripe_event("payment_intent.succeeded", fake.intents[intent_id]))
    refund = terminal.refund(order.id, "S1-R1", Amount(5000, "SGD"), "spilt")
    assert refund.status == "pending"  # PayNow refunds wait for the bank
    made = {**next(iter(fake.refunds.values())), "status": "succeeded"}
    assert send_stripe(hub.url, stripe_event("refund.updated", made)).json()["outcome"] == "applied"
    got = terminal.get_order(order.id)
    assert got.status is OrderStatus.REFUNDED
    assert [(r.status, r.amount) for r in got.refunds] == [("succeeded", Amount(5000, "SGD"))]


def test_a_lost_stripe_webhook_is_made_good_by_reconciliation(sqlite_url: str) -> None:
    keys = {"stripe_secret_key": STRIPE_KEY}
    with (
        FakeStripe() as fake,
        RunningHub(
            sqlite_url,
            provider="stripe",
            provider_url=fake.url,
            secrets=keys,
            stripe_method="paynow",
            reconcile_after=0.5,
        ) as hub,
    ):
        terminal = hub.terminal("T1")
        order = terminal.create_order(SGD_SALE)
        fake.pay(provider_id(hub, order.id))
        assert terminal.get_order(order.id, wait=10, known=OrderStatus.PENDING).status is OrderStatus.PAID


def test_cancel_through_the_hub_cancels_the_payment_intent(stripe) -> None:
    hub, fake = stripe
    terminal = hub.terminal("T1")
    order = terminal.create_order(SGD_SALE)
    assert terminal.cancel_order(order.id).status is OrderStatus.CANCELLED
    assert fake.intents[provider_id(hub, order.id)]["status"] == "canceled"


def test_an_event_id_longer_than_the_hub_keeps_is_400(razorpay) -> None:
    hub, fake = razorpay
    order_id, _, body = _paid_at_razorpay(hub, fake)
    assert send_razorpay(hub.url, body, event_id="e" * 201).status_code == 400
    assert _order(hub, order_id)["status"] == "pending"


def test_a_refund_the_provider_refuses_is_a_422_with_its_reason(sqlite_url: str) -> None:
    from terminal.backends.base import BackendError
    from terminal.core.problems import ProblemKind

    keys = {"stripe_secret_key": STRIPE_KEY}
    with (
        FakeStripe() as fake,
        RunningHub(
            sqlite_url,
            provider="stripe",
            provider_url=fake.url,
            secrets=keys,
            stripe_method="promptpay",
            reconcile_after=3600,
        ) as hub,
    ):
        terminal = hub.terminal("T1")
        order = terminal.create_order(OrderRequest("S1", "T1-S1", Amount(5000, "THB"), 300, "Thai tea"))
        intent_id = provider_id(hub, order.id)
        fake.pay(intent_id)
        send_stripe(hub.url, stripe_event("payment_intent.succeeded", fake.intents[intent_id]))
        with pytest.raises(BackendError) as caught:
            terminal.refund(order.id, "S1-R1", Amount(5000, "THB"), "spilt")
        assert caught.value.problem.kind is ProblemKind.REJECTED
        assert "PromptPay refunds are made in the Stripe Dashboard" in caught.value.problem.detail
        assert [r.status for r in terminal.get_order(order.id).refunds] == ["failed"]


def test_charge_refunded_lists_the_refunds_it_carries(stripe) -> None:
    hub, fake = stripe
    terminal = hub.terminal("T1")
    order = terminal.create_order(SGD_SALE)
    intent_id = provider_id(hub, order.id)
    fake.pay(intent_id)
    send_stripe(hub.url, stripe_event("payment_intent.succeeded", fake.intents[intent_id]))
    terminal.refund(order.id, "S1-R1", Amount(2000, "SGD"), "half a cup")
    made = {**next(iter(fake.refunds.values())), "status": "succeeded"}
    charge = {
        **fake.charges[fake.intents[intent_id]["latest_charge"]],
        "amount_refunded": 2000,
        "refunds": {"object": "list", "data": [made], "has_more": False},
    }
    assert send_stripe(hub.url, stripe_event("charge.refunded", charge)).json()["outcome"] == "applied"
    got = terminal.get_order(order.id)
    assert got.status is OrderStatus.PARTIALLY_REFUNDED and [r.status for r in got.refunds] == ["succeeded"]

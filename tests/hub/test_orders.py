"""Contract v1.1's order rules as the hub keeps them: refunds idempotent and bounded, cancel never hides money,
expiry answers a long-poll, and every capture is listed at the amount the provider reported."""

from __future__ import annotations

import threading

import pytest

from terminal.backends.base import BackendError
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from terminal.core.problems import ProblemKind
from tests.hub.running import RunningHub, provider_id
from tests.hub.webhook_events import send_razorpay

SALE = OrderRequest("S1", "T1-S1", Amount(1250, "INR"), 300, "Chai")


def test_a_long_poll_in_flight_when_the_hub_stops_is_answered_not_cut_off(sqlite_url: str) -> None:
    # A stopping hub answers its long-polls with what they have (a waiting terminal reads "pending" and asks
    # again elsewhere), instead of waiting out uvicorn's grace period and cancelling them mid-wait.
    answers: list[object] = []
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)

        def long_poll() -> None:
            try:
                answers.append(terminal.get_order(order.id, wait=20, known=OrderStatus.PENDING).status)
            except BackendError as exc:
                answers.append(exc)

        waiting = threading.Thread(target=long_poll)
        waiting.start()
        for _ in range(500):
            if hub.hub.wakeups.waiting:
                break
            threading.Event().wait(0.01)
        assert hub.hub.wakeups.waiting == 1
        hub.stop()  # (leaving the block would first close the terminal's own connections)
        waiting.join(timeout=15)
    assert not waiting.is_alive() and answers == [OrderStatus.PENDING]


def test_a_refund_retried_with_its_key_is_one_refund(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        hub.pay(order.id)
        first = terminal.refund(order.id, "S1-R1", Amount(500, "INR"), "one cup")
        again = terminal.refund(order.id, "S1-R1", Amount(500, "INR"), "one cup")
        assert first.id == again.id and len(terminal.get_order(order.id).refunds) == 1


def test_refunds_cannot_exceed_what_was_paid(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        hub.pay(order.id)
        terminal.refund(order.id, "S1-R1", Amount(1000, "INR"), "most")
        with pytest.raises(BackendError) as caught:
            terminal.refund(order.id, "S1-R2", Amount(251, "INR"), "one paisa too many")
        assert caught.value.problem.kind is ProblemKind.REJECTED  # 422
        assert [r.amount.minor for r in terminal.get_order(order.id).refunds] == [1000]


def test_an_unpaid_order_cannot_be_refunded(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        with pytest.raises(BackendError) as caught:
            terminal.refund(order.id, "S1-R1", Amount(100, "INR"), "no")
        assert caught.value.problem.kind is ProblemKind.CONFLICT


def test_cancelling_a_paid_order_answers_paid(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        hub.pay(order.id)
        assert terminal.cancel_order(order.id).status is OrderStatus.PAID


def test_a_cancelled_order_stays_cancelled_when_cancelled_again(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        assert terminal.cancel_order(order.id).status is OrderStatus.CANCELLED
        assert terminal.cancel_order(order.id).status is OrderStatus.CANCELLED


def test_a_long_poll_answers_when_the_order_expires(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(OrderRequest("S1", "T1-S1", Amount(1250, "INR"), 1, "Chai"))
        assert terminal.get_order(order.id, wait=20, known=OrderStatus.PENDING).status is OrderStatus.EXPIRED


def test_every_capture_is_listed_at_the_amount_the_provider_reported(sqlite_url: str) -> None:
    from hub.providers import credited_event

    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        qr_id = provider_id(hub, order.id)
        for minor in (1000, 250):  # the customer paid in two goes
            send_razorpay(hub.url, credited_event(qr_id, Amount(minor, "INR"))[1])
        update = terminal.get_order(order.id)
        assert update.status is OrderStatus.PAID
        assert sorted(p.amount.minor for p in update.payments) == [250, 1000]  # the same second: either order

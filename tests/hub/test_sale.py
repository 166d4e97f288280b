"""The issue's 'done when': a terminal enrolled with a hub completes sale → paid (by a signed webhook) → refund →
settlement, on SQLite and on PostgreSQL, through the terminal's own contract client."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from tests.hub.running import RunningHub


def _request(sale: str = "S1", minor: int = 1250) -> OrderRequest:
    return OrderRequest(sale, f"T1-{sale}", Amount(minor, "INR"), 300, "Chai")


def test_sale_paid_by_webhook_then_refunded_then_settled(db_url: str) -> None:
    with RunningHub(db_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(_request())
        assert order.status is OrderStatus.PENDING and order.amount == Amount(1250, "INR")
        assert order.qr.payload.startswith(f"{hub.url}/pay/") and order.sandbox

        polled: list = []
        poll = threading.Thread(
            target=lambda: polled.append(terminal.get_order(order.id, wait=20, known=OrderStatus.PENDING))
        )
        poll.start()
        assert hub.pay(order.id).json()["outcome"] == "applied"
        poll.join(timeout=10)
        assert polled[0].status is OrderStatus.PAID
        assert [p.amount for p in polled[0].payments] == [Amount(1250, "INR")]

        refund = terminal.refund(order.id, "S1-R1", Amount(250, "INR"), "one cup less")
        assert (refund.status, refund.amount) == ("succeeded", Amount(250, "INR"))
        assert terminal.get_order(order.id).status is OrderStatus.PARTIALLY_REFUNDED

        today = datetime.now(UTC).strftime("%Y-%m-%d")
        settled = terminal.settlement(today)
        assert (settled.count, settled.gross, settled.net, settled.currency) == (1, 1250, 1000, "INR")
        history = terminal.history(datetime.now(UTC) - timedelta(hours=1))
        assert [(ref, update.status) for ref, update in history] == [("T1-S1", OrderStatus.PARTIALLY_REFUNDED)]


def test_the_same_idempotency_key_gives_the_same_order(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        assert terminal.create_order(_request()).id == terminal.create_order(_request()).id


def test_the_same_key_with_another_body_is_a_conflict(sqlite_url: str) -> None:
    from terminal.backends.base import BackendError
    from terminal.core.problems import ProblemKind

    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        terminal.create_order(_request(minor=1250))
        try:
            terminal.create_order(_request(minor=9999))
        except BackendError as exc:
            assert exc.problem.kind is ProblemKind.CONFLICT
        else:
            raise AssertionError("a second body under the same key was accepted")

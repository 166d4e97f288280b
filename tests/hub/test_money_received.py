"""What arrived decides the hub's status, its settlement and the dashboard's takings, never the provider's word
alone: an order is ``paid`` only when its payments in its currency reach its amount. Less (or money in another
currency) is the hub's ``underpaid``, which the contract writes as ``paid`` with the payments listed, so the
terminal's own matching (terminal/core/matching.py) shows "Underpaid" or "Payment mismatch", never a green Paid
and never a mismatch for an honest underpayment."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from hub.dashboard.reports import Reports
from hub.providers import credited_event
from terminal.core.matching import Verdict, match
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest, OrderStatus
from tests.hub.running import RunningHub, hub_status, provider_id
from tests.hub.webhook_events import send_razorpay

ASKED = Amount(1250, "INR")
SALE = OrderRequest("S1", "T1-S1", ASKED, 300, "Chai")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def credit(hub: RunningHub, order_id: str, amount: Amount) -> None:
    """A signed Razorpay qr_code.credited for the order's QR, of ``amount``."""
    answer = send_razorpay(hub.url, credited_event(provider_id(hub, order_id), amount)[1])
    assert answer.json() == {"outcome": "applied"}


def test_one_paisa_of_an_order_leaves_it_underpaid_and_the_terminal_reads_underpaid(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(1, "INR"))
        update = terminal.get_order(order.id)
        assert hub_status(hub, order.id) == "underpaid"
        assert update.status is OrderStatus.PAID  # the contract's "money arrived": the terminal compares
        assert match(ASKED, update.payments).verdict is Verdict.UNDERPAID


def test_an_underpaid_order_stays_underpaid_with_its_payments_when_its_qr_expires(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(OrderRequest("S1", "T1-S1", ASKED, 1, "Chai"))
        credit(hub, order.id, Amount(600, "INR"))
        time.sleep(1.2)
        update = terminal.get_order(order.id)
        assert hub_status(hub, order.id) == "underpaid"
        assert update.status is OrderStatus.PAID and [p.amount.minor for p in update.payments] == [600]
        assert match(ASKED, update.payments).verdict is Verdict.UNDERPAID  # never an "expired but paid" mismatch


def test_a_payment_in_another_currency_is_not_paid_and_not_counted_in_the_orders_currency(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(1250, "JPY"))
        update = terminal.get_order(order.id)
        assert hub_status(hub, order.id) == "underpaid"
        assert match(ASKED, update.payments).verdict is Verdict.MISMATCH
        settled = terminal.settlement(today())
        assert settled is not None and settled.currency == "JPY"  # the day's first payment's currency
        assert Reports(hub.hub.db, time.time).today().totals.keys() == {"JPY"}


def test_two_partial_payments_that_reach_the_amount_make_the_order_paid(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(1000, "INR"))
        assert hub_status(hub, order.id) == "underpaid"
        credit(hub, order.id, Amount(250, "INR"))
        assert hub_status(hub, order.id) == "paid"
        assert match(ASKED, terminal.get_order(order.id).payments).verdict is Verdict.PAID


def test_the_rest_paid_wakes_a_terminal_that_follows_the_underpaid_order(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(1000, "INR"))
        credit(hub, order.id, Amount(250, "INR"))
        # the status the terminal knows is still "paid": only the number of payments changed (contract v1.1)
        started = time.monotonic()
        update = terminal.get_order(order.id, wait=20, known=OrderStatus.PAID, known_payments=1)
        assert len(update.payments) == 2 and time.monotonic() - started < 15


def test_an_overpayment_is_paid_and_counted_at_what_was_received(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(2000, "INR"))
        assert hub_status(hub, order.id) == "paid"
        assert match(ASKED, terminal.get_order(order.id).payments).verdict is Verdict.OVERPAID
        totals = Reports(hub.hub.db, time.time).today().totals["INR"]
        assert (totals.gross, totals.count) == (2000, 1)
        settled = terminal.settlement(today())
        assert settled is not None and (settled.count, settled.gross) == (1, 2000)


@pytest.mark.parametrize("same_event_id", [True, False], ids=["redelivered", "another-event-same-payment"])
def test_a_payment_reported_twice_is_counted_once(sqlite_url: str, same_event_id: bool) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        _, body = credited_event(provider_id(hub, order.id), ASKED)
        assert send_razorpay(hub.url, body, event_id="evt_first").json() == {"outcome": "applied"}
        again = send_razorpay(hub.url, body, event_id="evt_first" if same_event_id else "evt_second").json()
        assert again == {"outcome": "duplicate" if same_event_id else "no change"}
        assert len(terminal.get_order(order.id).payments) == 1
        settled = terminal.settlement(today())
        assert settled is not None and (settled.count, settled.gross) == (1, 1250)
        totals = Reports(hub.hub.db, time.time).today().totals["INR"]
        assert (totals.gross, totals.count) == (1250, 1)


def test_an_underpaid_order_is_not_a_paid_sale_on_the_money_page(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(1, "INR"))
        day = datetime.now(UTC).date()
        [line] = Reports(hub.hub.db, time.time).days(day, day)
        assert (line.sales, line.captured) == (0, 1)  # what arrived, against no paid sale: flagged


def test_an_underpaid_order_cannot_be_cancelled_and_can_be_refunded_up_to_what_arrived(sqlite_url: str) -> None:
    with RunningHub(sqlite_url) as hub:
        terminal = hub.terminal("T1")
        order = terminal.create_order(SALE)
        credit(hub, order.id, Amount(600, "INR"))
        assert terminal.cancel_order(order.id).status is OrderStatus.PAID  # 409 carrying the order: money arrived
        assert terminal.refund(order.id, "S1-R1", Amount(600, "INR"), "give it back").amount == Amount(600, "INR")
        assert hub_status(hub, order.id) == "refunded"

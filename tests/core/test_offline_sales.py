"""Offline sales: a QR built by the terminal, confirmed by the shopkeeper, reconciled with the backend later."""

from dataclasses import replace

import pytest

from terminal.core.effects import CancelOrder, CreateOrder, JournalSale, Reconcile, TillReply
from terminal.core.events import ConnectivityChanged, KeyPressed, OrderNotCreated, Reconciled, TillCommanded
from terminal.core.keys import Key
from terminal.core.machine import initial, step
from terminal.core.money import Amount
from terminal.core.offline import OfflineRules
from terminal.core.orders import OrderStatus, OrderUpdate, Payment
from terminal.core.payloads import upi
from terminal.core.problems import Problem, ProblemKind
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for
from terminal.core.signals import UNCONFIRMED, pattern_for
from terminal.core.till import TillSale

from .helpers import SETTINGS, at, type_keys

RULES = OfflineRules(
    "upi",
    "chaipoint@okbank",
    "Chai Point",
    Amount(200000, "INR"),
    Amount(500000, "INR"),
    max_count=3,
    max_age=24 * 3600.0,
)
LOCAL = replace(SETTINGS, offline=RULES)
DOWN = Problem(ProblemKind.UNREACHABLE, "connection refused")


def offline(settings=LOCAL):
    state, _ = step(initial(settings), ConnectivityChanged(DOWN), at(0))
    return state


def sell(state, amount="12.5", now=None):
    return step(type_keys(state, amount, now or at(1)), KeyPressed(Key.ENTER), now or at(1))


def test_offline_the_terminal_builds_the_qr_itself_and_says_it_is_not_confirmed():
    state, effects = sell(offline())
    sale = state.sale
    assert sale.status is SaleStatus.AWAITING_PAYMENT and sale.local and not sale.order_open
    assert [type(e) for e in effects] == [JournalSale, JournalSale]  # started, then the local QR: no backend call
    said = upi.parse(sale.order.qr.payload)
    assert (said.payee_address, said.amount(), said.params["tr"]) == (
        "chaipoint@okbank",
        Amount(1250, "INR"),
        "T1-000001",
    )
    screen = screen_for(state, at(1))
    assert screen.name == "qr" and screen.offline.startswith("OFFLINE — not confirmed")
    assert screen.hint == "Enter: received   Cancel: stop"


def test_enter_records_it_unconfirmed_without_the_success_pattern():
    state, _ = sell(offline())
    before = screen_for(state, at(2))
    state, effects = step(state, KeyPressed(Key.ENTER), at(2))
    assert state.sale.status is SaleStatus.UNCONFIRMED and state.unconfirmed == (state.sale,)
    assert "not confirmed by the backend" in effects[0].cause
    after = screen_for(state, at(2))
    assert after.name == "unconfirmed" and pattern_for(before, after) is UNCONFIRMED


def test_cancel_needs_no_backend_call():
    state, effects = step(sell(offline())[0], KeyPressed(Key.CANCEL), at(2))
    assert state.sale.status is SaleStatus.CANCELLED
    assert not any(isinstance(e, CancelOrder) for e in effects)


@pytest.mark.parametrize(
    ("prior", "amount", "why"),
    [(0, "2000.01", "limited to ₹2,000.00"), (2, "1500", "would pass ₹5,000.00"), (3, "1", "3 offline sales")],
)
def test_the_caps_refuse_with_a_message(prior, amount, why):
    state = offline()
    for i in range(prior):
        state, _ = sell(state, "2000" if i < 2 else "1", at(1 + i))
        state, _ = step(state, KeyPressed(Key.ENTER), at(1 + i))
        state, _ = step(state, KeyPressed(Key.ENTER), at(1 + i))  # back to idle
    state, effects = sell(state, amount, at(10))
    assert effects == [] and why in state.entry.message


def test_an_unconfirmed_sale_older_than_the_cap_stops_offline_sales():
    state, _ = sell(offline())
    state, _ = step(state, KeyPressed(Key.ENTER), at(2))
    state, _ = step(state, KeyPressed(Key.ENTER), at(3))
    later = at(2 + 25 * 3600)
    state, effects = sell(state, "5", later)
    assert effects == [] and "older than 24 h" in state.entry.message


def test_a_create_that_fails_for_the_network_falls_back_to_a_local_qr():
    state = type_keys(initial(LOCAL), "12.5E")
    state, _ = step(state, OrderNotCreated(state.sale.id, DOWN), at(2))
    assert state.sale.local and state.sale.status is SaleStatus.AWAITING_PAYMENT


def test_a_create_the_backend_refused_is_not_taken_offline():
    state = type_keys(initial(LOCAL), "12.5E")
    state, _ = step(state, OrderNotCreated(state.sale.id, Problem(ProblemKind.REJECTED, "no")), at(2))
    assert state.sale.status is SaleStatus.FAILED and not state.sale.local


def test_refuse_mode_still_asks_the_backend():
    _, effects = sell(offline(SETTINGS))
    assert isinstance(effects[-1], CreateOrder)


def test_back_online_the_unconfirmed_sales_are_reconciled():
    state, _ = sell(offline())
    state, _ = step(state, KeyPressed(Key.ENTER), at(2))
    sale = state.sale
    state, effects = step(state, ConnectivityChanged(None), at(30))
    assert effects == [Reconcile(sale.started_at, ("T1-000001",))]
    update = OrderUpdate("pay_1", OrderStatus.PAID, (Payment(Amount(1250, "INR"), provider_ref="UTR9"),))
    state, effects = step(state, Reconciled("T1-000001", update), at(31))
    assert effects[0].sale.status is SaleStatus.PAID and "reconciled" in effects[0].cause
    assert state.unconfirmed == () and state.last_paid.payment.provider_ref == "UTR9"


def test_a_reconciled_reference_we_do_not_know_changes_nothing():
    state = offline()
    update = OrderUpdate("pay_1", OrderStatus.PAID, (Payment(Amount(1250, "INR")),))
    assert step(state, Reconciled("T1-999999", update), at(1)) == (state, [])


def test_unconfirmed_sales_are_looked_for_again_every_minute_while_online():
    state, _ = sell(offline())
    state, _ = step(state, KeyPressed(Key.ENTER), at(2))
    state, _ = step(state, ConnectivityChanged(None), at(10))
    from terminal.core.events import Tick

    state, effects = step(state, Tick(), at(11))
    assert not any(isinstance(e, Reconcile) for e in effects)
    state, effects = step(state, Tick(), at(11 + 61))
    assert any(isinstance(e, Reconcile) for e in effects)


def test_a_payee_whose_qr_cannot_be_built_offline_starts_nothing_and_says_so():
    # Issue #19 item 6: this was an ``assert`` (an AssertionError out of the core, or None under python -O).
    unbuildable = replace(LOCAL, offline=replace(RULES, scheme="girocard"))  # no builder for it
    state, effects = sell(offline(unbuildable))
    assert state.sale is None and effects == []
    assert state.entry.message == "Offline: no QR can be made for this payee"


def test_a_till_sale_offline_for_a_payee_whose_qr_cannot_be_built_is_refused_and_starts_nothing():
    # Issue #19 item 6: an ``assert`` decided this path; it raised, and the till got an internal error.
    unbuildable = replace(LOCAL, offline=replace(RULES, scheme="girocard"))  # no builder for it
    before = offline(unbuildable)
    state, effects = step(before, TillCommanded(TillSale(Amount(1250, "INR"))), at(1))
    assert effects == [TillReply("ERR 503 offline: no QR can be made for this payee")]
    assert state == before


def test_a_till_sale_offline_shows_the_local_qr_and_is_answered_with_its_reference():
    state, effects = step(offline(), TillCommanded(TillSale(Amount(1250, "INR"), "A1")), at(1))
    assert state.sale.local and state.sale.status is SaleStatus.AWAITING_PAYMENT and state.sale.till_ref == "A1"
    assert [type(e) for e in effects] == [JournalSale, JournalSale, TillReply]  # no backend call
    assert effects[-1] == TillReply("OK SALE T1-000001")

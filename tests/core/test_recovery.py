"""After a power cut: what the core does with each sale the journal says was unfinished."""

from dataclasses import replace
from datetime import timedelta

from terminal.core.effects import CancelOrder, CreateOrder, JournalSale, WatchOrder
from terminal.core.events import OrderCreated, Resumed
from terminal.core.machine import Phase, initial, step
from terminal.core.orders import QrCode
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for

from .helpers import SETTINGS, T0, at, awaiting, order_for, type_keys


def journaled_awaiting():
    """The current sale of a state showing its QR, as the journal would give it back (no deadline)."""
    return replace(awaiting().sale, deadline=None)


def test_a_qr_still_valid_is_shown_again_for_the_time_it_has_left():
    sale = journaled_awaiting()  # the order expires at T0 + 5 min
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(100))
    assert state.phase is Phase.SALE and state.sale.status is SaleStatus.AWAITING_PAYMENT
    assert [type(e) for e in effects] == [JournalSale, WatchOrder]
    screen = screen_for(state, at(100))
    assert screen.name == "qr" and screen.qr == sale.order.qr.payload and screen.countdown == "3:20"


def test_a_qr_that_ran_out_while_off_is_expired_and_cancelled():
    sale = journaled_awaiting()
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(400))
    assert state.phase is Phase.IDLE and state.background[0].status is SaleStatus.EXPIRED
    assert effects == [
        JournalSale(state.background[0], SaleStatus.AWAITING_PAYMENT, "expired while the terminal was off"),
        CancelOrder(sale.id, "ord_1"),
    ]


def test_an_order_being_created_is_asked_for_again_with_the_same_key():
    sale = replace(type_keys(initial(SETTINGS), "12.5E").sale, deadline=None)
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(50))
    assert state.sale.status is SaleStatus.CREATING
    create = effects[-1]
    assert isinstance(create, CreateOrder) and create.request.sale_id == sale.id
    assert create.request.reference == sale.reference and create.request.amount == sale.amount


def test_a_sale_cancelled_while_its_order_was_made_gets_that_order_cancelled():
    sale = replace(type_keys(initial(SETTINGS), "12.5EC").sale, deadline=None)
    assert sale.status is SaleStatus.CANCELLED and sale.order_open
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(50))
    assert state.phase is Phase.IDLE and [type(e) for e in effects] == [CreateOrder]
    order = order_for(replace(state, sale=sale))
    state, effects = step(state, OrderCreated(sale.id, order), at(51))
    assert effects[-1] == CancelOrder(sale.id, "ord_1")


def test_only_one_qr_comes_back_and_another_open_one_is_cancelled():
    first = journaled_awaiting()
    later = replace(
        first,
        id="T1-ab12-000002",
        seq=2,
        reference="T1-000002",
        order=replace(first.order, id="ord_2", reference="T1-000002"),
    )
    state, effects = step(initial(SETTINGS, next_seq=3), Resumed((first, later)), at(10))
    assert state.sale.id == first.id
    assert CancelOrder(later.id, "ord_2") in effects


def test_a_journaled_payload_that_no_longer_passes_the_guard_is_not_shown_again():
    sale = journaled_awaiting()
    sale = replace(sale, order=replace(sale.order, qr=QrCode("upi", "upi://pay?pa=fraud@okbank&am=12.50&cu=INR")))
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(10))
    assert state.phase is Phase.IDLE and CancelOrder(sale.id, "ord_1") in effects


def test_the_remaining_time_never_exceeds_the_sale_ttl():
    sale = journaled_awaiting()
    sale = replace(sale, order=replace(sale.order, expires_at=T0 + timedelta(hours=2)))
    state, _ = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(0))
    assert screen_for(state, at(0)).countdown == "5:00"


def test_a_cancel_that_may_never_have_reached_the_backend_is_sent_again():
    state = type_keys(awaiting(), "C", at(5))  # cancelled; the CancelOrder effect was lost with the power
    sale = replace(state.sale, deadline=None)
    assert sale.order_open
    state, effects = step(initial(SETTINGS, next_seq=2), Resumed((sale,)), at(60))
    assert effects == [CancelOrder(sale.id, "ord_1")] and state.background == (sale,)

"""The sale state machine: every transition, and the rules that are easy to get wrong."""

from dataclasses import replace
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.effects import CancelOrder, CreateOrder, JournalSale, JournalSecurity, WatchOrder
from terminal.core.events import Event, KeyPressed, OrderCreated, OrderNotCreated, OrderUpdated, Tick
from terminal.core.keys import Key
from terminal.core.machine import HANDLERS, Phase, initial, step
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate
from terminal.core.problems import Problem, ProblemKind
from terminal.core.sale import FailureKind, SaleStatus
from terminal.core.screen import screen_for

from .helpers import SETTINGS, at, awaiting, order_for, paid_update, type_keys


def creating(amount="12.50"):
    return type_keys(initial(SETTINGS), amount + "E")


# --- dispatch ------------------------------------------------------------------------------------


def test_every_kind_of_event_has_its_handler():
    assert set(HANDLERS) == set(get_args(Event))


def test_an_event_the_core_does_not_know_is_refused_loudly():
    with pytest.raises(TypeError, match="unknown event"):
        step(initial(SETTINGS), object(), at(0))  # type: ignore[arg-type]


# --- entry ---------------------------------------------------------------------------------------


def test_a_digit_on_idle_starts_entry():
    state = type_keys(initial(SETTINGS), "7")
    assert state.phase is Phase.ENTERING
    assert state.entry.amount == Amount(700, "INR")


@pytest.mark.parametrize("key", [Key.ENTER, Key.CANCEL, Key.BACKSPACE, Key.CLEAR])
def test_idle_ignores_keys_that_are_not_part_of_an_amount(key):
    state = initial(SETTINGS)
    assert step(state, KeyPressed(key), at(0)) == (state, [])


def test_cancel_while_entering_discards_the_amount():
    state = type_keys(initial(SETTINGS), "12C")
    assert state.phase is Phase.IDLE
    assert state.entry.text == ""


def test_enter_on_zero_is_refused_and_starts_nothing():
    state, effects = step(type_keys(initial(SETTINGS), "0.0"), KeyPressed(Key.ENTER), at(0))
    assert state.phase is Phase.ENTERING
    assert effects == []
    assert screen_for(state, at(0)).lines == ("Type an amount above zero",)


# --- starting a sale -----------------------------------------------------------------------------


def test_enter_journals_the_sale_then_asks_for_the_order():
    state, effects = step(type_keys(initial(SETTINGS), "12.5"), KeyPressed(Key.ENTER), at(3))
    sale = state.sale
    assert sale.status is SaleStatus.CREATING and sale.reference == "T1-000001"
    assert sale.amount == Amount(1250, "INR") and sale.started_at == at(3).wall
    journal, create = effects
    assert journal == JournalSale(sale, None, "sale started")
    assert create.request.sale_id == sale.id == "T1-ab12-000001"
    assert create.request.reference == "T1-000001"
    assert create.request.expires_in == 300
    assert screen_for(state, at(3)).title == "Preparing QR…"


def test_sequence_numbers_continue_from_the_journal():
    state = type_keys(initial(SETTINGS, next_seq=42), "5E")
    assert state.sale.reference == "T1-000042"
    assert state.next_seq == 43


# --- the order arrives ---------------------------------------------------------------------------


def test_the_order_shows_its_exact_payload_and_is_watched():
    state = creating()
    order = order_for(state)
    state, effects = step(state, OrderCreated(state.sale.id, order), at(1))
    assert state.sale.status is SaleStatus.AWAITING_PAYMENT
    assert effects == [
        JournalSale(state.sale, SaleStatus.CREATING, "QR shown for order ord_1"),
        WatchOrder(state.sale.id, "ord_1", order.expires_at),
    ]
    screen = screen_for(state, at(1))
    assert screen.name == "qr"
    assert screen.qr == order.qr.payload
    assert screen.amount == "₹12.50"
    assert screen.lines == ("to Chai Point", "chaipoint@okbank", "Ref T1-000001")
    assert screen.countdown == "5:00"


def test_the_countdown_follows_the_monotonic_clock():
    state = awaiting()
    assert screen_for(state, at(1 + 61.5)).countdown == "3:59"


@pytest.mark.parametrize("moment", [0.003, 0.005, 0.007, 17.129])
def test_a_qr_shown_at_once_gives_the_whole_time_to_pay_at_any_clock_reading(moment):
    # The seconds left are worked out in floats: at some clock readings deadline − now is a trace above 300
    # (1000.003 + 300 − 1000.003 = 300.00000000000006), and rounded up the QR's first frame said 5:01.
    state = type_keys(initial(SETTINGS), "12.50E", at(moment))
    state, _ = step(state, OrderCreated(state.sale.id, order_for(state)), at(moment))
    assert screen_for(state, at(moment)).countdown == "5:00"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"amount": Amount(1, "INR")}, "the order is for ₹0.01"),
        ({"reference": "T1-999999"}, "reference"),
        ({"payload": "upi://pay?pa=fraudster@okbank&am=12.50&tr=T1-000001&cu=INR"}, "fraudster@okbank"),
        ({"payload": "upi://pay?pa=chaipoint@okbank&am=1.00&tr=T1-000001&cu=INR"}, "asks for ₹1.00"),
        ({"payload": "upi://pay?pa=chaipoint@okbank&tr=T1-000001&cu=INR"}, "leaves the amount open"),
    ],
)
def test_a_qr_that_pays_someone_else_or_another_amount_is_never_shown(change, why):
    state = creating()
    payload = change.pop("payload", None)
    order = order_for(state, payload=payload, **change)
    state, effects = step(state, OrderCreated(state.sale.id, order), at(1))
    assert state.sale.status is SaleStatus.FAILED
    assert state.sale.failure.kind is FailureKind.QR_REFUSED
    assert why in state.sale.failure.message
    assert [type(e) for e in effects] == [JournalSale, JournalSecurity, CancelOrder]
    screen = screen_for(state, at(1))
    assert screen.name == "error" and screen.qr is None and screen.title == "QR refused"


# --- create fails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "advice"),
    [
        (ProblemKind.UNREACHABLE, "No connection"),
        (ProblemKind.TIMEOUT, "did not answer in time"),
        (ProblemKind.REJECTED, "refused the sale"),
        (ProblemKind.SERVER, "has a problem"),
        (ProblemKind.BAD_REPLY, "cannot read"),
    ],
)
def test_a_failed_create_shows_the_error_screen_and_is_journaled(kind, advice):
    state = creating()
    state, effects = step(state, OrderNotCreated(state.sale.id, Problem(kind, "detail")), at(2))
    assert state.sale.status is SaleStatus.FAILED and not state.sale.order_open
    assert effects == [JournalSale(state.sale, SaleStatus.CREATING, f"order not created: {kind}: detail")]
    screen = screen_for(state, at(2))
    assert screen.name == "error"
    assert advice in screen.lines[0]


def test_the_next_sale_works_after_a_failed_create():
    state = creating()
    state, _ = step(state, OrderNotCreated(state.sale.id, Problem(ProblemKind.UNREACHABLE)), at(2))
    state = type_keys(state, "3E", at(3))
    assert state.sale.status is SaleStatus.CREATING and state.sale.reference == "T1-000002"


def test_no_answer_to_create_fails_the_sale_on_our_timer_and_a_late_order_is_cancelled():
    state = creating()
    state, _ = step(state, Tick(), at(19))
    assert state.sale.status is SaleStatus.CREATING
    state, _ = step(state, Tick(), at(20))
    assert state.sale.status is SaleStatus.FAILED
    assert screen_for(state, at(20)).name == "error"
    state, effects = step(state, OrderCreated(state.sale.id, order_for(state)), at(25))
    assert state.sale.status is SaleStatus.FAILED
    assert effects[-1] == CancelOrder(state.sale.id, "ord_1")


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_while_creating_cancels_the_order_once_it_exists():
    state = creating()
    state, effects = step(state, KeyPressed(Key.CANCEL), at(1))
    assert state.sale.status is SaleStatus.CANCELLED
    assert [type(e) for e in effects] == [JournalSale]
    assert screen_for(state, at(1)).name == "cancelled"
    state, effects = step(state, OrderCreated(state.sale.id, order_for(state)), at(2))
    assert state.sale.status is SaleStatus.CANCELLED
    assert effects[-1] == CancelOrder(state.sale.id, "ord_1")
    assert screen_for(state, at(2)).qr is None
    state, effects = step(state, OrderUpdated(state.sale.id, OrderUpdate("ord_1", OrderStatus.CANCELLED)), at(3))
    assert not state.sale.order_open
    assert "confirms" in effects[0].cause


def test_cancel_while_creating_then_create_fails_closes_the_sale():
    state = type_keys(creating(), "C")
    state, effects = step(state, OrderNotCreated(state.sale.id, Problem(ProblemKind.SERVER)), at(2))
    assert state.sale.status is SaleStatus.CANCELLED and not state.sale.order_open
    assert [type(e) for e in effects] == [JournalSale]


def test_cancel_while_awaiting_payment_cancels_the_order():
    state = awaiting()
    state, effects = step(state, KeyPressed(Key.CANCEL), at(5))
    assert state.sale.status is SaleStatus.CANCELLED
    assert effects == [
        JournalSale(state.sale, SaleStatus.AWAITING_PAYMENT, "cancelled by the shopkeeper"),
        CancelOrder(state.sale.id, "ord_1"),
    ]


# --- payment -------------------------------------------------------------------------------------


def test_paid():
    state = awaiting()
    state, effects = step(state, OrderUpdated(state.sale.id, paid_update()), at(30))
    assert state.sale.status is SaleStatus.PAID
    assert effects == [JournalSale(state.sale, SaleStatus.AWAITING_PAYMENT, "paid")]
    screen = screen_for(state, at(30))
    assert (screen.name, screen.title, screen.amount) == ("paid", "Paid", "₹12.50")
    assert "Payment ref UTR123" in screen.lines


def test_qr_expiry_on_our_timer_cancels_the_order():
    state = awaiting()
    state, effects = step(state, Tick(), at(1 + 299))
    assert state.sale.status is SaleStatus.AWAITING_PAYMENT and effects == []
    state, effects = step(state, Tick(), at(1 + 300))
    assert state.sale.status is SaleStatus.EXPIRED
    assert effects[-1] == CancelOrder(state.sale.id, "ord_1")
    assert screen_for(state, at(301)).name == "expired"


def test_a_payment_reported_after_our_timer_ran_out_wins():
    state, _ = step(awaiting(), Tick(), at(301))
    state, effects = step(state, OrderUpdated(state.sale.id, paid_update()), at(302))
    assert state.sale.status is SaleStatus.PAID
    assert "money that arrived wins" in effects[0].cause
    assert screen_for(state, at(302)).name == "paid"


def test_a_payment_reported_after_cancel_wins():
    state = type_keys(awaiting(), "C", at(5))
    state, _ = step(state, OrderUpdated(state.sale.id, paid_update()), at(6))
    assert state.sale.status is SaleStatus.PAID


def test_a_late_payment_for_a_sale_no_longer_on_screen_comes_back_when_idle():
    state, _ = step(awaiting(), Tick(), at(301))
    state = type_keys(state, "E", at(302))
    assert state.phase is Phase.IDLE and len(state.background) == 1
    sale_id = state.background[0].id
    state, _ = step(state, OrderUpdated(sale_id, paid_update()), at(310))
    assert state.phase is Phase.SALE and state.sale.status is SaleStatus.PAID
    assert state.background == ()


def test_a_late_payment_while_typing_the_next_sale_is_a_notice():
    state, _ = step(awaiting(), Tick(), at(301))
    state = type_keys(state, "4", at(302))
    sale_id = state.background[0].id
    state, effects = step(state, OrderUpdated(sale_id, paid_update()), at(303))
    assert state.phase is Phase.ENTERING and state.entry.amount == Amount(400, "INR")
    assert effects[0].sale.status is SaleStatus.PAID
    assert screen_for(state, at(303)).notice == "Earlier sale T1-000001 was paid (₹12.50)"


def test_a_repeated_status_changes_nothing():
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update()), at(30))
    assert step(state, OrderUpdated(state.sale.id, paid_update()), at(31)) == (state, [])


@pytest.mark.parametrize("status", [OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED])
def test_nothing_undoes_a_payment(status):
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update()), at(30))
    assert step(state, OrderUpdated(state.sale.id, OrderUpdate("ord_1", status)), at(31)) == (state, [])


def test_a_status_for_another_order_or_sale_changes_nothing():
    state = awaiting()
    assert step(state, OrderUpdated(state.sale.id, paid_update(order_id="ord_other")), at(3)) == (state, [])
    assert step(state, OrderUpdated("T9-x-000001", paid_update()), at(3)) == (state, [])
    assert step(state, OrderCreated("T9-x-000001", order_for(state)), at(3)) == (state, [])


def test_a_pending_status_changes_nothing():
    state = awaiting()
    assert step(state, OrderUpdated(state.sale.id, OrderUpdate("ord_1", OrderStatus.PENDING)), at(3)) == (state, [])


def test_the_backend_reports_a_declined_payment():
    state = awaiting()
    update = OrderUpdate("ord_1", OrderStatus.FAILED, failure_code="declined", failure_message="Declined by bank")
    state, effects = step(state, OrderUpdated(state.sale.id, update), at(9))
    assert state.sale.status is SaleStatus.FAILED and state.sale.failure.kind is FailureKind.DECLINED
    assert [type(e) for e in effects] == [JournalSale]
    screen = screen_for(state, at(9))
    assert (screen.name, screen.lines[0]) == ("failed", "Declined by bank")


@pytest.mark.parametrize(
    ("status", "ended"), [(OrderStatus.EXPIRED, SaleStatus.EXPIRED), (OrderStatus.CANCELLED, SaleStatus.CANCELLED)]
)
def test_the_backend_ends_the_order(status, ended):
    state = awaiting()
    state, effects = step(state, OrderUpdated(state.sale.id, OrderUpdate("ord_1", status)), at(9))
    assert state.sale.status is ended and not state.sale.order_open
    assert [type(e) for e in effects] == [JournalSale]


# --- after the result ----------------------------------------------------------------------------


def test_the_result_screen_returns_to_idle_after_its_time():
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update()), at(30))
    state, _ = step(state, Tick(), at(39))
    assert state.phase is Phase.SALE
    state, _ = step(state, Tick(), at(40))
    assert state.phase is Phase.IDLE and screen_for(state, at(40)).name == "idle"


def test_a_digit_on_the_result_screen_starts_the_next_amount():
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update()), at(30))
    state = type_keys(state, "9", at(31))
    assert state.phase is Phase.ENTERING and state.entry.amount == Amount(900, "INR")


def test_keys_other_than_cancel_do_nothing_while_the_qr_is_shown():
    state = awaiting()
    for key in (Key.D5, Key.ENTER, Key.BACKSPACE, Key.POINT):
        assert step(state, KeyPressed(key), at(2)) == (state, [])


# --- invariants over any sequence of events ------------------------------------------------------

EVENTS = st.sampled_from(
    ["key", "tick", "created", "created_bad", "not_created", "paid", "failed", "expired", "cancelled", "paid_other"]
)
KEYS = st.sampled_from([Key.D1, Key.D0, Key.POINT, Key.ENTER, Key.CANCEL, Key.BACKSPACE])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(EVENTS, KEYS, st.integers(0, 400)), max_size=40))
def test_journal_first_paid_is_final_and_only_guarded_qrs_are_shown(script):
    state = initial(SETTINGS)
    clock = 0.0
    paid: set[str] = set()
    for kind, key, dt in script:
        clock += dt
        now = at(clock)
        sale = state.sale or (state.background[-1] if state.background else None)
        sid = sale.id if sale else "none"
        event = {
            "key": KeyPressed(key),
            "tick": Tick(),
            "created": OrderCreated(sid, order_for(state)) if state.sale else Tick(),
            "created_bad": OrderCreated(
                sid, replace(order_for(state), payee=replace(order_for(state).payee, id="fraud@okbank"))
            )
            if state.sale
            else Tick(),
            "not_created": OrderNotCreated(sid, Problem(ProblemKind.SERVER)),
            "paid": OrderUpdated(sid, paid_update()),
            "failed": OrderUpdated(sid, OrderUpdate("ord_1", OrderStatus.FAILED)),
            "expired": OrderUpdated(sid, OrderUpdate("ord_1", OrderStatus.EXPIRED)),
            "cancelled": OrderUpdated(sid, OrderUpdate("ord_1", OrderStatus.CANCELLED)),
            "paid_other": OrderUpdated(sid, paid_update(order_id="ord_2")),
        }[kind]
        state, effects = step(state, event, now)
        if effects:
            assert isinstance(effects[0], JournalSale), effects
        for effect in effects:
            if isinstance(effect, JournalSale):
                assert effect.sale.id not in paid, "a paid sale changed"
                if effect.sale.status is SaleStatus.PAID:
                    paid.add(effect.sale.id)
            if isinstance(effect, (CreateOrder, WatchOrder)):
                assert effects.index(effect) > 0
        screen = screen_for(state, now)
        if screen.qr is not None:
            assert state.sale.status is SaleStatus.AWAITING_PAYMENT
            assert "chaipoint@okbank" in screen.qr

"""The manager's menu and refunds, as pure rules: PIN and lockout, recent sales, refunds, reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from terminal.core.effects import (
    CheckPin,
    JournalRefund,
    LoadRecent,
    MakeReport,
    PrintReceipt,
    PrintRefundSlip,
    PrintReport,
    RequestRefund,
    SavePinLock,
)
from terminal.core.events import (
    KeyPressed,
    OrderUpdated,
    PinChecked,
    RecentLoaded,
    RefundUpdated,
    ReportAddendum,
    ReportReady,
    Resumed,
    SaleRecord,
    Tick,
)
from terminal.core.keys import Key
from terminal.core.machine import Phase, initial, step
from terminal.core.menu import IDLE_CLOSE, View
from terminal.core.money import Amount
from terminal.core.pin import LOCK_SECONDS, PinLock
from terminal.core.refund import Refund, RefundStatus, new_refund, refusal, remaining
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for

from .helpers import SETTINGS, T0, at, awaiting, paid_update

PRINTING = replace(SETTINGS, printer=True)


def press(state, keys, now=None):
    effects = []
    names = {"E": Key.ENTER, "C": Key.CANCEL, "<": Key.BACKSPACE, ".": Key.POINT, "M": Key.MENU}
    for char in keys:
        state, more = step(state, KeyPressed(names.get(char) or Key(char)), now or at(0))
        effects += more
    return state, effects


def unlocked(settings=PRINTING):
    state, effects = press(initial(settings), "M1234E")
    assert effects == [CheckPin("1234")]
    state, effects = step(state, PinChecked(True), at(0))
    assert state.menu.view is View.MAIN
    return state


def paid_record(minor=1250, refunds=()):
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update(minor=minor)), at(2))
    assert state.sale.status is SaleStatus.PAID
    return SaleRecord(state.sale, tuple(refunds), "27 Nov 10:00")


def in_detail(record, settings=PRINTING):
    state, effects = press(unlocked(settings), "1")
    assert effects == [LoadRecent(20)]
    state, _ = step(state, RecentLoaded((record,)), at(0))
    state, _ = press(state, "1")
    assert state.menu.view is View.DETAIL
    return state


# --- PIN ----------------------------------------------------------------------------------------


def test_menu_key_opens_the_pin_prompt_and_the_pin_is_masked():
    state, effects = press(initial(SETTINGS), "M12")
    assert state.phase is Phase.MENU and effects == []
    model = screen_for(state, at(0))
    assert model.name == "menu-pin" and model.amount == "••" and "12" not in repr(model)


def test_menu_key_is_ignored_while_an_amount_is_typed_or_a_customer_pays():
    typing, _ = press(initial(SETTINGS), "12M")
    assert typing.phase is Phase.ENTERING
    paying = awaiting()
    assert step(paying, KeyPressed(Key.MENU), at(2)) == (paying, [])


def test_a_short_pin_is_refused_without_checking():
    state, effects = press(initial(SETTINGS), "M12E")
    assert effects == [] and "4 to 8 digits" in state.menu.message


def test_check_pin_never_shows_the_pin_in_its_repr():
    assert "1234" not in repr(CheckPin("1234"))


def test_five_wrong_pins_lock_the_menu_for_five_minutes():
    state = initial(SETTINGS)
    for attempt in range(1, 6):
        state, _ = press(state, "M9999E" if attempt == 1 or state.phase is not Phase.MENU else "9999E")
        state, effects = step(state, PinChecked(False), at(0))
        assert effects == [SavePinLock(state.pin_lock)]
    assert state.phase is Phase.IDLE
    assert state.pin_lock.locked_until == T0 + timedelta(seconds=LOCK_SECONDS)
    assert "locked for 5:00" in state.notice
    again, effects = press(state, "M", at(60))
    assert again.phase is Phase.IDLE and effects == [] and "try again in 4:00" in again.notice
    # After the five minutes, the prompt opens again.
    later, _ = press(state, "M", at(LOCK_SECONDS + 1))
    assert later.phase is Phase.MENU


def test_the_lock_survives_a_restart_through_the_journaled_lock():
    lock = PinLock(0, T0 + timedelta(seconds=100))
    state, _ = press(initial(SETTINGS, pin_lock=lock), "M", at(10))
    assert state.phase is Phase.IDLE and "try again in 1:30" in state.notice


def test_a_wrong_pin_says_how_many_tries_are_left_and_a_right_one_clears_the_count():
    state, _ = press(initial(SETTINGS), "M1111E")
    state, _ = step(state, PinChecked(False), at(0))
    assert state.menu.message == "Wrong PIN: 4 tries left before the menu locks"
    state, _ = press(state, "2222E")
    state, effects = step(state, PinChecked(True), at(0))
    assert state.pin_lock == PinLock() and effects == [SavePinLock(PinLock())]


def test_no_pin_set_closes_the_menu_with_what_to_do():
    state, _ = press(initial(SETTINGS), "M1234E")
    state, _ = step(state, PinChecked(None), at(0))
    assert state.phase is Phase.IDLE and "qr-terminal set-pin" in state.notice


def test_a_menu_nobody_touches_closes_itself():
    state = unlocked()
    state, _ = step(state, Tick(), at(IDLE_CLOSE + 1))
    assert state.phase is Phase.IDLE and state.menu is None


# --- recent sales -------------------------------------------------------------------------------


def test_recent_sales_are_listed_five_a_page():
    record = paid_record()
    records = tuple(replace(record, sale=replace(record.sale, reference=f"T1-{i:06d}")) for i in range(1, 13))
    state, _ = press(unlocked(), "1")
    assert screen_for(state, at(0)).lines == ("Reading the journal…",)
    state, _ = step(state, RecentLoaded(records), at(0))
    model = screen_for(state, at(0))
    assert len(model.lines) == 5 and model.lines[0].startswith("1  27 Nov 10:00  ₹12.50  paid  T1-000001")
    assert "(1/3)" in model.hint
    state, _ = press(state, "EE")
    assert screen_for(state, at(0)).lines == (
        "1  27 Nov 10:00  ₹12.50  paid  T1-000011",
        "2  27 Nov 10:00  ₹12.50  paid  T1-000012",
    )
    state, _ = press(state, "3")  # no third row on the last page
    assert state.menu.view is View.RECENT
    state, _ = press(state, "2")
    assert state.menu.chosen.sale.reference == "T1-000012"


def test_reprint_from_the_details():
    record = paid_record()
    _, effects = press(in_detail(record), "1")
    assert effects == [PrintReceipt(record.sale, reprint=True)]


# --- refunds ------------------------------------------------------------------------------------


def test_full_refund_with_nothing_typed():
    record = paid_record()
    state, _ = press(in_detail(record), "2")
    assert state.menu.view is View.REFUND_AMOUNT
    state, _ = press(state, "E")
    assert state.menu.view is View.REFUND_CONFIRM and state.menu.amount == Amount(1250, "INR")
    state, effects = press(state, "E", at(30))
    refund = Refund(
        "T1-ab12-000001-R1",
        record.sale.id,
        "T1-000001",
        "ord_1",
        Amount(1250, "INR"),
        RefundStatus.REQUESTED,
        T0 + timedelta(seconds=30),
    )
    assert effects == [JournalRefund(refund, "refund requested by the manager"), RequestRefund(refund)]
    assert state.refunds_open == (refund,)
    assert screen_for(state, at(30)).lines[0] == "Sending the refund…"


def test_two_partial_refunds_that_would_exceed_the_payment_the_second_is_refused():
    record = paid_record()
    state, _ = press(in_detail(record), "2")
    state, _ = press(state, "800EE")
    first = state.refunds_open[0]
    assert first.amount == Amount(800, "INR")
    state, _ = press(state, "E")  # back to the details: the first refund is counted, still pending
    state, _ = press(state, "2")
    assert state.menu.entry.maximum == Amount(450, "INR")
    state, _ = press(state, "5")
    assert state.menu.entry.message == "Maximum is ₹4.50"  # the keypad refuses the digit that goes over
    state, _ = press(state, "<")
    assert refusal(record.sale, (first,), Amount(500, "INR")) == "at most ₹4.50 is left to refund"
    state, _ = press(state, "4.5EE")
    second = state.refunds_open[1]
    assert second.id.endswith("-R2") and second.amount == Amount(450, "INR")
    state, _ = press(state, "E2")
    assert "No refund" in state.menu.message


def test_refund_refused_for_sales_that_are_not_paid():
    record = paid_record()
    expired = replace(record, sale=replace(record.sale, status=SaleStatus.EXPIRED, payments=()))
    state, effects = press(in_detail(expired), "2")
    assert effects == [] and state.menu.view is View.DETAIL
    assert "only paid sales" in state.menu.message


def test_a_failed_refund_no_longer_counts_against_what_remains():
    record = paid_record()
    failed = Refund("x-R1", record.sale.id, "T1-000001", "ord_1", Amount(1250, "INR"), RefundStatus.FAILED, T0)
    assert remaining(record.sale, (failed,)) == Amount(1250, "INR")


def test_refund_succeeded_is_journaled_and_its_slip_printed():
    record = paid_record()
    state, _ = press(in_detail(record), "2")
    state, _ = press(state, "500EE")
    refund = state.refunds_open[0]
    state, effects = step(state, RefundUpdated(refund.id, RefundStatus.PENDING, "rfd_1"), at(31))
    pending = replace(refund, status=RefundStatus.PENDING, provider_id="rfd_1")
    assert effects == [JournalRefund(pending, "backend: refund pending")]
    assert step(state, RefundUpdated(refund.id, RefundStatus.PENDING, "rfd_1"), at(32)) == (state, [])
    state, effects = step(state, RefundUpdated(refund.id, RefundStatus.SUCCEEDED, "rfd_1"), at(33))
    done = replace(pending, status=RefundStatus.SUCCEEDED)
    assert effects == [JournalRefund(done, "backend: refund succeeded"), PrintRefundSlip(done)]
    assert state.refunds_open == () and state.last_refund == done
    assert screen_for(state, at(33)).title == "Refund" and screen_for(state, at(33)).lines[0] == "Refund done"


def test_refund_failed_outside_the_menu_becomes_a_notice():
    record = paid_record()
    state, _ = press(in_detail(record), "2")
    state, _ = press(state, "500EE")
    refund = state.refunds_open[0]
    state, _ = press(state, "CCCC")
    assert state.phase is Phase.IDLE
    state, effects = step(state, RefundUpdated(refund.id, RefundStatus.FAILED, None, "refund_too_large"), at(40))
    assert [type(e).__name__ for e in effects] == ["JournalRefund"]
    assert state.notice == "Refund T1-000001-R1 failed: refund_too_large"


def test_refunds_a_restart_interrupted_are_asked_for_again():
    refund = Refund(
        "T1-ab12-000001-R1", "T1-ab12-000001", "T1-000001", "ord_1", Amount(500, "INR"), RefundStatus.REQUESTED, T0
    )
    state, effects = step(initial(SETTINGS), Resumed((), (), (refund,)), at(0))
    assert state.refunds_open == (refund,) and effects == [RequestRefund(refund)]


# --- reports ------------------------------------------------------------------------------------


def test_x_report_on_screen_then_printed():
    state, effects = press(unlocked(), "2")
    assert effects == [MakeReport("x")]
    lines = ("X report", "from a", "to b", "-- INR", "paid 1 INR 12.50")
    state, _ = step(state, ReportReady("x", lines), at(0))
    state, _ = step(state, ReportAddendum("x", ("reconciliation: no mismatch",)), at(0))
    assert screen_for(state, at(0)).lines == ("-- INR", "paid 1 INR 12.50", "reconciliation: no mismatch")
    state, effects = press(state, "E")
    assert effects == [PrintReport("x", (*lines, "reconciliation: no mismatch"))]


def test_z_report_asks_first():
    state, effects = press(unlocked(), "3")
    assert effects == [] and state.menu.view is View.Z_CONFIRM
    state, effects = press(state, "E")
    assert effects == [MakeReport("z")]


# --- money not as asked (issue #14) -------------------------------------------------------------


def twice_record():
    twice = replace(paid_update(), payments=paid_update().payments * 2)
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", twice), at(2))
    assert state.sale.status is SaleStatus.PAID
    return SaleRecord(state.sale, (), "27 Nov 10:00")


def test_a_sale_paid_twice_offers_the_extra_as_a_one_key_refund():
    state = in_detail(twice_record())
    screen = screen_for(state, at(0))
    assert "Paid twice: ₹12.50 more than the sale" in screen.lines
    assert "3: refund the extra ₹12.50" in screen.hint
    state, effects = press(state, "3")
    assert (state.menu.view, state.menu.amount) == (View.REFUND_CONFIRM, Amount(1250, "INR"))
    state, effects = press(state, "E")
    refund = next(e.refund for e in effects if isinstance(e, RequestRefund))
    assert refund.amount == Amount(1250, "INR")


def test_the_extra_once_refunded_is_not_offered_again():
    record = twice_record()
    done = Refund(
        "T1-ab12-000001-R1",
        record.sale.id,
        record.sale.reference,
        "ord_1",
        Amount(1250, "INR"),
        RefundStatus.SUCCEEDED,
        T0,
    )
    state = in_detail(replace(record, refunds=(done,)))
    assert "3: refund" not in screen_for(state, at(0)).hint
    state, _ = press(state, "3")
    assert state.menu.message == "Nothing was paid beyond the sale's amount"


def test_an_underpaid_sale_can_refund_what_arrived_and_a_mismatch_cannot():
    state, _ = step(awaiting(), OrderUpdated("T1-ab12-000001", paid_update(minor=1)), at(2))
    under = state.sale
    assert under.status is SaleStatus.UNDERPAID
    assert refusal(under, (), Amount(1, "INR")) is None
    assert refusal(under, (), Amount(2, "INR")) == "at most ₹0.01 is left to refund"
    mismatch = replace(under, status=SaleStatus.MISMATCH)
    assert "settle it with your payment provider" in refusal(mismatch, (), Amount(1, "INR"))


# --- views whose sale is missing (no assert decides the flow) -----------------------------------


def test_a_refund_view_that_lost_its_sale_goes_back_to_the_list_on_screen_and_on_the_next_key():
    state = in_detail(paid_record())
    for view in (View.DETAIL, View.REFUND_AMOUNT, View.REFUND_CONFIRM):
        lost = replace(state, menu=replace(state.menu, view=view, chosen=None))
        assert screen_for(lost, at(0)).title == "Recent sales"
        after, effects = press(lost, "1")
        assert after.menu.view is View.RECENT and effects == []


def test_a_new_refund_of_a_sale_without_an_order_is_refused_in_words():
    sale = replace(paid_record().sale, order=None)
    with pytest.raises(ValueError, match="has no order to refund"):
        new_refund(sale, (), sale.amount, T0)

"""Review of issue #14's payment matching: inputs from a compromised or buggy backend (or a customer paying twice)
where the money-deciding behaviour is still wrong. Pure core: ``step``, ``match``, ``parse_update``, ``event_for``.
Each test states the exact input, what happens today and what must happen."""

from __future__ import annotations

from dataclasses import replace

import pytest

from terminal.backends.contract import parse_update
from terminal.core.effects import Announce, JournalSale, JournalSecurity, WatchOrder
from terminal.core.events import OrderCreated, OrderUpdated, Resumed, Tick
from terminal.core.machine import initial, step
from terminal.core.matching import LIMIT, Verdict, match
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate, Payment, ProviderRefund
from terminal.core.refund import extra_left
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for
from terminal.core.till import MAX_LINE, event_for

from .helpers import SETTINGS, at, awaiting, order_for, type_keys

ASKED = Amount(1250, "INR")


def inr(minor: int, pay_id: str, ref: str | None = None) -> Payment:
    return Payment(Amount(minor, "INR"), provider_ref=ref or f"UTR-{pay_id}", id=pay_id)


def paid(*payments: Payment, order_id: str = "ord_1") -> OrderUpdate:
    return OrderUpdate(order_id, OrderStatus.PAID, payments)


def wire_payment(value: object, pay_id: str, currency: str = "INR") -> dict:
    return {
        "id": pay_id,
        "amount": {"value": value, "currency": currency},
        "at": "2026-11-27T10:00:30Z",
        "provider_ref": f"UTR-{pay_id}",
    }


# --- 1. the same capture reported twice is counted twice -----------------------------------------------------


def test_review_one_capture_of_half_the_amount_reported_twice_is_not_paid_green_beeped_or_spoken():
    # Input: GET order → {"status": "paid", "payments": [P, P]} where P = {"id": "pay_1", value 625 INR} (a buggy
    # backend or a paging bug repeats the same capture). Only ₹6.25 arrived. Today: the ids are never compared,
    # 625 + 625 = 1250 = the sale's amount → verdict PAID: green "Paid", success beep and the voice says ₹12.50.
    # Must: a payment id seen twice is one payment (₹6.25: underpaid), or the reply is a mismatch — never green.
    state = replace(awaiting(), settings=replace(SETTINGS, voice_language="en"), voice_on=True, volume=5)
    same = inr(625, "pay_1")
    state, effects = step(state, OrderUpdated(state.sale.id, paid(same, same)), at(30))
    assert state.sale.status is not SaleStatus.PAID
    assert screen_for(state, at(30)).name != "paid"
    assert not [e for e in effects if isinstance(e, Announce)]


def test_review_one_capture_reported_again_is_not_paid_twice_and_offers_no_refund_of_the_real_payment():
    # Input: first {"payments": [pay_1 1250 INR]} → Paid; then {"payments": [pay_1, pay_1]} (the same capture
    # again). Today: "Paid twice", "Refund the extra ₹12.50 from the menu", RESULT … OVERPAID 25.00, and menu key 3
    # refunds ₹12.50 — the only money that arrived (the provider accepts: 1250 was captured). Must: stay Paid.
    state = awaiting()
    sale_id = state.sale.id
    state, _ = step(state, OrderUpdated(sale_id, paid(inr(1250, "pay_1"))), at(30))
    state, _ = step(state, OrderUpdated(sale_id, paid(inr(1250, "pay_1"), inr(1250, "pay_1"))), at(40))
    assert screen_for(state, at(40)).title == "Paid"
    assert extra_left(state.sale, ()) is None


# --- 2. `payments` and `paid` that contradict each other ------------------------------------------------------


def test_review_a_payments_list_contradicting_the_v1_paid_object_is_not_green():
    # Input: {"status": "paid", "payments": [{"id": "pay_1", 1250 INR}], "paid": {"id": "pay_1", 1 INR}}.
    # A v1 reader (and v1 terminals on the same backend) reads ₹0.01; we read ₹12.50. Today: green "Paid", the
    # till gets PAID 12.50. Must: a reply whose two readings differ is a mismatch (the guard's own principle:
    # accept only what every reader reads the same way), never green.
    reply = {
        "id": "ord_1",
        "status": "paid",
        "payments": [wire_payment(1250, "pay_1")],
        "paid": wire_payment(1, "pay_1"),
    }
    state = awaiting()
    state, _ = step(state, OrderUpdated(state.sale.id, parse_update(reply)), at(30))
    assert state.sale.status is not SaleStatus.PAID
    assert screen_for(state, at(30)).name != "paid"


# --- 3. "paid" with an empty payments list is a bad reply, polled again silently ------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"payments": [], "paid": wire_payment(1250, "pay_1")},  # v1.1 list empty, v1 object says 12.50 arrived
        {"payments": []},  # paid, naming no payment
    ],
    ids=["empty-list-with-paid-object", "empty-list"],
)
def test_review_status_paid_with_an_empty_payments_list_is_a_mismatch_not_a_reply_polled_until_expiry(extra):
    # Input: {"status": "paid", "payments": [] (, "paid": {1250 INR})}. Today parse_update raises
    # BackendError(bad_reply); the watcher backs off and polls again, silently, until the QR's timer ends the sale
    # "QR expired — No payment received" and the shopkeeper asks the customer to pay again. matching.match has a
    # "the backend says paid but names no payment" mismatch for exactly this, but it is unreachable.
    # Must: the backend's "paid" is shown (a mismatch with the reason), never dropped.
    reply = {"id": "ord_1", "status": "paid", **extra}
    update = parse_update(reply)  # today: raises bad_reply
    state = awaiting()
    state, _ = step(state, OrderUpdated(state.sale.id, update), at(30))
    assert state.sale.status is SaleStatus.MISMATCH


# --- 4. a second payment the terminal cannot read is ignored on a paid sale -----------------------------------


def test_review_an_unreadable_second_payment_on_a_paid_sale_is_shown_not_dropped():
    # Input: first {"payments": [pay_1 1250 INR]} → Paid; then {"payments": [pay_1 1250 INR,
    # {"id": "pay_2", "amount": {"value": "1250", "currency": "INR"}}]}. parse_update drops *every* payment when
    # one is unreadable (payments=(), unreadable_payment=…), so _order_updated compares 0 > 1 payments and ignores
    # it; the watcher then counts 0 and never posts it again. Today: nothing happens, the sale stays green Paid.
    # Must: money the terminal cannot read is a mismatch the shopkeeper sees (issue #14), journaled as security.
    state = awaiting()
    sale_id = state.sale.id
    state, _ = step(state, OrderUpdated(sale_id, paid(inr(1250, "pay_1"))), at(30))
    reply = {"id": "ord_1", "status": "paid", "payments": [wire_payment(1250, "pay_1"), wire_payment("1250", "pay_2")]}
    state, effects = step(state, OrderUpdated(sale_id, parse_update(reply)), at(40))
    assert [e for e in effects if isinstance(e, JournalSecurity)]
    assert state.sale.status is SaleStatus.MISMATCH


# --- 5. a later payment on a sale no longer on screen (nor the last paid) is ignored --------------------------


def test_review_the_rest_paid_after_an_underpaid_screen_timed_out_is_journaled():
    # Input: {"payments": [pay_1 1 INR]} → Underpaid ("ask for the rest"); the result screen times out (10 s);
    # then {"payments": [pay_1 1, pay_2 1249]} on the same order (the watcher still follows it until expiry).
    # Today: the underpaid sale left the screen with order_open=False, is not in the background and is not
    # last_paid (only PAID sales are), so the update is dropped: the journal keeps "underpaid ₹0.01", reports
    # count ₹0.01 while ₹12.50 arrived. Must: the sale becomes paid (journaled, told to the till).
    state = awaiting()
    sale_id = state.sale.id
    state, _ = step(state, OrderUpdated(sale_id, paid(inr(1, "pay_1"))), at(30))
    assert state.sale.status is SaleStatus.UNDERPAID
    state, _ = step(state, Tick(), at(45))  # the result screen's 10 s are over
    state, effects = step(state, OrderUpdated(sale_id, paid(inr(1, "pay_1"), inr(1249, "pay_2"))), at(60))
    journaled = [e for e in effects if isinstance(e, JournalSale)]
    assert journaled and journaled[0].sale.status is SaleStatus.PAID


def test_review_a_second_payment_on_a_paid_sale_is_seen_after_the_next_sale_was_paid_too():
    # Input: sale A (ord_1) paid 12.50; sale B (ord_2) started and paid 3.00; then A's customer pays A's QR again
    # (still valid: 5 minutes) → {"id": "ord_1", "payments": [pay_1 1250, pay_2 1250]}. Today: A is neither on
    # screen, in the background, nor last_paid (B is), so the update is dropped: no "paid twice", no refund prompt,
    # the journal and the X report miss ₹12.50. Must: journaled as paid twice with a notice.
    state = awaiting()
    a_id = state.sale.id
    state, _ = step(state, OrderUpdated(a_id, paid(inr(1250, "pay_1"))), at(30))
    state, _ = step(state, Tick(), at(45))
    state = type_keys(state, "3E", at(50))
    b_id = state.sale.id
    state, _ = step(state, OrderCreated(b_id, order_for(state, id="ord_2")), at(51))
    state, _ = step(state, OrderUpdated(b_id, paid(inr(300, "pay_9"), order_id="ord_2")), at(60))
    assert state.sale.id == b_id and state.sale.status is SaleStatus.PAID and state.last_paid.id == b_id
    state, effects = step(state, OrderUpdated(a_id, paid(inr(1250, "pay_1"), inr(1250, "pay_2"))), at(70))
    journaled = [e for e in effects if isinstance(e, JournalSale)]
    assert journaled and journaled[0].sale.id == a_id and len(journaled[0].sale.payments) == 2


# --- 6. after a restart nothing follows a paid (or underpaid) order whose QR is still valid -------------------


@pytest.mark.parametrize("minor", [1250, 1], ids=["paid", "underpaid"])
def test_review_after_a_restart_a_received_sale_whose_qr_is_still_valid_is_followed_for_more_payments(journal, minor):
    # Input: sale paid (or underpaid) at 10:00:30, QR valid until 10:05; power cut; restart at 10:01. Today:
    # Journal.unfinished_sales() excludes it (order_open = 0 / status paid) and Resumed starts no WatchOrder, so a
    # second payment (or the rest) on that QR is never seen. Must: follow it until its QR's expiry, as before.
    state = awaiting()
    state, effects = step(state, OrderUpdated(state.sale.id, paid(inr(minor, "pay_1"))), at(30))
    for effect in effects:
        if isinstance(effect, JournalSale):
            journal.record_sale(effect.sale, effect.previous, effect.cause, at(30).wall)
    _, effects = step(initial(SETTINGS), Resumed(journal.unfinished_sales()), at(60))
    assert [e for e in effects if isinstance(e, WatchOrder) and e.order_id == "ord_1"]


# --- 7. payments each within ±10^15 whose sum is beyond it ---------------------------------------------------


def test_review_payments_summing_beyond_the_limit_are_a_mismatch():
    # Input: {"payments": [pay_1 10^15 INR, pay_2 10^15 INR]} for a sale of 12.50. Each is at the limit, the sum
    # (2·10^15) is beyond. Today: PAID_TWICE — amber "Paid twice", "Refund the extra ₹19,999,999,999,987.50", and
    # the journal's paid_minor is NULL (countable is None), so the X/Z report counts the sale as paid ₹12.50 with
    # no extra. Must: an amount beyond ±10^15 is a mismatch (issue #14), whatever the number of payments.
    found = match(ASKED, (inr(LIMIT, "pay_1"), inr(LIMIT, "pay_2")))
    assert found.verdict is Verdict.MISMATCH


# --- 8. a refunded / partially refunded order is ignored while the QR is shown ------------------------------


def test_review_a_partially_refunded_order_seen_while_awaiting_is_not_expired_as_no_payment_received():
    # Input: while the QR is shown, the first status the terminal sees is {"status": "partially_refunded",
    # "payments": [pay_1 1250 INR], "refunds": [{"id": "rf_1", "status": "succeeded", 250 INR}]} (a poll missed
    # the short "paid" moment). Today: _order_updated ignores every status but paid/failed/expired/cancelled; the
    # timer then ends the sale "QR expired — No payment received" and cancels it, while ₹10.00 stayed with the shop.
    # Must: money that arrived is shown (matched like paid), never "No payment received".
    state = awaiting()
    update = OrderUpdate(
        "ord_1",
        OrderStatus.PARTIALLY_REFUNDED,
        (inr(1250, "pay_1"),),
        refunds=(ProviderRefund("rf_1", "succeeded", Amount(250, "INR")),),
    )
    state, effects = step(state, OrderUpdated(state.sale.id, update), at(30))
    assert [e.sale.status for e in effects if isinstance(e, JournalSale)] == [SaleStatus.PAID]
    state, effects = step(state, Tick(), at(400))  # past the QR's 300 s
    assert state.sale is None or state.sale.status is not SaleStatus.EXPIRED
    assert not [e for e in effects if isinstance(e, JournalSale)]


# --- 9. the till line for an absurd amount breaks the protocol's 200 characters ------------------------------


def test_review_the_till_result_line_for_an_absurd_amount_stays_within_the_protocol_line_limit():
    # Input: {"payments": [{"value": 10^200, "currency": "INR"}]} (any int JSON carries, up to 4300 digits).
    # Today: RESULT T1-000001 MISMATCH 1000…000.00 INR UTR-pay_1 — over 200 characters, which docs/till-protocol.md
    # says no line is (a till with a 200-byte buffer loses the line or splits it). Must: at most 200 characters.
    state = awaiting()
    state, effects = step(state, OrderUpdated(state.sale.id, paid(inr(10**200, "pay_1"))), at(30))
    [journaled] = [e for e in effects if isinstance(e, JournalSale)]
    line = event_for(journaled.sale, journaled.previous)
    assert line is not None and line.startswith("RESULT T1-000001 MISMATCH")
    assert len(line) <= MAX_LINE


# --- 10. a final status that lists payments is shown as "No payment received" ----------------------------------


@pytest.mark.parametrize("status", [OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED])
def test_review_a_final_status_that_lists_a_captured_payment_is_not_no_payment_received(status):
    # Input: {"status": "expired" (or cancelled / failed), "payments": [{"id": "pay_1", 1250 INR}]}: a reply that
    # contradicts itself (money captured, order not paid). Today: parse_update keeps the payments, but the machine
    # reads only the status: "QR expired — No payment received" (or "Payment failed"), and the shopkeeper asks the
    # customer to pay again. Must: money the backend lists is never shown as no payment (a mismatch, at least).
    state = awaiting()
    update = OrderUpdate("ord_1", status, (inr(1250, "pay_1"),))
    state, _ = step(state, OrderUpdated(state.sale.id, update), at(30))
    assert state.sale.status not in (SaleStatus.EXPIRED, SaleStatus.CANCELLED, SaleStatus.FAILED)

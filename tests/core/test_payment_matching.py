"""Payment matching (issue #14): "Paid" only for the right money. Each case is what a compromised or buggy
backend (or a customer who paid twice) reports, and what the terminal must do with it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from terminal.core.effects import Announce, JournalSale, JournalSecurity, PrintReceipt
from terminal.core.events import OrderUpdated
from terminal.core.machine import step
from terminal.core.matching import LIMIT, Verdict, match
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate, Payment
from terminal.core.sale import SaleStatus
from terminal.core.screen import screen_for
from terminal.core.signals import ATTENTION, FAILED, PAID, pattern_for
from terminal.core.till import event_for

from .helpers import SETTINGS, at, awaiting

ASKED = Amount(1250, "INR")


def inr(minor: int, ref: str = "UTR1") -> Payment:
    return Payment(Amount(minor, "INR"), provider_ref=ref)


def paid(*payments: Payment, unreadable: str | None = None) -> OrderUpdate:
    return OrderUpdate("ord_1", OrderStatus.PAID, payments, unreadable_payment=unreadable)


def after(update: OrderUpdate, settings=SETTINGS):
    state = awaiting()
    state = replace(state, settings=replace(state.settings, **settings)) if isinstance(settings, dict) else state
    return step(state, OrderUpdated(state.sale.id, update), at(30))


# --- the rule itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payments", "verdict", "received", "extra"),
    [
        ((inr(1250),), Verdict.PAID, 1250, None),
        ((inr(500), inr(750)), Verdict.PAID, 1250, None),  # one sale paid in two parts: paid, not twice
        ((inr(1),), Verdict.UNDERPAID, 1, None),
        ((inr(1500),), Verdict.OVERPAID, 1500, 250),
        ((inr(1250), inr(1250, "UTR2")), Verdict.PAID_TWICE, 2500, 1250),
    ],
)
def test_the_sum_of_every_payment_is_compared_with_the_amount(payments, verdict, received, extra):
    found = match(ASKED, payments)
    assert found.verdict is verdict
    assert found.received == Amount(received, "INR")
    assert found.extra == (Amount(extra, "INR") if extra is not None else None)


@pytest.mark.parametrize(
    ("payment", "reason"),
    [
        (Payment(Amount(1250, "JPY")), "paid in JPY, the sale is in INR"),
        (Payment(Amount(10**30, "INR")), "beyond any sale"),
        (Payment(Amount(LIMIT + 1, "INR")), "beyond any sale"),
        (Payment(Amount(0, "INR")), "a payment of 0 minor units"),
    ],
)
def test_money_that_cannot_be_the_sales_is_a_mismatch(payment, reason):
    found = match(ASKED, (payment,))
    assert found.verdict is Verdict.MISMATCH
    assert reason in found.reason
    assert found.countable is None  # never added to a report as received money


def test_an_amount_at_the_limit_is_still_money():
    assert match(Amount(LIMIT, "INR"), (inr(LIMIT),)).verdict is Verdict.PAID


# --- the sale -----------------------------------------------------------------------------------


def test_one_paisa_for_a_sale_of_1250_is_underpaid_never_green():
    # Seen on main: a backend's paid with {"value": 1} gave the green Paid screen, the beep and RESULT … PAID.
    state, effects = after(paid(inr(1)))
    assert state.sale.status is SaleStatus.UNDERPAID
    screen = screen_for(state, at(30))
    assert (screen.name, screen.title, screen.amount) == ("underpaid", "Underpaid", "₹0.01")
    assert "Received ₹0.01 of ₹12.50 — ask for the rest or refund" in screen.lines
    assert not any(isinstance(e, Announce) for e in effects)  # no "received" voice
    assert pattern_for(None, screen) is ATTENTION
    assert event_for(state.sale, "awaiting_payment") == "RESULT T1-000001 UNDERPAID 0.01 INR UTR1"


def test_a_payment_in_another_currency_is_a_mismatch_journaled_as_a_security_event():
    state, effects = after(paid(Payment(Amount(1250, "JPY"), provider_ref="X9")))
    assert state.sale.status is SaleStatus.MISMATCH
    screen = screen_for(state, at(30))
    assert screen.name == "mismatch" and screen.title == "Payment mismatch"
    assert any("paid in JPY, the sale is in INR" in line for line in screen.lines)
    assert pattern_for(None, screen) is FAILED
    security = [e for e in effects if isinstance(e, JournalSecurity)]
    assert security and "1250 JPY" in security[0].payload
    assert event_for(state.sale, "awaiting_payment") == "RESULT T1-000001 MISMATCH 1250 JPY X9"


def test_an_absurd_amount_is_a_mismatch_the_shopkeeper_sees():
    # Seen on main: 10^30 minor units overflowed SQLite, the step was undone and the payment never shown.
    state, _ = after(paid(inr(10**30)))
    assert state.sale.status is SaleStatus.MISMATCH
    assert "beyond any sale" in " ".join(screen_for(state, at(30)).lines)


def test_a_payment_the_terminal_cannot_read_is_a_mismatch_not_a_silent_retry():
    state, _ = after(paid(unreadable="'paid.amount.value' must be an integer of minor units, got -5"))
    assert state.sale.status is SaleStatus.MISMATCH
    assert event_for(state.sale, "awaiting_payment") == "RESULT T1-000001 MISMATCH - - -"


def test_overpaid_is_paid_with_a_notice_amber_and_no_success_beep():
    state, effects = after(paid(inr(1500)))
    assert state.sale.status is SaleStatus.PAID
    screen = screen_for(state, at(30))
    assert (screen.name, screen.title) == ("overpaid", "Overpaid")
    assert "Refund the extra ₹2.50 from the menu" in screen.lines
    assert pattern_for(None, screen) is ATTENTION
    assert not any(isinstance(e, Announce) for e in effects)
    assert event_for(state.sale, "awaiting_payment") == "RESULT T1-000001 OVERPAID 15.00 INR UTR1"


def test_two_payments_in_one_report_are_paid_twice():
    state, effects = after(paid(inr(1250), inr(1250, "UTR2")))
    assert state.sale.status is SaleStatus.PAID
    screen = screen_for(state, at(30))
    assert screen.title == "Paid twice"
    assert "Refund the extra ₹12.50 from the menu" in screen.lines
    assert effects[0].cause == "paid twice: received INR 25.00, INR 12.50 more than asked"


def test_a_second_payment_after_paid_flags_the_sale_and_tells_the_till_again():
    state, _ = after(paid(inr(1250)))
    assert screen_for(state, at(30)).name == "paid"
    state, effects = step(state, OrderUpdated(state.sale.id, paid(inr(1250), inr(1250, "UTR2"))), at(31))
    journal = effects[0]
    assert isinstance(journal, JournalSale) and journal.again
    assert journal.cause.startswith("another payment arrived: paid twice")
    assert screen_for(state, at(31)).title == "Paid twice"
    assert event_for(journal.sale, journal.previous, again=journal.again) == "RESULT T1-000001 OVERPAID 25.00 INR UTR2"
    assert not any(isinstance(e, PrintReceipt) for e in effects)  # the receipt was for the sale, not the extra


def test_a_second_payment_after_the_result_screen_closed_is_a_notice():
    state, _ = after(paid(inr(1250)))
    sale_id = state.sale.id
    state, _ = step(state, OrderUpdated(sale_id, paid(inr(1250))), at(31))  # repeated: nothing
    from terminal.core.events import Tick

    state, _ = step(state, Tick(), at(45))  # the paid screen timed out: idle
    assert state.sale is None
    state, effects = step(state, OrderUpdated(sale_id, paid(inr(1250), inr(1250, "UTR2"))), at(50))
    assert effects and effects[0].again
    assert state.notice == "Sale T1-000001 was paid twice: refund ₹12.50 from the menu"


def test_a_repeated_report_of_the_same_payments_changes_nothing():
    state, _ = after(paid(inr(1250)))
    assert step(state, OrderUpdated(state.sale.id, paid(inr(1250))), at(31)) == (state, [])


def test_exact_money_is_still_green_with_the_success_pattern():
    state, _ = after(paid(inr(1250)))
    screen = screen_for(state, at(30))
    assert screen.name == "paid" and pattern_for(None, screen) is PAID

"""A payment provider's limits, said by the core before any backend call: an amount under the provider's minimum
charge is refused on the keypad and by the till (issue 16, item 7); a provider that cannot refund from the
counter (Stripe PromptPay) has the menu and the till say where refunds are made (item 3)."""

from dataclasses import replace

from terminal.core.effects import CreateOrder, RequestRefund, TillReply
from terminal.core.entry import AmountEntry
from terminal.core.events import KeyPressed, SaleRecord, TillCommanded, TillRefundFound
from terminal.core.keys import Key
from terminal.core.machine import Phase, initial, step
from terminal.core.money import Amount
from terminal.core.sale import Sale, SaleStatus
from terminal.core.till import TillSale

from .helpers import SETTINGS, T0, at, type_keys

MINIMUM = replace(SETTINGS, minimum=Amount(100, "INR"), minimum_reason="the smallest amount Razorpay accepts")
ELSEWHERE = replace(SETTINGS, till_manager=True, refunds_elsewhere="PromptPay refunds are made in the Stripe Dashboard")


def test_enter_under_the_minimum_is_refused_with_the_reason():
    entry, amount = AmountEntry(
        "INR",
        Amount(10_000, "INR"),
        "0.99",
        minimum=Amount(100, "INR"),
        minimum_reason="the smallest amount Razorpay accepts",
    ).submit()
    assert amount is None and entry.message == "Minimum is ₹1.00: the smallest amount Razorpay accepts"


def test_the_minimum_itself_is_accepted():
    _, amount = AmountEntry("INR", Amount(10_000, "INR"), "1", minimum=Amount(100, "INR")).submit()
    assert amount == Amount(100, "INR")


def test_the_keypad_makes_no_order_under_the_minimum():
    state = type_keys(initial(MINIMUM), "0.5")
    state, effects = step(state, KeyPressed(Key.ENTER), at(1))
    assert state.phase is Phase.ENTERING and effects == [] and "Minimum is ₹1.00" in state.entry.message


def test_the_till_is_told_the_minimum_and_no_order_is_made():
    _, effects = step(initial(MINIMUM), TillCommanded(TillSale(Amount(50, "INR"))), at(0))
    assert effects == [TillReply("ERR 422 below the minimum of 1.00: the smallest amount Razorpay accepts")]
    _, effects = step(initial(MINIMUM), TillCommanded(TillSale(Amount(100, "INR"))), at(0))
    assert any(isinstance(e, CreateOrder) for e in effects)


def test_a_till_refund_where_refunds_are_made_elsewhere_is_refused_with_where():
    sale = Sale("T1-ab12-000001", 1, "T1-000001", Amount(4200, "INR"), SaleStatus.PAID, T0)
    found = TillRefundFound("T1-000001", SaleRecord(sale, (), "10:00"), None)
    _, effects = step(initial(ELSEWHERE), found, at(0))
    assert effects == [TillReply("ERR 422 PromptPay refunds are made in the Stripe Dashboard")]
    assert not any(isinstance(e, RequestRefund) for e in effects)

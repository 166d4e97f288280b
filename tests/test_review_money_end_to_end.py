"""Review of issue #14 with real parts: the journal and its reports, the Razorpay adapter against its fake, and a
real terminal against the real sandbox. Each test states the exact input, what happens today and what must."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from terminal.backends.http import HttpBackend
from terminal.core.effects import JournalSale
from terminal.core.events import OrderUpdated
from terminal.core.machine import step
from terminal.core.matching import LIMIT
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate, Payment
from terminal.reports import build_report

from .core.helpers import at, awaiting
from .fake_razorpay import FakeRazorpay
from .fake_stripe import FakeStripe
from .servers import Reply, ScriptedServer
from .terminal_app import make_terminal
from .test_razorpay import VPA, razorpay, request
from .test_stripe import PROMPTPAY, stripe
from .test_stripe import request as stripe_request


def inr(minor: int, pay_id: str) -> Payment:
    return Payment(Amount(minor, "INR"), provider_ref=f"UTR-{pay_id}", id=pay_id)


def journal_steps(journal, state, update, seconds):
    state, effects = step(state, OrderUpdated(state.sale.id if state.sale else "T1-ab12-000001", update), at(seconds))
    for effect in effects:
        if isinstance(effect, JournalSale):
            journal.record_sale(effect.sale, effect.previous, effect.cause, at(seconds).wall)
    return state


# --- reports ---------------------------------------------------------------------------------------------------


def test_review_a_second_payment_after_a_z_does_not_count_the_first_payment_again(journal):
    # Input: sale of 12.50 paid at 10:00:30 (pay_1); Z #1 at 10:01 counts it (net INR 12.50); the customer pays
    # the same QR again at 10:01:30 (pay_2, still valid). Today: re-journaling the sale moves sales.ended_at to
    # 10:01:30, so Z #2 counts the whole sale again (INR 25.00): Z #1 + Z #2 = INR 37.50 for INR 25.00 received.
    # Must: across both Zs, the takings add up to what arrived (INR 25.00).
    state = journal_steps(journal, awaiting(), OrderUpdate("ord_1", OrderStatus.PAID, (inr(1250, "pay_1"),)), 30)
    z1 = build_report(journal, "z", at(60).wall)
    two = OrderUpdate("ord_1", OrderStatus.PAID, (inr(1250, "pay_1"), inr(1250, "pay_2")))
    journal_steps(journal, state, two, 90)
    z2 = build_report(journal, "z", at(120).wall)
    nets = [r.currencies[0].net for r in (z1, z2) if r.currencies]
    assert sum(nets) == 2500, f"Z #1 + Z #2 nets: {nets}"


def test_review_payments_summing_beyond_the_limit_are_not_reported_as_the_asked_amount(journal):
    # Input: {"payments": [pay_1 10^15 INR, pay_2 10^15 INR]} for a sale of 12.50. Today: the screen says "Paid
    # twice" with an extra of ₹19,999,999,999,987.50, but paid_minor is NULL (not countable), so the X report
    # counts "paid 1 INR 12.50" as takings and lists no extra: the report shows money as asked that did not arrive as
    # asked. Must: a mismatch (beyond ±10^15 in all), never in the takings.
    two = OrderUpdate("ord_1", OrderStatus.PAID, (inr(LIMIT, "pay_1"), inr(LIMIT, "pay_2")))
    journal_steps(journal, awaiting(), two, 30)
    [totals] = build_report(journal, "x", at(60).wall).currencies
    assert totals.net == 0, f"counted as takings: {totals}"


# --- the Razorpay adapter --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("currency", "XXX"), ("amount", -100), ("amount", "1250")],
    ids=["unknown-currency", "negative-amount", "amount-as-text"],
)
def test_review_razorpay_a_captured_payment_it_cannot_read_is_a_mismatch_not_an_exception(field, value):
    # Input: Razorpay's GET /v1/payments/qr_codes/{id}/payments lists a captured payment with currency "XXX" (or
    # amount -100, or "1250"). Today: _payment builds Amount(...) → MoneyError (a ValueError, not BackendError: the
    # watcher thread dies and the cancel thread fails too) or bad_reply (polled again forever); either way the
    # sale ends "QR expired — No payment received" though a payment was captured. The HTTP contract turns this into
    # ``unreadable_payment`` (a mismatch the shopkeeper sees). Must: the adapter does the same.
    with FakeRazorpay(vpa=VPA) as server:
        backend = razorpay(server)
        order = backend.create_order(request())
        payment = server.pay(order.id)
        server.state.payments[payment["id"]][field] = value
        update = backend.get_order(order.id)
        assert update.status is OrderStatus.PAID and update.unreadable_payment


# --- a real terminal against the sandbox ---------------------------------------------------------------------


def order_id(terminal) -> str:
    return terminal.until_screen("qr").qr.split("/pay/")[1].split("?")[0]


def test_review_end_to_end_one_capture_of_half_reported_twice_never_shows_green(tmp_path, sandbox):
    # Input: the sandbox (playing a buggy backend) reports {"payments": [P, P]} with P = one capture of 6.25
    # (the same "id") for a sale of 12.50. Today: green "Paid", success beep, RESULT … PAID 12.50.
    # Must: never green for ₹6.25.
    terminal = make_terminal(tmp_path, sandbox.url)
    terminal.press("12.50E")
    oid = order_id(terminal)
    book = sandbox.book
    with book._changed:  # both at once: the terminal sees one reply with the capture listed twice
        book.pay(oid, amount_minor=625)
        order = book._orders[oid]
        order.payments.append(copy.deepcopy(order.payments[0]))
    terminal.until(lambda: terminal.screen.name in ("paid", "underpaid", "mismatch", "overpaid"))
    assert "paid" not in [f[0].name for f in terminal.recorder.frames]


def test_review_end_to_end_the_rest_paid_after_the_underpaid_screen_left_is_recorded(tmp_path, sandbox):
    # Input: sale of 12.50; the customer pays 0.01 (Underpaid: "ask for the rest"); the result screen times out;
    # the customer pays the rest, 12.49, on the same QR (the sandbox accepts it: the order is paid and not expired,
    # and the terminal's watcher is still following it). Today: the update is dropped (the sale is neither on
    # screen, in the background, nor last_paid): the journal keeps "underpaid 0.01". Must: journaled paid 12.50.
    terminal = make_terminal(tmp_path, sandbox.url, result_seconds=1)
    terminal.press("12.50E")
    oid = order_id(terminal)
    assert requests.post(f"{sandbox.url}/sandbox/orders/{oid}/pay", json={"amount": 1}, timeout=5).ok
    terminal.until_screen("underpaid")
    terminal.until_screen("idle", timeout=5)
    assert requests.post(f"{sandbox.url}/sandbox/orders/{oid}/pay", json={"amount": 1249}, timeout=5).ok
    terminal.until(lambda: terminal.journal.sales()[0]["status"] == "paid", timeout=5)
    assert terminal.journal.sales()[0]["paid_minor"] == 1250


# --- the Stripe adapter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount_received", None), ("currency", "xxx")],
    ids=["no-amount-received", "unknown-currency"],
)
def test_review_stripe_a_succeeded_intent_whose_received_money_cannot_be_read_is_a_mismatch(field, value):
    # Input: GET /v1/payment_intents/{id} → {"status": "succeeded", "amount": 4200, "amount_received": null, …}
    # (or "currency": "xxx"). Today: without an integer amount_received, _payment reads the *asked* ``amount`` as
    # the money received (THB 42.00: green "Paid" for money never reported); an unknown currency is a bad_reply,
    # polled again until the sale ends "QR expired — No payment received". Must: a succeeded intent whose received
    # amount cannot be read is an unreadable payment (a mismatch), never the asked amount and never dropped.
    with FakeStripe(promptpay_id=PROMPTPAY) as server:
        backend = stripe(server)
        order = backend.create_order(stripe_request())
        server.pay(order.id)
        server.intents[order.id][field] = value
        update = backend.get_order(order.id)
        assert update.status is OrderStatus.PAID and update.unreadable_payment and not update.payments


# --- the backend's history -------------------------------------------------------------------------------------


def test_review_one_paid_order_with_an_empty_payments_list_does_not_hide_the_whole_history():
    # Input: GET /v1/orders → {"orders": [T1-000001 paid with payments [1250 INR], T1-000002 {"status": "paid",
    # "payments": []}]}. Today: parse_update raises bad_reply for the second, so history() raises and reconciliation
    # (offline sales waiting for confirmation, the X/Z addendum) gets nothing at all, every minute, for as long as
    # that order is in the window. Must: the readable orders are returned (and the other one as a mismatch).
    def order(reference, **extra):
        return {"id": f"ord_{reference}", "reference": reference, "created_at": "2026-11-27T10:00:00Z", **extra}

    good = order(
        "T1-000001",
        status="paid",
        payments=[{"id": "pay_1", "amount": {"value": 1250, "currency": "INR"}, "at": "2026-11-27T10:00:30Z"}],
    )
    bad = order("T1-000002", status="paid", payments=[])
    with ScriptedServer(Reply(body=json.dumps({"orders": [good, bad]}).encode())) as server:
        backend = HttpBackend(server.url, "token", allow_plain_http=True)
        found = dict(backend.history(at(0).wall))
        assert found["T1-000001"].payments[0].amount == Amount(1250, "INR")

"""The whole sale through the terminal against local servers speaking Razorpay's and Stripe's published shapes
(``fake_razorpay.py``, ``fake_stripe.py``): QR shown (decoded from the frame), paid, receipt, refund; cancel
closes the provider's QR or intent; a QR for another payee is refused by the guard; the provider's limits (its
minimum sale, a method it cannot refund from the counter) are said on the terminal before any request.
The adapters' own requests and answers are specified in test_razorpay.py and test_stripe.py."""

from __future__ import annotations

import time

import pytest

from terminal.backends.razorpay import RazorpayBackend
from terminal.backends.stripe import StripeBackend
from terminal.devices.printer import PrinterConfig
from terminal.manager_pin import hash_pin, write_hash

from .fake_razorpay import FakeRazorpay
from .fake_stripe import FakeStripe
from .providers import RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, STRIPE_KEY, Fault
from .qr import decode
from .terminal_app import make_terminal

VPA = "rzr.qrchaipoint1234@icici"
PROMPTPAY = "0105556000000"
PAYNOW = "201912345K"


def razorpay(server, **kw):
    return RazorpayBackend(RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, api_base=server.url, image_hosts=("127.0.0.1",), **kw)


def stripe(server, method="promptpay", **kw):
    return StripeBackend(STRIPE_KEY, method, api_base=server.url, **kw)


@pytest.fixture
def rzp():
    with FakeRazorpay(vpa=VPA) as server:  # the standard account: no image_content, the QR read from the image
        yield server


@pytest.fixture
def stp():
    with FakeStripe(promptpay_id=PROMPTPAY, paynow_uen=PAYNOW) as server:
        yield server


# --- end to end through the terminal -------------------------------------------------------------


def shop(tmp_path, backend, *, currency, payee_id, **settings):
    secrets = tmp_path / "secrets.toml"
    write_hash(secrets, hash_pin("2580"))
    paper = PrinterConfig(connection="file", device=str(tmp_path / "lp0"), profile="TM-T88III", auto_print="always")
    terminal = make_terminal(
        tmp_path,
        backend._http.base_url,
        backend=backend,
        currency=currency,
        payee_id=payee_id,
        secrets_path=secrets,
        printer=paper,
        **settings,
    )
    return terminal


def open_first_sale(terminal):
    terminal.press("M2580E")
    terminal.until_screen("menu-main")
    terminal.press("1")
    terminal.until_screen("menu-recent")
    terminal.press("1")


def lines(terminal):
    return " ".join(terminal.screen.lines)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_a_sale_end_to_end_paid_receipt_refund(tmp_path, rzp, stp, provider):
    if provider == "razorpay":  # the standard account: the QR read from Razorpay's hosted image
        backend, server, currency, payee = razorpay(rzp), rzp, "INR", VPA
    else:  # PayNow: Stripe refunds it asynchronously (pending, then succeeded)
        backend, server, currency, payee = stripe(stp, "paynow"), stp, "SGD", PAYNOW
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    qr = terminal.until_screen("qr")
    (_, frame) = terminal.recorder.first("qr")
    assert decode(frame) == [qr.qr]  # what the customer's camera reads is exactly the provider's payload
    order_id = terminal.app.state.sale.order.id
    server.pay(order_id)
    paid = terminal.until_screen("paid")
    assert paid.amount in ("₹25.00", "$25.00")  # CLDR: Singapore writes SGD as $ (en_SG)
    terminal.until(lambda: (tmp_path / "lp0").exists() and b"PAID" in (tmp_path / "lp0").read_bytes())
    if provider == "stripe":  # the receipt's QR is Stripe's own receipt page for the charge
        charge = next(iter(stp.charges.values()))
        assert charge["receipt_url"].encode() in (tmp_path / "lp0").read_bytes()
    terminal.press("C")
    open_first_sale(terminal)
    terminal.press("2EE")
    terminal.until(
        lambda: any(r.path.endswith(("/refund", "/refunds")) and r.method == "POST" for r in server.requests)
    )
    server.settle_refunds()  # the bank confirms (Razorpay answered processed already)
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund done",), timeout=15)
    if provider == "razorpay":
        assert [p["amount_refunded"] for p in rzp.state.payments.values()] == [2500]
    else:
        assert [(r["amount"], r["status"]) for r in stp.refunds.values()] == [(2500, "succeeded")]
    terminal.until(lambda: b"REFUNDED" in (tmp_path / "lp0").read_bytes())


def test_promptpay_refunds_are_refused_on_the_menu_and_never_asked_of_stripe(tmp_path, stp):
    backend = stripe(stp)
    terminal = shop(tmp_path, backend, currency="THB", payee_id=PROMPTPAY, refunds_elsewhere=backend.refund_refusal)
    terminal.press("25E")
    terminal.until_screen("qr")
    stp.pay(terminal.app.state.sale.order.id)
    terminal.until_screen("paid")
    terminal.press("C")
    open_first_sale(terminal)
    terminal.press("2")
    terminal.until(lambda: "PromptPay refunds are made in the Stripe Dashboard" in lines(terminal))
    assert terminal.screen.name == "menu-detail" and stp.calls("POST", "/v1/refunds") == []


@pytest.mark.parametrize(
    ("provider", "typed", "said"), [("razorpay", "0.5", "Minimum is ₹1.00"), ("stripe", "9", "Minimum is ฿10.00")]
)
def test_an_amount_below_the_providers_minimum_is_refused_on_the_keypad(tmp_path, rzp, stp, provider, typed, said):
    if provider == "razorpay":
        backend, server, currency, payee, who = razorpay(rzp), rzp, "INR", VPA, "Razorpay"
    else:
        backend, server, currency, payee, who = stripe(stp), stp, "THB", PROMPTPAY, "Stripe"
    reason = f"the smallest amount {who} accepts"
    terminal = shop(
        tmp_path, backend, currency=currency, payee_id=payee, minimum=backend.minimum(currency), minimum_reason=reason
    )
    terminal.press(typed + "E")
    terminal.until(lambda: said in lines(terminal) and reason in lines(terminal))
    assert terminal.screen.name == "entry" and not any(r.method == "POST" for r in server.requests)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_cancel_closes_the_providers_qr(tmp_path, rzp, stp, provider):
    backend, currency, payee = (
        (razorpay(rzp), "INR", VPA) if provider == "razorpay" else (stripe(stp), "THB", PROMPTPAY)
    )
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    terminal.press("C")
    terminal.until_screen("cancelled")
    if provider == "razorpay":
        terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
        assert rzp.state.qrs[order_id]["close_reason"] == "on_demand"
    else:
        terminal.until(lambda: stp.intents[order_id]["status"] == "canceled")
        assert stp.intents[order_id]["cancellation_reason"] == "requested_by_customer"
    terminal.until(lambda: terminal.app.state.background == ())  # the close was confirmed


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
def test_a_qr_for_another_payee_is_refused_and_closed(tmp_path, rzp, stp, provider):
    if provider == "razorpay":
        rzp.pay_to = "fraudster@okaxis"
        backend, currency, payee = razorpay(rzp), "INR", VPA
    else:
        stp.pay_to = "0812345678"
        backend, currency, payee = stripe(stp), "THB", PROMPTPAY
    terminal = shop(tmp_path, backend, currency=currency, payee_id=payee)
    terminal.press("25E")
    refused = terminal.until_screen("error")
    assert refused.title == "QR refused" and "not this shop" in refused.lines[0]
    assert all(name != "qr" for name in (m.name for m, _ in terminal.recorder.frames))
    order_id = terminal.app.state.sale.order.id
    if provider == "razorpay":
        terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
    else:
        terminal.until(lambda: stp.intents[order_id]["status"] == "canceled")


def test_a_429_while_waiting_backs_off_as_told_and_the_payment_still_shows(tmp_path, rzp):
    terminal = shop(tmp_path, razorpay(rzp), currency="INR", payee_id=VPA)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    rzp.faults.append(Fault(f"/v1/payments/qr_codes/{order_id}", status=429, retry_after=1, count=1))
    terminal.until(lambda: not rzp.faults[0].count)
    limited_at = time.monotonic()
    rzp.pay(order_id)
    terminal.until_screen("paid")
    asked = [r for r in rzp.requests if order_id in r.path]
    assert time.monotonic() - limited_at >= 0.9 and asked  # waited out Retry-After before asking again


def test_doctor_checks_the_provider_keys(tmp_path, stp):
    from terminal.commands.doctor import _provider
    from terminal.config import load

    (tmp_path / "terminal.toml").write_text(f"""
[terminal]
id = "T1"
currency = "THB"
[merchant]
name = "Shop"
[payee]
ids = ["{PROMPTPAY}"]
[backend]
kind = "stripe"
api_base = "{stp.url}"
[secrets]
file = "secrets.toml"
""")
    (tmp_path / "secrets.toml").write_text(f'stripe_secret_key = "{STRIPE_KEY}"\n')
    good = _provider(load(tmp_path / "terminal.toml", environ={}))
    assert good.ok and "keys accepted" in good.line()
    (tmp_path / "secrets.toml").write_text('stripe_secret_key = "sk_test_another_fixture_key"\n')
    bad = _provider(load(tmp_path / "terminal.toml", environ={}))
    assert not bad.ok and "refused the API keys" in bad.line() and "sk_test" not in bad.line()


def test_the_terminals_own_expiry_closes_the_razorpay_qr(tmp_path, rzp):
    terminal = make_terminal(tmp_path, rzp.url, backend=razorpay(rzp), payee_id=VPA, sale_ttl=2)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    terminal.until_screen("expired", timeout=6)
    terminal.until(lambda: rzp.state.qrs[order_id]["status"] == "closed")
    assert rzp.state.qrs[order_id]["close_reason"] == "on_demand"  # closed by the terminal, long before close_by


def test_the_terminals_own_expiry_cancels_the_stripe_intent_as_abandoned(tmp_path, stp):
    terminal = make_terminal(tmp_path, stp.url, backend=stripe(stp), payee_id=PROMPTPAY, currency="THB", sale_ttl=2)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    terminal.until_screen("expired", timeout=6)
    terminal.until(lambda: stp.intents[order_id]["status"] == "canceled")
    assert stp.intents[order_id]["cancellation_reason"] == "abandoned"


def test_a_refund_razorpay_is_still_processing_409_is_asked_again_with_the_same_key_and_goes_through(tmp_path, rzp):
    terminal = shop(tmp_path, razorpay(rzp), currency="INR", payee_id=VPA)
    terminal.press("25E")
    terminal.until_screen("qr")
    payment = rzp.pay(terminal.app.state.sale.order.id)
    terminal.until_screen("paid")
    terminal.press("C")
    rzp.faults.append(Fault(f"/v1/payments/{payment['id']}/refund", status=409, retry_after=1))
    open_first_sale(terminal)
    terminal.press("2EE")
    # a refusal would be final ("Refund failed"): reaching "Refund done" means the 409 was asked again
    terminal.until(lambda: terminal.screen.lines[:1] == ("Refund done",), timeout=15)
    asked = [r.headers["X-Refund-Idempotency"] for r in rzp.requests if r.path.endswith("/refund")]
    assert (
        len(asked) == 2
        and len(set(asked)) == 1
        and [p["amount_refunded"] for p in rzp.state.payments.values()] == [2500]
    )


def test_a_razorpay_qr_paid_twice_reaches_the_terminal_as_paid_twice(tmp_path, rzp):
    terminal = shop(tmp_path, razorpay(rzp), currency="INR", payee_id=VPA)
    terminal.press("25E")
    terminal.until_screen("qr")
    order_id = terminal.app.state.sale.order.id
    rzp.pay(order_id, vpa="one@okbank")
    assert terminal.until_screen("paid").title == "Paid"
    rzp.pay(order_id, vpa="two@okbank")  # the customer's app looked stuck: they paid the same QR again
    screen = terminal.until_screen("overpaid", timeout=40)  # followed at the slower after-paid pace
    assert screen.title == "Paid twice" and rzp.state.qrs[order_id]["payments_count_received"] == 2

"""End to end: keys typed → QR on a real pygame screen (decoded) → paid through the sandbox → journal."""

import sqlite3
import time

import pytest
import requests

from terminal.sandbox.server import Fault, Sandbox

from .qr import decode
from .servers import closed_port
from .terminal_app import make_terminal


@pytest.fixture
def terminal(tmp_path, sandbox):
    t = make_terminal(tmp_path, sandbox.url)
    yield t
    t.app.worker.stop()
    t.journal.close()
    t.app.display.close()


def test_typed_amount_becomes_a_decodable_qr_and_paid_is_journaled_before_it_is_shown(terminal, sandbox):
    journal_at_frame = {}

    def frame(model, display):
        reader = sqlite3.connect(terminal.journal.path)
        journal_at_frame[model.name] = reader.execute("SELECT status FROM sales").fetchall()
        reader.close()
        record(model, display)

    record, terminal.app.observer.frame = terminal.app.observer.frame, frame
    terminal.press("12.50E")
    terminal.until_screen("qr")
    model, png = terminal.recorder.first("qr")
    [payload] = decode(png)
    assert payload == model.qr
    assert "am=12.50" in payload and "cu=INR" in payload and "tr=T1-000001" in payload
    assert journal_at_frame["qr"] == [("awaiting_payment",)]

    page = payload.split("?")[0]
    requests.post(f"{page}/pay", timeout=5)  # the customer's phone presses Pay
    paid = terminal.until_screen("paid")
    assert (paid.title, paid.amount) == ("Paid", "₹12.50")
    assert journal_at_frame["paid"] == [("paid",)]

    [row] = terminal.journal.sales()
    assert (row["reference"], row["amount_minor"], row["currency"], row["status"]) == ("T1-000001", 1250, "INR", "paid")
    assert row["order_id"] == payload.split("/pay/")[1].split("?")[0]
    assert row["provider_ref"].startswith("SBX")
    assert [(e["from_status"], e["to_status"]) for e in terminal.journal.events()] == [
        (None, "creating"),
        ("creating", "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]


def test_the_customer_declines(terminal, sandbox):
    terminal.press("5E")
    terminal.until_screen("qr")
    requests.post(f"{terminal.screen.qr.split('?')[0]}/decline", timeout=5)
    assert terminal.until_screen("failed").lines[0] == "The customer declined."
    assert terminal.journal.sales()[0]["status"] == "failed"


def test_the_qr_expires_and_the_terminal_follows_the_order_until_the_backend_closes_it(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url, sale_ttl=1)
    terminal.press("5E")
    terminal.until_screen("qr")
    terminal.until_screen("expired", timeout=5)
    terminal.until(lambda: terminal.journal.sales()[0]["order_open"] == 0)
    order_id = terminal.journal.sales()[0]["order_id"]
    # Our timer and the backend's run out together: the order ends cancelled (our cancel won) or expired.
    assert sandbox.book.order_for_page(order_id).status in ("cancelled", "expired")
    assert terminal.journal.sales()[0]["status"] == "expired"
    terminal.app.worker.stop()


def test_cancel_while_creating_never_shows_the_qr_and_cancels_the_order(terminal, sandbox):
    sandbox.inject(Fault("create", status=0, delay=0.5))  # a slow network: the order arrives late
    terminal.press("7E")
    terminal.until(lambda: terminal.screen.title == "Preparing QR…")  # drawn once the order is late
    terminal.press("C")
    assert terminal.screen.name == "cancelled"
    terminal.until(lambda: terminal.journal.sales()[0]["order_id"] is not None)
    order_id = terminal.journal.sales()[0]["order_id"]
    terminal.until(lambda: sandbox.book.order_for_page(order_id).status == "cancelled")
    assert all(model.qr is None for model, _ in terminal.recorder.frames)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault("create", status=503, body="<html>Service Unavailable</html>"), "has a problem"),
        (Fault("create", status=201, body="this is not json"), "cannot read"),
        (Fault("create", status=201, body='{"id": "ord_1", "status": "pending"}'), "cannot read"),
        (Fault("create", status=400, body='{"error": {"code": "bad", "message": "no"}}'), "refused the sale"),
        (Fault("create", status=0, delay=4), "did not answer in time"),
    ],
    ids=["5xx", "garbage", "missing-fields", "4xx", "timeout"],
)
def test_a_bad_backend_reply_shows_a_reason_and_the_next_sale_works(terminal, sandbox, fault, says):
    sandbox.inject(fault)
    terminal.press("9E")
    error = terminal.until_screen("error")
    assert says in " ".join(error.lines)
    assert terminal.journal.sales()[0]["status"] == "failed"
    terminal.press("E")
    assert terminal.screen.name == "idle"
    terminal.press("3E")
    assert terminal.until_screen("qr").amount == "₹3.00"


def test_an_unreachable_backend_says_so(tmp_path):
    terminal = make_terminal(tmp_path, f"http://127.0.0.1:{closed_port()}")
    terminal.press("9E")
    assert "No connection" in terminal.until_screen("error").lines[0]
    terminal.app.worker.stop()


def test_a_qr_for_another_payee_is_refused_journaled_and_cancelled(tmp_path):
    from terminal.core.orders import Payee

    with Sandbox(payee=Payee("Fraudster", "fraud@okbank")) as crooked:
        terminal = make_terminal(tmp_path, crooked.url)
        terminal.press("9E")
        error = terminal.until_screen("error")
        assert error.title == "QR refused" and "fraud@okbank" in error.lines[0]
        security = [e for e in terminal.journal.events() if e["kind"] == "security"]
        assert len(security) == 1 and "fraud@okbank" in security[0]["cause"]
        order_id = terminal.journal.sales()[0]["order_id"]
        terminal.until(lambda: crooked.book.order_for_page(order_id).status == "cancelled")
        assert all(model.qr is None for model, _ in terminal.recorder.frames)
        terminal.app.worker.stop()


def test_the_screen_is_redrawn_only_when_it_changes(terminal):
    before = len(terminal.recorder.frames)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        terminal.app.pump()
        time.sleep(0.01)
    assert len(terminal.recorder.frames) == before  # idle: nothing moves, nothing is drawn
    terminal.press("1E")
    terminal.until_screen("qr")
    start = len(terminal.recorder.frames)
    end = time.monotonic() + 2.2
    while time.monotonic() < end:
        terminal.app.pump()
        time.sleep(0.01)
    assert 2 <= len(terminal.recorder.frames) - start <= 3  # the countdown, once a second


def test_a_bug_while_handling_an_event_is_logged_journaled_and_the_counter_keeps_working(terminal, sandbox):
    from terminal.core.events import OrderCreated

    sandbox.inject(Fault("create", status=0, delay=0.5))
    terminal.press("2E")
    sale_id = terminal.app.state.sale.id
    terminal.app.post(OrderCreated(sale_id, order="not an order"))  # what a broken adapter might post
    terminal.app.pump()
    assert terminal.screen.notice == "Internal error (logged): that last step was not taken"
    [error] = [e for e in terminal.journal.events() if e["kind"] == "error"]
    assert "OrderCreated" in error["cause"] and "AttributeError" in error["cause"]
    assert terminal.until_screen("qr").amount == "₹2.00"  # the real order still arrives and is shown


def test_an_order_that_comes_at_once_goes_from_the_typed_amount_straight_to_its_qr(terminal, sandbox):
    # A frame the QR replaces within milliseconds is never seen; drawing it would only delay the create.
    terminal.app.creating_frame_after = 5.0
    sandbox.inject(Fault("create", status=0, delay=0.2))
    terminal.press("7E")
    terminal.until_screen("qr")
    assert [model.title for model, _ in terminal.recorder.frames if model.title == "Preparing QR…"] == []


def test_a_late_order_shows_preparing_qr_until_it_comes(terminal, sandbox):
    terminal.app.creating_frame_after = 0.05
    sandbox.inject(Fault("create", status=0, delay=0.5))
    terminal.press("7E")
    terminal.until_screen("qr")
    titles = [model.title for model, _ in terminal.recorder.frames]
    assert titles.index("Preparing QR…") < titles.index("Scan to pay")

"""End to end: the backend goes away, the terminal sells with a QR it built itself, the shopkeeper marks it
received, and when the backend is back the payment found in its history confirms the sale."""

import requests

from terminal.core.money import Amount
from terminal.core.offline import OfflineRules
from terminal.sandbox.server import DEFAULT_TOKEN, Sandbox

from .qr import decode
from .terminal_app import make_terminal

RULES = OfflineRules("upi", "demo-shop@sandbox", "Demo Shop", Amount(200000, "INR"), Amount(2000000, "INR"))


def offline_terminal(tmp_path):
    """A terminal with offline sales on, whose backend has just gone away; and the port to bring it back on."""
    server = Sandbox().start()
    port = server.server_address[1]
    terminal = make_terminal(tmp_path, server.url, probe_every=(0.2, 0.2), offline=RULES)
    server.stop()
    terminal.until(lambda: terminal.screen.offline != "")
    return terminal, port


def test_an_offline_sale_is_confirmed_by_the_backends_history_once_it_is_back(tmp_path):
    terminal, port = offline_terminal(tmp_path)
    terminal.press("12.5E")
    screen = terminal.until_screen("qr")
    assert screen.offline.startswith("OFFLINE — not confirmed")
    [payload] = decode(terminal.recorder.first("qr")[1])
    assert payload == "upi://pay?pa=demo-shop@sandbox&pn=Demo%20Shop&am=12.50&tr=T1-000001&cu=INR"
    terminal.press("E")  # the shopkeeper saw the money in their bank app
    assert terminal.until_screen("unconfirmed").title == "Recorded — not confirmed"
    assert terminal.journal.sales()[0]["status"] == "unconfirmed"

    back = Sandbox("127.0.0.1", port)
    back.book.record_payment("T1-000001", Amount(1250, "INR"))  # what the bank told the backend meanwhile
    back.start()
    terminal.until(lambda: terminal.journal.sales()[0]["status"] == "paid", timeout=10)
    assert terminal.journal.sales()[0]["provider_ref"].startswith("SBX")
    assert "reconciled" in terminal.journal.events()[-1]["cause"]
    terminal.app.reachability.stop()
    terminal.app.worker.stop()
    back.stop()


def test_unconfirmed_sales_are_reconciled_after_a_restart(tmp_path):
    server = Sandbox().start()
    first = make_terminal(tmp_path, server.url, probe_every=(0.2, 0.2), offline=RULES)
    port = server.server_address[1]
    server.stop()
    first.until(lambda: first.screen.offline != "")
    first.press("7E")
    first.until_screen("qr")
    first.press("E")
    first.until_screen("unconfirmed")
    first.app.reachability.stop()
    first.app.worker.stop()
    first.journal.close()
    back = Sandbox("127.0.0.1", port, token=DEFAULT_TOKEN).start()
    requests.post(
        f"{back.url}/sandbox/payments",
        json={"reference": "T1-000001", "amount": {"value": 700, "currency": "INR"}},
        timeout=5,
    )
    again = make_terminal(tmp_path, back.url)
    again.app.resume()
    again.until(lambda: again.journal.sales()[0]["status"] == "paid", timeout=10)
    again.app.worker.stop()
    back.stop()


def test_a_long_outage_with_a_queue_of_offline_sales_is_reconciled_afterwards(tmp_path):
    terminal, port = offline_terminal(tmp_path)
    for amount in ("10", "20", "30"):
        terminal.press(amount + "E")
        terminal.until_screen("qr")
        terminal.press("E")
        terminal.until_screen("unconfirmed")
        terminal.press("E")
        terminal.until_screen("idle")
    assert [s["status"] for s in terminal.journal.sales()] == ["unconfirmed"] * 3
    back = Sandbox("127.0.0.1", port)
    for reference, minor in (("T1-000001", 1000), ("T1-000003", 3000)):  # the second customer never paid
        back.book.record_payment(reference, Amount(minor, "INR"))
    back.start()
    terminal.until(
        lambda: [s["status"] for s in terminal.journal.sales()] == ["paid", "unconfirmed", "paid"], timeout=10
    )
    assert [s.reference for s in terminal.app.state.unconfirmed] == ["T1-000002"]
    terminal.app.reachability.stop()
    terminal.app.worker.stop()
    back.stop()

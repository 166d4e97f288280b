"""End to end, for every scheme the sandbox issues: an honest QR is shown byte for byte; a backend that
alters the payee, the amount, the currency or the CRC in the payload (its JSON staying honest) is refused
every time — nothing is displayed, a security event is journaled, the order is cancelled."""

import json

import pytest
import requests

from terminal.sandbox.book import SAMPLE_PAYEE_IDS, SCHEMES
from terminal.sandbox.server import Sandbox

from .qr import decode
from .servers import Reply, ScriptedServer
from .terminal_app import make_terminal

CASES = [
    (scheme, tamper)
    for scheme in SCHEMES
    for tamper in ("payee", "amount", "currency", "crc")
    if tamper != "crc" or SCHEMES[scheme][0] == "emv"
]
REASONS = {
    "payee": ("not this shop", "not a page this shop trusts"),
    "amount": ("asks for",),
    "currency": ("the sale is in", "must start with EUR"),  # an EPC transfer can only be in euros
    "crc": ("checksum",),
}


def terminal_for(tmp_path, server, scheme):
    currency = SCHEMES[scheme][1] or "INR"
    return make_terminal(tmp_path, server.url, payee_id=SAMPLE_PAYEE_IDS[scheme], currency=currency)


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_an_honest_qr_of_every_scheme_is_shown_exactly_as_received(tmp_path, scheme):
    with Sandbox(scheme=scheme) as server:
        terminal = terminal_for(tmp_path, server, scheme)
        terminal.press("12.5E")
        screen = terminal.until_screen("qr")
        _, png = terminal.recorder.first("qr")
        assert decode(png) == [screen.qr]
        assert screen.qr == server.book.order_for_page(terminal.journal.sales()[0]["order_id"]).qr_payload
        assert SAMPLE_PAYEE_IDS[scheme] in screen.lines  # the customer sees whom they pay
        terminal.app.worker.stop()


@pytest.mark.parametrize(("scheme", "tamper"), CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_a_tampered_payload_is_refused_journaled_and_cancelled(tmp_path, scheme, tamper):
    with Sandbox(scheme=scheme) as server:
        requests.post(f"{server.url}/sandbox/tamper", json={"what": tamper}, timeout=5).raise_for_status()
        terminal = terminal_for(tmp_path, server, scheme)
        terminal.press("12.5E")
        error = terminal.until_screen("error")
        assert error.title == "QR refused"
        assert any(reason in error.lines[0] for reason in REASONS[tamper]), error.lines
        assert all(model.qr is None for model, _ in terminal.recorder.frames)
        [security] = [e for e in terminal.journal.events() if e["kind"] == "security"]
        assert security["sale_id"] == terminal.journal.sales()[0]["id"]
        order_id = terminal.journal.sales()[0]["order_id"]
        terminal.until(lambda: server.book.order_for_page(order_id).status == "cancelled")
        terminal.app.worker.stop()


#: A backend answering an honest order in JSON whose QR a lenient app reads as paying someone else
#: (issue #14's classes; tests/core/test_guard.py has one regression test per class).
ATTACKS = {
    "upi-upper-case-PA": ("upi", "upi://pay?pa=demo-shop@sandbox&am=12.50&cu=INR&tr=T1-000001&PA=evil@ybl"),
    "upi-fragment": ("upi", "upi://pay?pa=demo-shop@sandbox&am=12.50&cu=INR&tr=T1-000001#&pa=evil@ybl"),
    "upi-full-width-amount": ("upi", "upi://pay?pa=demo-shop@sandbox&am=１２.５０&cu=INR&tr=T1-000001"),
    "link-backslash-host": ("url", "https://evil.example\\@127.0.0.1/pay/ord_1?am=12.50&cu=INR&tr=T1-000001"),
}


def backend_answering(scheme: str, payload: str) -> ScriptedServer:
    """A contract backend that creates T1-000001's order (₹12.50 to the demo shop) with ``payload`` as its QR,
    then answers the terminal's cancel."""
    order = {
        "id": "ord_1",
        "status": "pending",
        "reference": "T1-000001",
        "amount": {"value": 1250, "currency": "INR"},
        "qr": {"scheme": scheme, "payload": payload},
        "payee": {"name": "Demo Shop", "id": "demo-shop@sandbox"},
        "expires_at": "2099-01-01T00:00:00Z",
    }
    cancelled = {**order, "status": "cancelled"}
    return ScriptedServer(Reply(201, json.dumps(order).encode()), Reply(200, json.dumps(cancelled).encode()))


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_backend_serving_a_payload_read_two_ways_gets_it_refused(tmp_path, attack):
    scheme, payload = ATTACKS[attack]
    with backend_answering(scheme, payload) as server:
        terminal = make_terminal(tmp_path, server.url, payee_id="demo-shop@sandbox")
        terminal.press("12.5E")
        error = terminal.until_screen("error")
        assert error.title == "QR refused" and "cannot be read" in error.lines[0], error.lines
        assert all(model.qr is None for model, _ in terminal.recorder.frames)
        [security] = [e for e in terminal.journal.events() if e["kind"] == "security"]
        assert json.loads(security["detail"]) == {"payload": payload}  # kept for investigation, as received
        terminal.until(lambda: any(p.endswith("/cancel") for _, p, _, _ in server.requests))
        terminal.app.worker.stop()

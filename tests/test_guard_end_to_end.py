"""End to end, for every scheme the sandbox issues: an honest QR is shown byte for byte; a backend that
alters the payee, the amount, the currency or the CRC in the payload (its JSON staying honest) is refused
every time — nothing is displayed, a security event is journaled, the order is cancelled."""

import pytest
import requests

from terminal.sandbox.book import SAMPLE_PAYEE_IDS, SCHEMES
from terminal.sandbox.server import Sandbox

from .qr import decode
from .terminal_app import make_terminal

CASES = [(scheme, tamper) for scheme in SCHEMES for tamper in ("payee", "amount", "currency", "crc")
         if tamper != "crc" or SCHEMES[scheme][0] == "emv"]  # fmt: skip
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

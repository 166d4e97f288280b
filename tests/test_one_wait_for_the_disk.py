"""Key → QR waits for the disk once (#17 item 1): the step that opens a sale and asks for its order commits
without an fsync; the order's step, committed before its QR is shown, waits for the disk and takes the opening
with it. Watched through SQLite's own trace of the terminal's connection: which ``synchronous`` level each sale
write was committed under."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import requests

from terminal.app import must_wait_for_disk
from terminal.core.effects import CreateOrder, JournalSale, TillReply
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest
from terminal.core.sale import Sale, SaleStatus

from .terminal_app import make_terminal

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def levels_of_sale_writes(statements: list[str]) -> list[tuple[str, str]]:
    """(synchronous level in force, the sale status written) for each write of a sale row, in order."""
    level, found = "FULL", []
    for statement in statements:
        if statement.startswith("PRAGMA synchronous="):
            level = statement.split("=")[1]
        elif statement.startswith("INSERT INTO sales"):
            status = next(s for s in ("creating", "awaiting_payment", "paid") if f"'{s}'" in statement)
            found.append((level, status))
    return found


def test_the_sale_opened_commits_without_waiting_and_its_qr_and_payment_wait_for_the_disk(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    statements: list[str] = []
    terminal.journal.conn.set_trace_callback(statements.append)
    terminal.press("12.5E")
    qr = terminal.until_screen("qr")
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")
    terminal.journal.conn.set_trace_callback(None)
    assert levels_of_sale_writes(statements) == [
        ("NORMAL", "creating"),  # nothing shown, told or printed on it
        ("FULL", "awaiting_payment"),  # journaled (with the opening) before its QR is shown
        ("FULL", "paid"),
    ]


def test_only_a_step_that_opens_a_sale_and_asks_for_its_order_may_commit_without_waiting():
    opening = Sale("T1-ab-000001", 1, "T1-000001", Amount(1250, "INR"), SaleStatus.CREATING, AT)
    opens = JournalSale(opening, None, "sale started")
    asks = CreateOrder(OrderRequest(opening.id, opening.reference, opening.amount, 300, "Sale T1-000001"))
    assert must_wait_for_disk([opens, asks]) is False
    assert must_wait_for_disk([opens, asks, TillReply("OK SALE T1-000001")]) is True  # the till was told
    ended = JournalSale(replace(opening, id="T1-ab-000000", status=SaleStatus.PAID), "awaiting_payment", "paid")
    assert must_wait_for_disk([ended, opens, asks]) is True  # another sale's end rides along
    assert must_wait_for_disk([]) is True

"""Issue 15, item 1: one step is one journal transaction, and an undone step loses nothing promised before it.

What broke: each effect committed on its own, and an undo rolled back only memory. ``JournalSale(paid)`` committed,
then the receipt's print job failed: the screen went back to "awaiting payment" while the journal said paid, the
watcher had already stopped, and the sale later expired with ``expired`` written over ``paid``. An undo also
dropped every till line queued in the same pass: the till never got the next sale's ``OK SALE``.

The journal's failures here are real SQLite errors, raised by a TEMP trigger on the terminal's own connection (the
file itself is not changed): the refusal a full or failing disk gives, at exactly the write under test.
"""

from __future__ import annotations

import time

import pygame
import requests

from terminal.core.events import TillCommanded
from terminal.core.money import Amount
from terminal.core.till import TillSale

from .terminal_app import make_terminal
from .test_receipts_end_to_end import with_printer
from .test_till_native import wired


def refuse(journal, name: str, statement: str) -> None:
    """From now on the journal refuses ``statement`` (e.g. "INSERT ON print_jobs") as a failing disk would."""
    journal.db.execute(
        f"CREATE TEMP TRIGGER {name} BEFORE {statement} BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )


def allow(journal, name: str) -> None:
    journal.db.execute(f"DROP TRIGGER temp.{name}")


def pump_for(terminal, seconds: float) -> None:
    end = time.monotonic() + seconds
    terminal.until(lambda: time.monotonic() > end)


def events(terminal):
    return [(e["to_status"], e["cause"]) for e in terminal.journal.events() if e["kind"] == "sale"]


def test_a_payment_whose_receipt_cannot_be_journaled_is_written_whole_once_it_can(tmp_path, sandbox):
    terminal = with_printer(tmp_path, sandbox, tmp_path / "lp0")
    refuse(terminal.journal, "no_receipt", "INSERT ON print_jobs")
    terminal.press("12.5E")
    qr = terminal.until_screen("qr")
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)

    saving = terminal.until_screen("saving")
    assert saving.title == "Payment received — saving…" and saving.qr is None  # never a QR to pay twice
    assert terminal.journal.sales()[0]["status"] == "awaiting_payment"  # not "paid" without its receipt
    assert [row["status"] for row in terminal.journal.db["print_jobs"].rows] == []
    pump_for(terminal, 1.2)  # tried again (every 0.5 s), refused again: still kept, still not half-written
    assert terminal.screen.name == "saving" and terminal.journal.sales()[0]["status"] == "awaiting_payment"

    allow(terminal.journal, "no_receipt")
    terminal.until_screen("paid")
    assert [status for status, _ in events(terminal)] == ["creating", "awaiting_payment", "paid"]
    terminal.until(lambda: [r["status"] for r in terminal.journal.db["print_jobs"].rows] == ["printed"])
    terminal.app.print_queue.stop()


def test_a_payment_kept_past_the_qrs_expiry_is_never_written_over_by_expired(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url, sale_ttl=2)
    refuse(terminal.journal, "not_paid", "UPDATE ON sales WHEN NEW.status = 'paid'")
    terminal.press("7E")
    qr = terminal.until_screen("qr")
    requests.post(f"{qr.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("saving")
    pump_for(terminal, 3)  # past the QR's 2 s: the old loop expired the sale here
    assert terminal.screen.name == "saving" and terminal.journal.sales()[0]["status"] == "awaiting_payment"

    allow(terminal.journal, "not_paid")
    terminal.until_screen("paid")
    assert [status for status, _ in events(terminal)] == ["creating", "awaiting_payment", "paid"]


def test_an_undone_step_keeps_the_till_lines_queued_before_it(tmp_path, sandbox):
    terminal, till = wired(tmp_path, sandbox)
    refuse(terminal.journal, "no_cancel", "UPDATE ON sales WHEN NEW.status = 'cancelled'")
    # In one pass of the loop: the till's SALE (answered OK), then a Cancel key whose step the journal refuses.
    terminal.app.post(TillCommanded(TillSale(Amount(1250, "INR"), "INV-1")))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=0))
    terminal.app.pump()

    assert till.line(terminal) == "OK SALE T1-000001"
    assert till.line(terminal) == "QR T1-000001 REF=INV-1 12.50 INR"
    assert terminal.screen.notice == "Cannot write the journal: call support"
    assert [status for status, _ in events(terminal)] == ["creating", "awaiting_payment"]
    terminal.app.till.stop()

"""Reports at scale (#17): the journal's SQL totals equal a naive sum over every row, period after period; a Z's
period ends where the loop closed it, whatever ends while its totals are summed; the terminal's reports are made
off the loop thread, and so are the checkpoints of its journal's WAL, between sales."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pygame
import pytest
import requests

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
from terminal.core.refund import Refund, RefundStatus
from terminal.core.sale import Sale, SaleStatus
from terminal.reports import build_report, close_period, z_report
from terminal.store.journal import Journal, JournalError

from .terminal_app import make_terminal
from .test_shop_operations import pay, unlock

T = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FINALS = (
    SaleStatus.PAID,
    SaleStatus.PAID,
    SaleStatus.PAID,
    SaleStatus.UNDERPAID,
    SaleStatus.EXPIRED,
    SaleStatus.CANCELLED,
    SaleStatus.FAILED,
)


def generate(journal, count, seed=17, every=timedelta(minutes=1), first=1):
    """``count`` sales (numbered from ``first``) in INR and BRL through Journal.record_sale, one ``every`` minute,
    ending in every final status; paid ones sometimes overpaid, some refunded."""
    rng = random.Random(seed + first)
    for seq in range(first, first + count):
        at = T + every * seq
        currency = "INR" if seq % 3 else "BRL"
        amount = Amount(rng.randint(1, 500_000), currency)
        started = Sale(f"T1-x-{seq:06d}", seq, f"T1-{seq:06d}", amount, SaleStatus.CREATING, at)
        journal.record_sale(started, None, "amount entered", at)
        order = Order(
            f"ord_{seq}",
            OrderStatus.PENDING,
            started.reference,
            amount,
            QrCode("upi", "x"),
            Payee("Shop", "shop@bank"),
            at + timedelta(minutes=5),
        )
        final = rng.choice(FINALS)
        paid = {SaleStatus.PAID: amount.minor + rng.choice((0, 0, 0, 100)), SaleStatus.UNDERPAID: amount.minor // 2}
        payments = (Payment(Amount(paid[final], currency), at, "payer", f"UTR{seq}"),) if final in paid else ()
        ended = Sale(
            started.id, seq, started.reference, amount, final, at, order=order, payments=payments, order_open=False
        )
        journal.record_sale(ended, "creating", str(final), at + timedelta(seconds=30))
        if final is SaleStatus.PAID and rng.random() < 0.1:
            refund = Refund(
                f"{started.id}-R1",
                started.id,
                started.reference,
                order.id,
                Amount(rng.randint(1, amount.minor), currency),
                RefundStatus.SUCCEEDED,
                at + timedelta(seconds=40),
            )
            journal.record_refund(refund, "test", at + timedelta(seconds=40))


def by_hand(journal, since, until):
    """Per currency: counts and totals per status, refunds — every row read and summed in Python."""
    made = {}
    for row in journal.sales():
        if row["ended_at"] is None or not since < row["ended_at"] <= until:
            continue
        c = made.setdefault(row["currency"], {"counts": {}, "totals": {}, "refunds": 0})
        received = row["status"] in ("paid", "underpaid") and row["paid_minor"] is not None
        c["counts"][row["status"]] = c["counts"].get(row["status"], 0) + 1
        c["totals"][row["status"]] = c["totals"].get(row["status"], 0) + (
            row["paid_minor"] if received else row["amount_minor"]
        )
    for row in journal.db["refunds"].rows:
        if row["status"] == "succeeded" and since < row["settled_at"] <= until:
            made.setdefault(row["currency"], {"counts": {}, "totals": {}, "refunds": 0})["refunds"] += row[
                "amount_minor"
            ]
    return made


def as_dict(report):
    return {c.currency: {"counts": c.counts, "totals": c.totals, "refunds": c.refunds} for c in report.currencies}


def test_x_and_z_totals_equal_a_sum_of_every_row_across_several_z_reports(journal):
    since, first = "", 1
    for hours in (2, 3, 5, 8):  # Zs closing 119, 60, 120 and 180 sales; then the X of the last 120
        generate(journal, hours * 60 - first, first=first)  # the journal written as time goes, as the terminal does
        first = hours * 60
        z = build_report(journal, "z", T + timedelta(hours=hours))
        assert as_dict(z) == by_hand(journal, since, z.until) and as_dict(z), z
        recorded = journal.db.execute("SELECT totals FROM z_reports WHERE number = ?", (z.number,)).fetchone()[0]
        assert [t["currency"] for t in json.loads(recorded)] == [c.currency for c in z.currencies]
        since = z.until
    generate(journal, 120, first=first)
    x = build_report(journal, "x", T + timedelta(days=2))
    assert as_dict(x) == by_hand(journal, since, "~") and as_dict(x)


def test_a_sale_ending_while_a_z_is_summed_counts_in_the_next_x_only(journal):
    generate(journal, 20)
    number, since, closed = close_period(journal, T + timedelta(hours=1))
    late = Sale("T1-x-late", 99, "T1-late", Amount(777, "INR"), SaleStatus.EXPIRED, T + timedelta(hours=1))
    journal.record_sale(late, "awaiting_payment", "expired", T + timedelta(hours=1, seconds=1))
    z = z_report(journal.another(), number, since, closed)  # summed after the sale ended, on another connection
    x = build_report(journal, "x", T + timedelta(hours=2))
    assert as_dict(z) == by_hand(journal, since, closed)
    assert as_dict(x) == {"INR": {"counts": {"expired": 1}, "totals": {"expired": 777}, "refunds": 0}}


def test_the_terminals_reports_are_made_after_its_step_and_a_z_closes_its_period_in_the_step(tmp_path, sandbox):
    from .test_shop_operations import shop

    terminal = shop(tmp_path, sandbox)
    pay(terminal, "12.5")
    unlock(terminal)
    terminal.press("2")  # one pass of the loop: the X report is asked for, not made there
    assert terminal.app.state.menu.report is None
    terminal.until(lambda: "INR 12.50" in " ".join(terminal.screen.lines))
    terminal.press("C3E")  # confirm the Z: the period is closed in that step, its totals come later
    assert terminal.journal.last_z() is not None and terminal.app.state.menu.report is None
    terminal.until(lambda: terminal.screen.title == "Z report" and "INR 12.50" in " ".join(terminal.screen.lines))
    totals = json.loads(terminal.journal.db.execute("SELECT totals FROM z_reports").fetchone()[0])
    assert totals[0]["currency"] == "INR" and totals[0]["totals"] == {"paid": 1250}


def test_a_report_that_cannot_be_read_says_so_and_the_terminal_goes_on(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    terminal.journal.db.execute("DROP TABLE period_totals")  # the report can no longer be read
    terminal.journal.db.conn.commit()
    made = []
    terminal.app.reports._post = made.append
    terminal.app.reports.x(T, terminal.app.shop)
    terminal.until(lambda: bool(made))
    assert made[0].lines == ("The report could not be made: call support",) and made[0].ours is None
    terminal.press("5E")
    assert terminal.until_screen("qr").amount == "₹5.00"


# --- the journal's check, after the ready screen ---------------------------------------------------------------


def damaged_journal(path):
    """A journal of 300 sales whose events-by-time index has a broken page (nothing read at start uses it)."""
    journal = Journal(path)
    generate(journal, 300)
    journal.close()
    with sqlite3.connect(path) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'idx_events_at'").fetchone()[0]
        page = db.execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xff" * 16)


def test_a_journal_damaged_where_the_start_does_not_read_is_found_after_the_ready_screen(tmp_path, sandbox):
    damaged_journal(tmp_path / "journal.db")
    terminal = make_terminal(tmp_path, sandbox.url)  # built as `run` builds it: the journal is checked later
    app, journal = terminal.app, terminal.journal
    assert app.display.shown.name == "idle"  # the ready screen comes first
    app.check_journal()
    deadline = time.monotonic() + 10
    while app.display.shown.name != "damaged" and time.monotonic() < deadline:
        app.pump()
        time.sleep(0.01)
    shown = app.display.shown
    assert shown.title == "Journal damaged: call support" and "restore it from a backup" in shown.lines[1]
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP5, mod=0, unicode="5", scancode=0))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP_ENTER, mod=0, unicode="\r", scancode=0))
    app.pump()
    assert app.display.shown.name == "damaged" and journal.next_seq() == 301  # no sale taken
    app._checking.stop(1.0)
    journal.close()


def test_a_sound_journal_passes_the_check_and_a_damaged_one_is_named(tmp_path):
    sound = Journal(tmp_path / "sound.db")
    generate(sound, 50)
    assert sound.damage() is None
    sound.close()
    damaged_journal(tmp_path / "journal.db")
    with pytest.raises(JournalError, match="is damaged"):
        Journal(tmp_path / "journal.db")  # the tools' opening still checks before anything


def test_the_sales_a_restart_picks_up_are_those_a_scan_of_every_sale_finds(journal):
    generate(journal, 200)
    rng = random.Random(3)
    for row in rng.sample(journal.sales(), 30):  # orders still open, sales still waiting, at random
        journal.db.execute("UPDATE sales SET order_open = 1 WHERE id = ?", (row["id"],))
    for row in rng.sample(journal.sales(), 5):
        journal.db.execute("UPDATE sales SET status = 'awaiting_payment', ended_at = NULL WHERE id = ?", (row["id"],))
    journal.db.conn.commit()
    scan = journal.db.execute(
        "SELECT id FROM sales WHERE status IN ('creating', 'awaiting_payment') "
        "OR (order_open = 1 AND status != 'paid') "
        "OR (status IN ('paid', 'underpaid', 'mismatch') AND order_id IS NOT NULL "
        "AND seq > (SELECT MAX(seq) - 20 FROM sales)) ORDER BY seq"
    ).fetchall()
    assert [s.id for s in journal.unfinished_sales()] == [i for (i,) in scan] and len(scan) > 20


def in_the_file_alone(journal_path, folder, sql="SELECT reference, status FROM sales ORDER BY seq"):
    """What ``sql`` reads in the journal's file without its WAL (by default the sales, as (reference, status)):
    what checkpoints copied there."""
    alone = folder / f"alone-{time.monotonic_ns()}.db"
    shutil.copyfile(journal_path, alone)
    with contextlib.closing(sqlite3.connect(alone)) as db:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the journal's tables themselves are still only in the WAL
            return []


def test_a_checkpoint_copies_the_wal_into_the_journal_file_and_the_wal_starts_over(journal, tmp_path):
    generate(journal, 10)
    assert in_the_file_alone(journal.path, tmp_path) == []  # ten sales, in the WAL only
    pages, copied = journal.checkpoint()
    assert pages > 0 and copied == pages
    assert len(in_the_file_alone(journal.path, tmp_path)) == 10
    generate(journal, 1, first=11)
    assert journal.checkpoint()[0] < pages / 5  # the next sale's commits wrote the WAL from its start again


def test_the_terminal_checkpoints_its_journal_between_sales_never_while_one_waits(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    terminal.press("12.5E")
    qr = terminal.until_screen("qr").qr
    waited = time.monotonic() + 2.5  # two ticks and more on the QR screen
    while time.monotonic() < waited:
        terminal.app.pump()
        time.sleep(0.02)
    assert in_the_file_alone(terminal.journal.path, tmp_path) == []  # a sale under way: no checkpoint
    requests.post(f"{qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")  # the last key was pressed 2.5 s and more ago: the shop pauses
    terminal.until(lambda: in_the_file_alone(terminal.journal.path, tmp_path) == [("T1-000001", "paid")])


def test_the_terminal_does_not_checkpoint_while_the_next_amount_is_typed(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    pay(terminal, "12.5")  # back to idle with "C": a key, just now
    typing = time.monotonic() + 1.5  # a tick and more, a key every 0.3 s
    while time.monotonic() < typing:
        terminal.press("1")
        time.sleep(0.3)
    assert in_the_file_alone(terminal.journal.path, tmp_path) == []


def test_a_starting_terminal_leaves_its_start_to_the_first_pause_after_a_sale(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    seen: list[list[tuple[str, str]]] = []
    ticks = time.monotonic() + 2.5  # ready screen, warm-up, two ticks and more with no key

    def looked(app) -> bool:
        if time.monotonic() < ticks:
            return False
        # before run's end closes (and so checkpoints) the journal
        seen.append(in_the_file_alone(terminal.journal.path, tmp_path, "SELECT kind FROM events WHERE kind = 'start'"))
        return True

    terminal.app.run(until=looked)
    assert seen == [[]]  # the start is journaled, in the WAL only: no checkpoint on the first ticks
    assert [e["kind"] for e in terminal.journal.events()] == ["start"]

"""Retention (#17): ``qr-terminal archive --before DATE`` moves sales a Z closed into a dated file beside the
journal, with their events and refunds; the Z totals stay as they were, and what is left reads the same."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date, timedelta

import pytest

from terminal.reports import build_report
from terminal.store.archive import ArchiveRefused, archive, archive_path

from .test_report_worker import T, as_dict, generate

HOURLY = timedelta(hours=1)  # 300 sales: 1 to 13 November


@pytest.fixture
def closed_journal(journal):
    """300 hourly sales, Z reports on 5 and 9 November (the journal written as time goes)."""
    first = 1
    for day in (5, 9):
        end = T.replace(day=day, hour=0)
        last = (end - T) // HOURLY - 1  # the last sale whose every write comes before the Z
        generate(journal, last - first + 1, every=HOURLY, first=first)
        build_report(journal, "z", end)
        first = last + 1
    generate(journal, 301 - first, every=HOURLY, first=first)
    return journal


def rows(path, table, key="id"):
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute(f"SELECT {key} FROM {table}")}


def test_archiving_moves_closed_sales_with_their_events_and_refunds_and_keeps_every_total(closed_journal):
    journal = closed_journal
    zs = journal.db.execute("SELECT * FROM z_reports ORDER BY number").fetchall()
    x_before = as_dict(build_report(journal, "x", T.replace(day=20)))
    ended_early = {r["id"] for r in journal.sales() if r["ended_at"] < "2026-11-07"}
    moved = archive(journal, date(2026, 11, 7))
    target = archive_path(journal.path, date(2026, 11, 7))
    assert moved.path == target and moved.sales == len(ended_early) > 100 and moved.refunds > 0
    assert rows(target, "sales") == ended_early and not ended_early & rows(journal.path, "sales")
    assert rows(target, "events", "sale_id") == ended_early
    assert not ended_early & rows(journal.path, "events", "sale_id")
    assert rows(target, "refunds", "sale_id") <= ended_early and not ended_early & rows(
        journal.path, "refunds", "sale_id"
    )
    assert journal.db.execute("SELECT * FROM z_reports ORDER BY number").fetchall() == zs  # totals untouched
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT * FROM z_reports ORDER BY number").fetchall() == zs  # the archive has them too
    assert as_dict(build_report(journal, "x", T.replace(day=20))) == x_before  # the open period reads the same
    assert journal.next_seq() == 301


def test_an_archive_an_earlier_version_made_gets_the_columns_added_since(closed_journal):
    archive(closed_journal, date(2026, 11, 5))
    target = archive_path(closed_journal.path, date(2026, 11, 7))
    archive_path(closed_journal.path, date(2026, 11, 5)).rename(target)
    with sqlite3.connect(target) as db:
        db.execute("ALTER TABLE sales DROP COLUMN period")  # as the archive was before sales were counted by period
    moved = archive(closed_journal, date(2026, 11, 7))
    assert moved.sales > 0 and rows(target, "sales") >= rows(target, "events", "sale_id")
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT COUNT(*) FROM sales WHERE period IS NOT NULL").fetchone()[0] == moved.sales


def test_archiving_again_moves_nothing_more(closed_journal):
    archive(closed_journal, date(2026, 11, 7))
    assert archive(closed_journal, date(2026, 11, 7)).sales == 0


def test_sales_no_z_closed_refuse_the_move_and_nothing_moves(closed_journal):
    before = rows(closed_journal.path, "sales")
    with pytest.raises(ArchiveRefused, match="not closed by a Z report yet: make a Z report first"):
        archive(closed_journal, date(2026, 11, 11))  # the last Z closed 9 November
    assert rows(closed_journal.path, "sales") == before
    assert not archive_path(closed_journal.path, date(2026, 11, 11)).exists()


def test_the_newest_sales_stay_whatever_the_date(journal):
    generate(journal, 30, every=HOURLY)
    build_report(journal, "z", T + timedelta(days=3))
    moved = archive(journal, date(2026, 11, 4))
    assert moved.sales == 10 and journal.next_seq() == 31  # the newest 20 stay: the numbering goes on


def test_the_command_line_says_what_moved_and_refuses_in_one_sentence(closed_journal, tmp_path):
    closed_journal.close()

    def archive_cli(day):
        return subprocess.run(
            [sys.executable, "-m", "terminal", "archive", "--before", day, "--db", str(tmp_path / "journal.db")],
            capture_output=True,
            text=True,
            timeout=60,
        )

    refused = archive_cli("2026-11-12")
    assert refused.returncode == 2 and "make a Z report first" in refused.stderr and "Traceback" not in refused.stderr
    done = archive_cli("2026-11-07")
    assert (
        done.returncode == 0 and done.stdout.startswith("archived ") and "journal-archive-2026-11-07.db" in done.stdout
    )
    bad = archive_cli("7 Nov")
    assert bad.returncode == 2 and "is not a date (YYYY-MM-DD)" in bad.stderr


def test_the_archive_is_refused_while_a_terminal_holds_the_journal(closed_journal, tmp_path):
    # closed_journal is open here as a running terminal holds it (the journal's lock)
    held = subprocess.run(
        [sys.executable, "-m", "terminal", "archive", "--before", "2026-11-07", "--db", str(tmp_path / "journal.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert held.returncode == 2 and "is in use by another qr-terminal" in held.stderr
    assert not archive_path(closed_journal.path, date(2026, 11, 7)).exists()

"""The journal is a real SQLite file: WAL, synchronous=FULL, migrations, every change committed."""

import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from terminal.core.i18n import Text
from terminal.core.money import Amount
from terminal.core.sale import Failure, FailureKind, Sale, SaleStatus
from terminal.i18n import words_for
from terminal.store.journal import CACHE_KIB, Journal, JournalError

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SALE = Sale("T1-ab-000001", 1, "T1-000001", Amount(1250, "INR"), SaleStatus.CREATING, AT)


def test_the_file_is_wal_with_full_sync_and_migrated(journal):
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert {"sales", "events", "_sqlite_migrations"} <= set(journal.db.table_names())


def test_every_connection_to_the_journal_keeps_a_small_page_cache(journal):
    # SQLite's default is 2 MB a connection, and a process keeps what its caches filled.
    reader, worker = Journal.reader(journal.path), journal.another()
    for conn in (journal.conn, worker.conn, reader.conn):
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB == -512
    reader.close()
    worker.close()


def test_a_step_that_need_not_wait_for_the_disk_commits_without_and_every_other_write_waits_again(journal):
    with journal.step(wait_for_disk=False):
        assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: no fsync at its commit
        journal.record_sale(SALE, None, "sale started", AT)
    assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again, for whatever comes next
    assert sqlite3.connect(journal.path).execute("SELECT status FROM sales").fetchall() == [("creating",)]
    with journal.step():
        assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        with journal.step(wait_for_disk=False):  # nested: a savepoint of a step that waits; it waits too
            assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_step_that_need_not_wait_and_fails_leaves_the_journal_waiting_for_the_disk(journal):
    with pytest.raises(RuntimeError), journal.step(wait_for_disk=False):
        journal.record_sale(SALE, None, "sale started", AT)
        raise RuntimeError("the step failed")
    assert journal.sales() == []
    assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_sale_and_its_event_are_committed_and_seen_by_another_connection(journal):
    journal.record_sale(SALE, None, "sale started", AT)
    other = sqlite3.connect(journal.path)
    row = other.execute("SELECT reference, amount_minor, currency, status FROM sales").fetchone()
    assert row == ("T1-000001", 1250, "INR", "creating")
    assert other.execute("SELECT from_status, to_status, cause FROM events").fetchall() == [
        (None, "creating", "sale started")
    ]


def test_a_refused_commit_undoes_the_step_and_the_next_step_reaches_the_disk(journal):
    # A COMMIT SQLite refuses (here a deferred foreign key; a busy or full disk alike) must not leave the
    # transaction open: the next step would be a savepoint inside it and never be committed.
    journal.conn.execute("PRAGMA foreign_keys=ON")
    journal.conn.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
    journal.conn.execute("CREATE TEMP TABLE child (parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError), journal.transaction():
        journal.record_sale(SALE, None, "sale started", AT)
        journal.conn.execute("INSERT INTO child VALUES (7)")  # no parent 7: refused at COMMIT, not here
    assert not journal.conn.in_transaction
    other = sqlite3.connect(journal.path)
    assert other.execute("SELECT count(*) FROM sales").fetchone() == (0,)  # the refused step is undone, whole
    journal.record_sale(SALE, None, "sale started", AT)
    assert other.execute("SELECT reference FROM sales").fetchall() == [("T1-000001",)]  # on disk, seen by others
    other.close()


def test_each_transition_updates_the_sale_and_appends_an_event(journal):
    journal.record_sale(SALE, None, "sale started", AT)
    journal.record_sale(replace(SALE, status=SaleStatus.CANCELLED), "creating", "cancelled", AT)
    assert journal.sale(SALE.id)["status"] == "cancelled"
    assert [e["to_status"] for e in journal.events(SALE.id)] == ["creating", "cancelled"]


REFUSED = Failure(
    FailureKind.QR_REFUSED,
    Text(
        "QR refused: {reason}",
        reason=Text(
            "the order is for {order}, the sale for {sale}", order=Amount(100, "INR"), sale=Amount(1250, "INR")
        ),
    ),
)


def test_why_a_sale_failed_is_read_back_in_the_shops_language_and_kept_in_english_for_the_tools(journal):
    journal.record_sale(replace(SALE, status=SaleStatus.FAILED, failure=REFUSED), None, "QR refused", AT)
    [(read, _)] = journal.recent_sales(1)
    hindi = words_for("hi")
    assert hindi.show(read.failure.message) == hindi.show(REFUSED.message) != str(REFUSED.message)
    assert journal.sale(SALE.id)["failure"] == "QR refused: the order is for ₹1.00, the sale for ₹12.50"


def test_a_failure_whose_words_are_damaged_or_were_never_kept_reads_back_in_english(journal):
    journal.record_sale(replace(SALE, status=SaleStatus.FAILED, failure=REFUSED), None, "QR refused", AT)
    for kept in ("{not json", None):  # damaged; or written by a version before m014
        journal.conn.execute("UPDATE sales SET failure_words = ?", (kept,))
        [(read, _)] = journal.recent_sales(1)
        assert words_for("hi").show(read.failure.message) == str(REFUSED.message)


def test_reopening_keeps_everything_and_the_sequence_continues(tmp_path):
    first = Journal(tmp_path / "j.db")
    first.record_sale(SALE, None, "sale started", AT)
    first.close()
    again = Journal(tmp_path / "j.db")
    assert again.next_seq() == 2 and len(again.sales()) == 1
    again.close()


def test_security_events_keep_the_refused_payload(journal):
    journal.record_security("T1-ab-000001", "payee 'x' is not this shop's", "upi://pay?pa=x", AT)
    event = journal.events()[0]
    assert event["kind"] == "security" and "upi://pay?pa=x" in event["detail"]


def test_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(blocker / "journal.db")


def test_a_failed_write_is_a_journal_error(tmp_path):
    journal = Journal(tmp_path / "j.db")
    journal.db.execute("PRAGMA query_only = ON")
    with pytest.raises(JournalError, match="cannot write the journal"):
        journal.record_sale(SALE, None, "sale started", AT)
    journal.close()


def old_journal_with_a_sale(path, stop_before: str):
    """A journal as an older version left it (migrated up to ``stop_before``), with one paid sale; its
    sqlite-utils ``Database``, still open."""
    from sqlite_utils import Database

    from terminal.store.migrations import registry

    old = Database(path)
    registry().apply(old, stop_before=stop_before)
    old["sales"].insert(
        {
            "id": "T1-x-000001",
            "seq": 1,
            "reference": "T1-000001",
            "amount_minor": 1250,
            "currency": "INR",
            "status": "paid",
            "started_at": "2026-11-27T10:00:00.000+00:00",
            "updated_at": "2026-11-27T10:01:00.000+00:00",
            "order_open": 0,
        }
    )
    return old


def test_a_journal_written_by_an_older_version_is_migrated_and_keeps_its_sales(tmp_path):
    path = tmp_path / "old.db"
    old_journal_with_a_sale(path, "m002_print_jobs").close()  # the schema of the first release
    journal = Journal(path)
    assert {"print_jobs"} <= set(journal.db.table_names())
    assert "payee_name" in journal.db["sales"].columns_dict
    assert journal.sale("T1-x-000001")["status"] == "paid" and journal.next_seq() == 2
    journal.close()


# --- one terminal per journal; read-only readers beside it (issue 15, items 4 and 5) -----------------------


def test_a_second_opener_is_refused_and_told_the_holders_pid(tmp_path):
    path = tmp_path / "j.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from terminal.store.journal import Journal; j = Journal(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(JournalError, match=rf"in use by another qr-terminal \(pid {holder.pid}\)"):
            Journal(path)
    finally:
        holder.communicate("", timeout=10)
    Journal(path).close()  # the holder is gone: so is its lock


def test_a_reader_reads_beside_the_terminal_and_cannot_write(journal):
    journal.record_sale(SALE, None, "sale started", AT)
    reader = Journal.reader(journal.path)
    assert reader.read_only and [s["reference"] for s in reader.sales()] == ["T1-000001"]
    with pytest.raises(JournalError, match="readonly"):
        reader.record_sale(SALE, None, "sale started", AT)
    reader.close()


def old_journal(path):
    from sqlite_utils import Database

    from terminal.store.migrations import registry

    old = Database(path)
    registry().apply(old, stop_before="m002_print_jobs")
    old.close()


def applied(path):
    with sqlite3.connect(path) as db:
        return [name for (name,) in db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]


def test_a_reader_never_migrates_and_says_the_terminal_must_start_first(tmp_path):
    path = tmp_path / "old.db"
    old_journal(path)
    with pytest.raises(JournalError, match="older qr-terminal: start the terminal once"):
        Journal.reader(path)
    assert applied(path) == ["m001_sales_and_events"]


def newer_journal(path):
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('qr-terminal', 'm099_from_the_future', '2027-01-01')"
        )


def test_a_journal_written_by_a_newer_version_is_refused_by_the_terminal_and_the_readers(tmp_path):
    path = tmp_path / "new.db"
    newer_journal(path)
    for opener in (Journal, Journal.reader):
        with pytest.raises(JournalError, match=r"written by a newer qr-terminal .*m099_from_the_future.*upgrade"):
            opener(path)
    assert applied(path)[-1] == "m099_from_the_future"


def test_the_report_reads_beside_a_running_terminal_and_refuses_a_newer_journal(tmp_path):
    path = tmp_path / "j.db"
    running = Journal(path)
    running.record_sale(SALE, None, "sale started", AT)
    report = subprocess.run(
        [sys.executable, "-m", "terminal", "report", "--db", str(path)], capture_output=True, text=True, timeout=60
    )
    assert report.returncode == 0, report.stderr
    running.close()
    newer = tmp_path / "new.db"
    newer_journal(newer)
    report = subprocess.run(
        [sys.executable, "-m", "terminal", "report", "--db", str(newer)], capture_output=True, text=True, timeout=60
    )
    assert report.returncode == 2 and "written by a newer qr-terminal" in report.stderr
    assert "Traceback" not in report.stderr

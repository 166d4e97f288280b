"""The journal's migrations: every pending one in one transaction, applied in the process (the tools, the tests)
or by a short-lived child process (``qr-terminal run``, so sqlite-utils never loads into it: test_lean_start.py).
A migration that fails is one sentence naming it, and the journal is left as it was. Real SQLite files, real
child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from terminal.store.journal import Journal, JournalError
from terminal.store.migrations import NAMES

from .test_journal import old_journal_with_a_sale
from .test_lean_start import ENV, a_config

#: What a journal made by stuck_journal() is told when it is opened for the terminal.
STUCK = '(m013_period_totals: table "period_totals" already exists); nothing in it was changed'


def stuck_journal(path):
    """A journal of an older version (up to m011) with one paid sale, where m013 cannot apply: a table of the name
    it creates is there already (m012 applies)."""
    old = old_journal_with_a_sale(path, "m012_later_money_index")
    old.execute("CREATE TABLE period_totals (note TEXT)")
    old.close()


def dump(path):
    """Everything in the journal, as SQL."""
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


def applied(path):
    with closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]


@pytest.mark.parametrize("in_child", [False, True], ids=["here", "in a child"])
def test_a_failing_migration_is_one_sentence_and_every_pending_one_is_rolled_back(tmp_path, in_child):
    path = tmp_path / "journal.db"
    stuck_journal(path)
    before = dump(path)
    with pytest.raises(JournalError) as raised:
        Journal(path, migrate_in_child=in_child)
    assert str(raised.value) == f"cannot bring the journal {path} up to date {STUCK}"
    assert dump(path) == before  # m012 too: it applied before m013 failed
    with pytest.raises(JournalError, match="older qr-terminal"):
        Journal.reader(path)


def test_a_child_brings_an_older_journal_up_to_date_under_this_process_lock_and_it_keeps_its_sales(tmp_path):
    path = tmp_path / "journal.db"
    stuck_journal(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("DROP TABLE period_totals")
    journal = Journal(path, migrate_in_child=True)
    try:
        assert applied(path) == list(NAMES)
        assert journal.sale("T1-x-000001")["status"] == "paid" and journal.next_seq() == 2
        # The lock is still this process's, and the lock file still names it (the child had it handed down).
        assert path.with_name("journal.db.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(JournalError, match=rf"in use by another qr-terminal \(pid {os.getpid()}\)"):
            Journal(path)
    finally:
        journal.close()


def test_a_migration_child_that_is_killed_is_told_in_one_sentence_and_the_journal_is_as_it_was(tmp_path):
    path = tmp_path / "journal.db"
    stuck_journal(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("DROP TABLE period_totals")  # every migration would apply: only the kill stops them
    before = dump(path)
    killer = threading.Thread(target=kill_migration_child, args=(os.getpid(),))
    killer.start()
    with pytest.raises(JournalError) as raised:
        Journal(path, migrate_in_child=True)
    killer.join()
    assert str(raised.value) == (
        f"cannot bring the journal {path} up to date (its migration process was stopped by signal 9); "
        "nothing in it was changed"
    )
    assert dump(path) == before


def kill_migration_child(parent: int, within: float = 10.0) -> None:
    """SIGKILL ``parent``'s migration child as soon as it runs (a power cut, as the child sees it); the other
    children of the test process (servers of other tests) are left alone."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for listing in Path(f"/proc/{parent}/task").glob("*/children"):
            for pid in listing.read_text().split():
                with contextlib.suppress(OSError):  # a child that ended meanwhile
                    if b"terminal.store.migrations" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        os.kill(int(pid), signal.SIGKILL)
                        return
        time.sleep(0.001)


def test_a_migration_child_not_handed_the_terminals_lock_is_refused(tmp_path):
    path = tmp_path / "journal.db"
    running = Journal(path)
    try:
        with open(path.with_name("journal.db.lock"), "a+") as own:  # the lock file, but not the holder's lock
            child = subprocess.run(
                [sys.executable, "-m", "terminal.store.migrations", str(path), "--lock-fd", str(own.fileno())],
                pass_fds=(own.fileno(),),
                capture_output=True,
                text=True,
                timeout=60,
            )
    finally:
        running.close()
    assert child.returncode == 1
    assert child.stdout.startswith(f"the journal {path} is in use by another qr-terminal (pid {os.getpid()})")


def test_run_on_a_journal_whose_migration_fails_says_one_sentence_and_changes_nothing(tmp_path):
    config = a_config(tmp_path)
    path = tmp_path / "journal.db"
    stuck_journal(path)
    before = dump(path)
    run = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr == f"qr-terminal: cannot bring the journal {path} up to date {STUCK}\n"
    assert dump(path) == before

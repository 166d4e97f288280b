"""Issue 15, item 2: the disk fills up at the moment the payment arrives.

What broke: with the journal on a 2 MB tmpfs, the disk filled and the customer paid, the payment was dropped
("journal write failed, step undone"); after space was freed the QR stayed up until it ran out, and the till heard
``RESULT … EXPIRED`` and then ``RESULT … PAID``.

Here the journal lives on a real 2 MB tmpfs mounted for the test (root is needed to mount it; without it the tests
are skipped and say so), filled with a real file until the kernel says ENOSPC.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .terminal_app import make_terminal
from .test_till_native import wired


class SmallDisk:
    """A real 2 MB file system: ``fill`` takes every free byte, ``free`` gives them back."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, bytes(size))
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 2 MB tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield SmallDisk(mount)
    subprocess.run(["umount", "--lazy", str(mount)], check=True)


def pay(terminal):
    requests.post(f"{terminal.screen.qr.split('?')[0]}/pay", timeout=5)


def test_the_reserve_is_released_and_the_payment_is_journaled_on_a_full_disk(tmp_path, sandbox, small_disk):
    terminal = make_terminal(tmp_path, sandbox.url, journal_path=small_disk.mount / "journal.db", reserve=256 * 1024)
    reserve = small_disk.mount / "journal.db.reserve"
    assert reserve.stat().st_size == 256 * 1024
    terminal.press("12.5E")
    terminal.until_screen("qr")
    small_disk.fill()
    pay(terminal)

    paid = terminal.until_screen("paid")
    assert terminal.journal.sales()[0]["status"] == "paid" and not reserve.exists()
    assert "Storage full: call support" in paid.warning


def test_with_no_room_at_all_the_payment_waits_to_be_journaled_and_the_till_never_hears_expired(
    tmp_path, sandbox, small_disk
):
    terminal, till = wired(tmp_path, sandbox, journal_path=small_disk.mount / "journal.db", reserve=0, sale_ttl=3)
    assert till.ask(terminal, "SALE 7 REF=INV-9") == "OK SALE T1-000001"
    assert till.line(terminal) == "QR T1-000001 REF=INV-9 7.00 INR"
    small_disk.fill()
    pay(terminal)

    saving = terminal.until_screen("saving")
    assert (saving.title, saving.lines, saving.qr) == (
        "Payment received — saving…",
        ("Storage full: call support",),
        None,
    )
    assert till.ask(terminal, "SALE 3") == "ERR 503 busy: saving a payment"
    end = time.monotonic() + 4  # past the QR's 3 s
    terminal.until(lambda: time.monotonic() > end)
    assert terminal.screen.name == "saving" and terminal.journal.sales()[0]["status"] == "awaiting_payment"

    small_disk.free()
    assert till.line(terminal, timeout=5).startswith("RESULT T1-000001 REF=INV-9 PAID 7.00 INR")
    assert terminal.screen.name == "paid"
    assert [e["to_status"] for e in terminal.journal.events()] == ["creating", "awaiting_payment", "paid"]
    terminal.app.till.stop()


def test_a_checkpoint_that_meets_a_full_disk_loses_nothing_and_leaves_the_reserve_to_the_loop(small_disk):
    from terminal.store.journal import Journal, JournalError

    from .test_report_worker import generate

    journal = Journal(small_disk.mount / "journal.db", reserve=256 * 1024)
    generate(journal, 10)  # in the WAL: the journal's file must grow to take them
    worker = journal.another()  # the report worker's connection
    small_disk.fill()
    with pytest.raises((sqlite3.Error, JournalError)):
        worker.checkpoint()
    assert (small_disk.mount / "journal.db.reserve").exists() and not journal.storage_low  # kept for a payment
    small_disk.free()
    assert worker.checkpoint()[1] > 0 and len(journal.sales()) == 10
    worker.conn.close()
    journal.close()

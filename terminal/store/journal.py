"""The journal: one SQLite file (WAL, ``synchronous=FULL``) where every sale and every change of it is
committed before the screen, LEDs or till say anything about it. Only the loop thread writes. One kind of step
commits without waiting for the disk (``Journal.step(wait_for_disk=False)``): opening a sale and asking for its
order, on which nothing is shown or told; the order's step waits, and takes it to the disk with itself.

One process at a time: the terminal holds an exclusive lock (``flock`` on ``<journal>.lock``, which names its pid)
for as long as the journal is open, so a second terminal on the same file is refused instead of corrupting it.
The read-only tools (``report``, ``reconcile``) open it with :meth:`Journal.reader` beside the running terminal.
Beside the journal a reserve file (``<journal>.reserve``) holds a little disk space that is released the moment
the disk is full, so a payment can still be recorded.

Reads and writes are plain parametrised SQL on :mod:`sqlite3`, one statement set per table (this module is the
only writer). sqlite-utils is the schema tool (:mod:`terminal.store.migrations`): it is imported only when a
migration is pending, or when a tool asks for :attr:`Journal.db`; ``qr-terminal run`` has a short-lived child
process apply pending migrations (``migrate_in_child``), so the running terminal never imports it. Every connection
keeps a small page cache (:data:`CACHE_KIB`).

Each period's report totals are kept as sales and refunds are journaled (``period_totals``, in the same
transaction): an X or Z report reads a few rows, whatever the period holds, and a Z closes the period by starting
the next one. :meth:`Journal.ended_since` and its siblings sum the same totals from the rows (the reference the
kept totals are checked against).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from terminal.core.i18n import Text, text_data, text_from_data
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
from terminal.core.pin import PinLock
from terminal.core.receipt import Line, Receipt
from terminal.core.refund import Refund, RefundStatus
from terminal.core.report import Ended
from terminal.core.sale import Failure, FailureKind, Sale, SaleStatus
from terminal.store.migrations import NAMES, SET

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger(__name__)

#: Disk space kept aside beside the journal for the moment the disk fills up (a paid step needs a few pages).
RESERVE_BYTES = 1024 * 1024
#: Seconds between looks at the free space while the reserve is spent (to put it back).
RESERVE_CHECK_EVERY = 30.0
#: The page cache of each connection, in KiB (SQLite's default is 2 MB a connection). Every query of the terminal
#: reads an index range or a few rows: 128 pages hold the upper levels of every index a step writes. At 100,000
#: sales the reconciliation's read of a day (the report worker's) filled SQLite's 2 MB and the process kept it;
#: this takes no longer (bench/journal_bench.py).
CACHE_KIB = 512


class JournalError(Exception):
    """The journal file cannot be opened or written; the message names the file and the cause.

    ``full`` is True when the disk (or the file) is full; ``freed`` when this failure released the reserve, so
    the same write is worth trying once more at once."""

    def __init__(self, message: str, *, full: bool = False, freed: bool = False) -> None:
        super().__init__(message)
        self.full = full
        self.freed = freed


class Journal:
    """The terminal's journal at ``path`` (created with its directory when missing), locked for this process,
    checked and migrated. ``reserve``: bytes of disk kept aside for a full disk (0: none).

    ``migrate_in_child``: a pending migration is applied by a short-lived child process (``qr-terminal run``:
    sqlite-utils, the schema tool, and what it imports never load into the running terminal); the child is
    started only when one is pending. ``lock_fd``: the journal's lock, already held by the process that started
    this one and handed down to it (that child)."""

    def __init__(
        self,
        path: str | Path,
        *,
        reserve: int = RESERVE_BYTES,
        check: bool = True,
        migrate_in_child: bool = False,
        lock_fd: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = False
        self._lock: IO[str] | None = None
        self._reserve_size = reserve
        self._reserve_path = self.path.with_name(self.path.name + ".reserve")
        self._reserve_checked = -1e9
        #: True while the reserve is spent: the disk filled up and the journal is living on what it gave back.
        self.storage_low = False
        self._in_step = False
        self._db: Database | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _lock(self.path, lock_fd)
            self.conn = _connect(str(self.path))
            # WAL lets readers (reports, the CLI) run beside the terminal; FULL makes every commit
            # survive a power cut, which is the point of the journal.
            if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.conn.execute("PRAGMA journal_mode=wal")
            self.conn.execute("PRAGMA synchronous=FULL")
            # check=False: the terminal checks after its ready screen (damage(), on a thread of its own).
            damaged = _damage(self.conn, self.path) if check else None
            if damaged:
                raise JournalError(damaged)
            if _pending(self.conn, self.path):
                if migrate_in_child:
                    self._migrate_in_child()
                else:
                    self._migrate()
                log.info("brought the journal %s up to date (its schema: %s)", self.path, NAMES[-1])
        except (OSError, sqlite3.Error) as exc:
            self._unlock()
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        except JournalError:
            self._unlock()
            raise
        self._make_reserve()

    @classmethod
    def reader(cls, path: str | Path) -> Journal:
        """The journal at ``path`` opened read-only, beside a running terminal: no lock, no migration, no full
        integrity check (those are the terminal's). Refused when its schema is not this version's."""
        journal = cls.__new__(cls)
        journal.path, journal.read_only, journal._lock = Path(path), True, None
        journal._reserve_size, journal.storage_low, journal._in_step, journal._db = 0, False, False, None
        if not journal.path.is_file():
            raise JournalError(f"no journal at {journal.path}")
        try:
            journal.conn = _connect(f"{journal.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the journal {journal.path}: {exc}") from exc
        try:
            if _pending(journal.conn, journal.path):
                raise JournalError(
                    f"the journal {journal.path} was written by an older qr-terminal: start the "
                    "terminal once (it brings the journal up to date), then try again"
                )
        except sqlite3.Error as exc:
            journal.conn.close()
            raise JournalError(f"cannot read the journal {journal.path}: {exc}") from exc
        except JournalError:
            journal.conn.close()
            raise
        return journal

    @property
    def db(self) -> Database:
        """The same connection seen through sqlite-utils, for tools and tests that look into the journal (this
        imports sqlite-utils; the journal itself never writes through it)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn)
        return self._db

    def _migrate(self) -> None:
        """Apply the pending migrations here, all in one transaction (:func:`terminal.store.migrations.apply`)."""
        from terminal.store.migrations import MigrationFailed, apply

        try:
            apply(self.db)
        except (MigrationFailed, sqlite3.Error) as exc:  # rolled back: the journal is as it was
            raise JournalError(self._not_migrated(str(exc))) from exc

    def _migrate_in_child(self) -> None:
        """Apply the pending migrations in a child process (``python -m terminal.store.migrations``): the same
        Python and the same package (its ``sys.path`` is this one's), holding this process's lock (handed down),
        with no secret in its environment. Whether the journal is up to date afterwards is read from the journal."""
        import subprocess

        assert self._lock is not None  # taken before the journal was read
        held = self._lock.fileno()
        argv = [sys.executable, "-P", "-m", "terminal.store.migrations", str(self.path), "--lock-fd", str(held)]
        child = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            encoding="utf-8",  # the child's PYTHONIOENCODING
            errors="replace",
            env=_child_env(),
            pass_fds=(held,),
        )
        if not _pending(self.conn, self.path):
            return
        said = child.stdout.strip().splitlines()
        if said:  # the child's own sentence
            raise JournalError(said[-1])
        if child.returncode < 0:
            how = f"was stopped by signal {-child.returncode}"
        else:
            last = (child.stderr.strip().splitlines() or [""])[-1][:200]
            how = f"ended with code {child.returncode}" + (f": {last}" if last else "")
        raise JournalError(self._not_migrated(f"its migration process {how}"))

    def _not_migrated(self, cause: str) -> str:
        return f"cannot bring the journal {self.path} up to date ({cause}); nothing in it was changed"

    def damage(self) -> str | None:
        """What ``PRAGMA quick_check`` finds wrong with the journal (None: nothing), read on a read-only connection
        of its own: any thread may ask, beside the terminal's writes. At 100,000 sales it reads every page (about
        a tenth of a second): the terminal asks after its ready screen instead of before it."""
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            return f"cannot read the journal {self.path}: {exc}"
        try:
            # Each page is read once, along one path down each b-tree at a time: 64 KiB of cache holds that path
            # (more makes the check no faster at 100,000 sales, and the process keeps what the cache took).
            conn.execute("PRAGMA cache_size=-64")
            return _damage(conn, self.path)
        except sqlite3.Error as exc:
            return f"the journal {self.path} is damaged ({exc}): restore it from a backup"
        finally:
            conn.close()

    def close(self) -> None:
        """Close the file and let go of the lock."""
        self.conn.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the flock
            self._lock = None

    # --- one step of the loop, and a full disk ------------------------------------------------

    @contextmanager
    def step(self, *, wait_for_disk: bool = True) -> Iterator[None]:
        """One step of the loop: every write inside it commits together, or none does (nested: a savepoint).

        ``wait_for_disk=False``: the commit does not wait for the disk (``synchronous=NORMAL``). A power cut may
        then lose this step, never half of it and never an earlier one; the next step that waits takes it to the
        disk with itself (the WAL is written in order). Only for a step nothing is shown, told or printed on."""
        if self._in_step:
            with self._writing(), self.transaction():
                yield
            return
        if not wait_for_disk:
            self._synchronous("NORMAL")
        try:
            with self._writing(), self.transaction():
                self._in_step = True
                try:
                    yield
                finally:
                    self._in_step = False
        finally:
            if not wait_for_disk:  # every other commit waits for the disk again
                self._synchronous("FULL")

    def _synchronous(self, level: str) -> None:
        """Set how a commit waits for the disk (outside a transaction: SQLite refuses the change inside one)."""
        with self._writing():
            self.conn.execute(f"PRAGMA synchronous={level}")

    def restore_reserve(self) -> bool:
        """Put the reserve back once the disk has room for it again (looked at every 30 s at most); True when
        the journal is no longer short of space."""
        if not self.storage_low:
            return True
        now = time.monotonic()
        if now - self._reserve_checked < RESERVE_CHECK_EVERY:
            return False
        self._reserve_checked = now
        if shutil.disk_usage(self.path.parent).free >= 4 * self._reserve_size:
            self._make_reserve()
        return not self.storage_low

    def _make_reserve(self) -> None:
        if not self._reserve_size or self._reserve_path.exists():
            self.storage_low = False
            return
        try:
            with open(self._reserve_path, "wb") as f:
                try:
                    os.posix_fallocate(f.fileno(), 0, self._reserve_size)
                except OSError as exc:
                    if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                        raise
                    f.write(bytes(self._reserve_size))  # a file system without fallocate: real zeros
                f.flush()
                os.fsync(f.fileno())
            self.storage_low = False
        except OSError as exc:
            with contextlib.suppress(OSError):
                self._reserve_path.unlink()
            log.warning("no disk reserve beside the journal %s: %s", self.path, exc)

    def _release_reserve(self) -> bool:
        """The disk is full: give the reserve's space to the journal. True when there was one to give."""
        self.storage_low = bool(self._reserve_size)
        try:
            self._reserve_path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.error("could not release the disk reserve %s: %s", self._reserve_path, exc)
            return False
        log.error(
            "the disk is full: released the reserve beside the journal %s so payments can still be "
            "recorded; free space on the SD card",
            self.path,
        )
        return True

    def next_seq(self) -> int:
        """The sequence number for the next sale (after the highest journaled)."""
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM sales").fetchone()
        return int(row[0]) + 1

    def unfinished_sales(self) -> tuple[Sale, ...]:
        """Sales a restart must pick up: not final, or final with an order the backend has not closed, and the
        newest sales money arrived for (their QR may still be paid again: the core follows those not expired)."""
        # Three index lookups (status, the open-orders index, the newest by seq), not a scan of every sale: this
        # is on the start path.
        rows = self.conn.execute(
            "SELECT * FROM sales WHERE id IN ("
            "SELECT id FROM sales WHERE status IN ('creating', 'awaiting_payment') "
            "UNION SELECT id FROM sales WHERE order_open = 1 AND status != 'paid' "
            "UNION SELECT id FROM sales INDEXED BY idx_sales_seq "
            "WHERE seq > (SELECT COALESCE(MAX(seq), 0) - 20 FROM sales) "
            "AND status IN ('paid', 'underpaid', 'mismatch') AND order_id IS NOT NULL) ORDER BY seq"
        )
        columns = [c[0] for c in rows.description]
        return tuple(_sale_from_row(dict(zip(columns, row, strict=True))) for row in rows.fetchall())

    def unconfirmed_sales(self) -> tuple[Sale, ...]:
        """Offline sales marked received and not yet confirmed by the backend, oldest first."""
        rows = self.conn.execute("SELECT * FROM sales WHERE status = 'unconfirmed' ORDER BY seq")
        columns = [c[0] for c in rows.description]
        return tuple(_sale_from_row(dict(zip(columns, row, strict=True))) for row in rows.fetchall())

    def record_sale(self, sale: Sale, previous: str | None, cause: str, at: datetime) -> None:
        """Commit the sale's row and one event, atomically."""
        when = _iso(at)
        row = _sale_row(sale, when)
        # Plain SQL on the hot path (Enter → QR): sqlite-utils' upsert introspects the table on every call.
        with self._writing(), self.transaction():
            later = self._count_sale(row)
            self.conn.execute(_UPSERT_SALE, row)
            self.conn.execute(
                "INSERT INTO events (at, kind, sale_id, from_status, to_status, cause, money_minor) "
                "VALUES (?, 'sale', ?, ?, ?, ?, ?)",
                (when, sale.id, previous, str(sale.status), cause, later),
            )

    def _count_sale(self, row: dict[str, Any]) -> int | None:
        """Keep the period totals as the sale's row changes (within the write's transaction), and say in
        ``row["period"]`` where it counts. A sale that had already ended stays in the period it ended in (a Z may
        have counted it); money that arrived for it since is returned, to be journaled with this event and counted
        where it arrived."""
        before = self.conn.execute(
            "SELECT ended_at, paid_minor, period, status, currency, amount_minor FROM sales WHERE id = ?",
            (row["id"],),
        ).fetchone()
        ended_before = before is not None and before[0] is not None
        if row["ended_at"] is None and not ended_before:
            return None  # creating, awaiting payment: nothing a report counts
        open_period = self.open_period()
        was_open = ended_before and before[2] == open_period
        if was_open:
            self._add(open_period, _sale_counts(before[3], before[4], before[5], before[1]), -1)
        if row["ended_at"] is None:
            return None
        if not ended_before:
            row["period"] = open_period
            self._add(open_period, _sale_counts(row["status"], row["currency"], row["amount_minor"], row["paid_minor"]))
            return None
        row["ended_at"], row["period"] = before[0], before[2]
        if was_open:
            self._add(open_period, _sale_counts(row["status"], row["currency"], row["amount_minor"], row["paid_minor"]))
        # Only money arriving counts here; a sale whose money became a mismatch stays in the period that counted it
        # (and the mismatch is in the journal's security events).
        more = (row["paid_minor"] or 0) - (before[1] or 0)
        if more <= 0:
            return None
        if not was_open and before[2] is not None:
            self._add(open_period, (row["currency"], "later", 1, more, 0, 0))
        return more

    def _add(self, period: int, counts: tuple[str, str, int, int, int, int], sign: int = 1) -> None:
        """Add (``sign`` -1: take away) one row's counts to a period's totals."""
        currency, kind, *figures = counts
        self.conn.execute(_ADD_TOTALS, (period, currency, kind, *(sign * f for f in figures)))

    def open_period(self) -> int:
        """The open period's number: the Z that closes it will have it."""
        return int(self.conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM z_reports").fetchone()[0])

    def period_totals(self, period: int) -> list[tuple[str, str, int, int, int, int]]:
        """A period's totals as kept: ``(currency, kind, count, total, extra, extra_count)`` per final status,
        "later" and "refunds", none whose count came back to nothing."""
        rows = self.conn.execute(
            "SELECT currency, kind, count, total, extra, extra_count FROM period_totals WHERE period = ? "
            "AND count != 0 ORDER BY currency, kind",
            (period,),
        ).fetchall()
        return [tuple(r) for r in rows]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that see one state of the journal (a read transaction), when not inside a write already."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def record_security(self, sale_id: str, message: str, payload: str, at: datetime) -> None:
        """Commit a security event (a QR the guard refused, money that does not match the sale), with the payload
        or the payments reported, for investigation."""
        with self._writing(), self.transaction():
            self.conn.execute(
                "INSERT INTO events (at, kind, sale_id, cause, detail) VALUES (?, 'security', ?, ?, ?)",
                (_iso(at), sale_id, message, json.dumps({"payload": payload})),
            )

    def add_print_job(self, receipt: Receipt, at: datetime) -> int:
        """Commit a receipt to print; returns the job id."""
        with self._writing(), self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO print_jobs (sale_id, reference, created_at, status, attempts, receipt) "
                "VALUES (?, ?, ?, 'pending', 0, ?)",
                (receipt.sale_id, receipt.reference, _iso(at), json.dumps(receipt_json(receipt))),
            )
            return int(cursor.lastrowid or 0)

    def print_job_done(self, job_id: int, at: datetime) -> None:
        """The printer took job ``job_id``."""
        with self._writing(), self.transaction():
            self.conn.execute(
                "UPDATE print_jobs SET status = 'printed', printed_at = ?, attempts = attempts + 1 WHERE id = ?",
                (_iso(at), job_id),
            )

    def print_job_failed(self, job_id: int, error: str) -> None:
        """One more failed attempt at job ``job_id`` (it stays pending)."""
        with self._writing(), self.transaction():
            self.conn.execute(
                "UPDATE print_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error, job_id)
            )

    def pending_print_jobs(self) -> list[tuple[int, Receipt]]:
        """Jobs not printed yet, oldest first (to resume after a restart)."""
        rows = self.conn.execute("SELECT id, receipt FROM print_jobs WHERE status = 'pending' ORDER BY id").fetchall()
        return [(int(job_id), receipt_from_json(json.loads(text))) for job_id, text in rows]

    def ended_since(self, since: str, until: str = "~") -> list[Ended]:
        """Sales that reached their final status after ``since`` and up to ``until`` (ISO text; "" and "~" for no
        bound): one entry per status and currency, summed in SQL over the ``ended_at`` index. The reports read the
        kept totals (:meth:`period_totals`); this is the sum they are checked against."""
        rows = self.conn.execute(
            "SELECT status, currency, COUNT(*), "
            # Received money counts (paid, also more than asked, and underpaid); other statuses their amount.
            "SUM(CASE WHEN status IN ('paid', 'underpaid') AND paid_minor IS NOT NULL THEN paid_minor "
            "ELSE amount_minor END), "
            "SUM(CASE WHEN status = 'paid' AND paid_minor > amount_minor THEN paid_minor - amount_minor ELSE 0 END), "
            "SUM(CASE WHEN status = 'paid' AND paid_minor > amount_minor THEN 1 ELSE 0 END) "
            # Only final sales have an ended_at: the index range is the answer (without the hint SQLite scans every
            # row through the status index to save a sort).
            "FROM sales INDEXED BY idx_sales_ended_at WHERE ended_at > ? AND ended_at <= ? "
            "GROUP BY status, currency ORDER BY status, currency",
            (since, until),
        ).fetchall()
        return [
            Ended(status, Amount(total, currency), extra, count, extras)
            for status, currency, count, total, extra, extras in rows
        ]

    def later_money_since(self, since: str, until: str = "~") -> list[Ended]:
        """Money that arrived after ``since`` (up to ``until``) for sales a report before ``since`` counted (another
        payment, the rest of an underpayment), per currency, as ``later`` rows."""
        rows = self.conn.execute(
            "SELECT s.currency, COUNT(*), SUM(e.money_minor) FROM events e INDEXED BY idx_events_money_at "
            "JOIN sales s ON s.id = e.sale_id WHERE e.at > ? AND e.at <= ? AND e.money_minor IS NOT NULL "
            "AND s.ended_at <= ? GROUP BY s.currency ORDER BY s.currency",
            (since, until, since),
        ).fetchall()
        return [Ended("later", Amount(total, currency), count=count) for currency, count, total in rows if total]

    def last_z(self) -> tuple[int, str] | None:
        """The number and closing time of the last Z report."""
        row = self.conn.execute("SELECT number, closed_at FROM z_reports ORDER BY number DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def close_z(self, since: str, at: datetime, totals: str) -> tuple[int, str]:
        """Record a Z report closing the open period (which began at ``since``); returns its number and time. The
        next period starts from nothing: its totals are rows of its own number."""
        closed = _iso(at)
        with self._writing(), self.transaction():
            number = self.open_period()
            self.conn.execute(
                "INSERT INTO z_reports (number, closed_at, since, totals) VALUES (?, ?, ?, ?)",
                (number, closed, since, totals),
            )
            return number, closed

    def record_z_totals(self, number: int, totals: str) -> None:
        """Keep the totals of Z report ``number`` with it (summed after the period was closed)."""
        with self._writing(), self.transaction():
            self.conn.execute("UPDATE z_reports SET totals = ? WHERE number = ?", (totals, number))

    @property
    def changes(self) -> int:
        """Rows written through this connection since it opened (SQLite's ``total_changes``): what the app
        compares to know that the WAL grew. A step that wrote nothing (most ticks) changes nothing here."""
        return int(self.conn.total_changes)

    def checkpoint(self) -> tuple[int, int]:
        """Copy the WAL's committed pages into the journal's file, waiting for no one (SQLite's PASSIVE
        checkpoint): (pages in the WAL, pages copied). The report worker does this between sales; otherwise SQLite
        does it itself inside the commit that takes the WAL to 1000 pages (about every 28th sale), and on an SD
        card that commit — the one before a sale's QR is shown — would take a checkpoint's writes and fsync with
        it. Once every page is copied, the next commit starts the WAL from its beginning again. A failure (a full
        disk) raises sqlite3.Error and loses nothing: it leaves the disk reserve to the loop's writes (the reserve
        is released only by the journal that keeps it), and SQLite checkpoints later itself."""
        _busy, pages, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(pages), int(copied)

    def another(self) -> Journal:
        """This journal on a connection of its own, for a worker thread (the report worker): WAL lets it read
        beside the loop's writes; it only reads. No lock to take (this process holds it), no
        check or migration (done at open)."""
        other = copy.copy(self)
        other._lock = None  # the lock stays with this journal: closing the other must not let go of it
        other._in_step, other._db = False, None
        try:
            other.conn = _connect(str(self.path))
            other.conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        return other

    # --- refunds -------------------------------------------------------------------------------

    def record_refund(self, refund: Refund, cause: str, at: datetime) -> None:
        """Commit the refund's row and one event, atomically (before the backend is asked)."""
        when = _iso(at)
        row = {
            "id": refund.id,
            "sale_id": refund.sale_id,
            "reference": refund.reference,
            "order_id": refund.order_id,
            "amount_minor": refund.amount.minor,
            "currency": refund.amount.currency,
            "status": str(refund.status),
            "requested_at": _iso(refund.requested_at),
            "updated_at": when,
            "settled_at": when if refund.status.is_final else None,
            "provider_id": refund.provider_id,
            "message": refund.message,
            "period": None,
        }
        with self._writing(), self.transaction():
            self._count_refund(row)
            self.conn.execute(_UPSERT_REFUND, row)
            self.conn.execute(
                "INSERT INTO events (at, kind, sale_id, to_status, cause, detail) VALUES (?, 'refund', ?, ?, ?, ?)",
                (when, refund.sale_id, str(refund.status), cause, json.dumps({"refund": refund.id})),
            )

    def _count_refund(self, row: dict[str, Any]) -> None:
        """Keep the period totals as the refund's row changes: a refund counts in the period it went through."""
        before = self.conn.execute(
            "SELECT status, currency, amount_minor, period FROM refunds WHERE id = ?", (row["id"],)
        ).fetchone()
        counted = before is not None and before[3] is not None
        if not counted and row["status"] != "succeeded":
            return
        open_period = self.open_period()
        if counted and before[3] == open_period:
            self._add(open_period, (before[1], "refunds", 1, before[2], 0, 0), -1)
        if row["status"] == "succeeded":
            row["period"] = open_period
            self._add(open_period, (row["currency"], "refunds", 1, row["amount_minor"], 0, 0))

    def open_refunds(self) -> tuple[Refund, ...]:
        """Refunds not final yet (to ask for again after a restart), oldest first."""
        rows = self._rows("SELECT * FROM refunds WHERE status IN ('requested', 'pending') ORDER BY requested_at")
        return tuple(_refund_from_row(row) for row in rows)

    def refunds_of(self, sale_id: str) -> tuple[Refund, ...]:
        """A sale's refunds, in the order they were asked for."""
        rows = self._rows("SELECT * FROM refunds WHERE sale_id = ? ORDER BY requested_at, id", (sale_id,))
        return tuple(_refund_from_row(row) for row in rows)

    def _rows(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, parameters)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def refunds_since(self, since: str, until: str = "~") -> list[Amount]:
        """Refunds that went through after ``since`` and up to ``until`` (ISO text; "" and "~" for no bound), for
        reports."""
        rows = self.conn.execute(
            "SELECT amount_minor, currency FROM refunds WHERE status = 'succeeded' AND settled_at > ? "
            "AND settled_at <= ? ORDER BY settled_at",
            (since, until),
        ).fetchall()
        return [Amount(minor, currency) for minor, currency in rows]

    def recent_sales(self, limit: int = 20) -> list[tuple[Sale, tuple[Refund, ...]]]:
        """The last ``limit`` sales, newest first, each with its refunds."""
        rows = self.conn.execute("SELECT * FROM sales ORDER BY seq DESC LIMIT ?", (limit,))
        columns = [c[0] for c in rows.description]
        sales = [_sale_from_row(dict(zip(columns, row, strict=True))) for row in rows.fetchall()]
        return [(sale, self.refunds_of(sale.id)) for sale in sales]

    def sale_by_reference(self, reference: str) -> tuple[Sale, tuple[Refund, ...]] | None:
        """The sale with this reference and its refunds (None when the journal has none)."""
        rows = self.conn.execute("SELECT * FROM sales WHERE reference = ?", (reference,))
        columns = [c[0] for c in rows.description]
        row = rows.fetchone()
        if row is None:
            return None
        sale = _sale_from_row(dict(zip(columns, row, strict=True)))
        return sale, self.refunds_of(sale.id)

    def sales_between(self, start: datetime, end: datetime) -> list[tuple[Sale, tuple[Refund, ...]]]:
        """Sales started in [start, end), oldest first, each with its refunds (for reconciliation)."""
        rows = self.conn.execute(
            "SELECT * FROM sales WHERE started_at >= ? AND started_at < ? ORDER BY seq", (_iso(start), _iso(end))
        )
        columns = [c[0] for c in rows.description]
        sales = [_sale_from_row(dict(zip(columns, row, strict=True))) for row in rows.fetchall()]
        return [(sale, self.refunds_of(sale.id)) for sale in sales]

    def paid_on(self, date: str) -> list[Amount]:
        """Amounts received on ``date`` (YYYY-MM-DD, UTC, by the backend's payment time): what a settlement of
        that day should add up to."""
        rows = self.conn.execute(
            "SELECT paid_minor, paid_currency, payments FROM sales "
            "WHERE paid_at >= ? AND paid_at < ? AND status IN ('paid', 'underpaid') AND paid_minor IS NOT NULL",
            (date, date + "~"),  # paid_at is UTC ISO text: the day's range in the paid_at index
        ).fetchall()
        amounts = []
        for minor, currency, payments in rows:
            # One amount per payment the provider captured (a sale paid twice settles twice).
            each = [int(p["value"]) for p in json.loads(payments)] if payments else [minor]
            amounts += [Amount(m, currency) for m in each]
        return amounts

    # --- the manager PIN's lockout ----------------------------------------------------------------

    def pin_lock(self) -> PinLock:
        """Wrong PINs and the lock, as last saved."""
        row = self.conn.execute("SELECT failures, locked_until FROM pin_lock WHERE id = 1").fetchone()
        if row is None:
            return PinLock()
        return PinLock(int(row[0]), datetime.fromisoformat(row[1]) if row[1] else None)

    def save_pin_lock(self, lock: PinLock, at: datetime) -> None:
        """Commit the lockout (and an event when it locks or clears)."""
        until = _iso(lock.locked_until) if lock.locked_until else None
        with self._writing(), self.transaction():
            self.conn.execute(
                "INSERT INTO pin_lock (id, failures, locked_until) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                (lock.failures, until),
            )
            cause = f"menu locked until {until}" if until else f"wrong PINs: {lock.failures}"
            self.conn.execute("INSERT INTO events (at, kind, cause) VALUES (?, 'pin', ?)", (_iso(at), cause))

    # --- preferences set on the terminal ---------------------------------------------------------

    def voice_setting(self, default: tuple[bool, int]) -> tuple[bool, int]:
        """The voice's on/off and volume as the manager last set them (``default`` until then)."""
        rows = dict(self.conn.execute("SELECT key, value FROM preferences WHERE key IN ('voice_on', 'volume')"))
        on = rows["voice_on"] == "1" if "voice_on" in rows else default[0]
        volume = int(rows["volume"]) if rows.get("volume", "").isdigit() else default[1]
        return on, max(0, min(100, volume))

    def save_voice(self, on: bool, volume: int, at: datetime) -> None:
        """Keep the voice's on/off and volume."""
        when = _iso(at)
        with self._writing(), self.transaction():
            for key, value in (("voice_on", "1" if on else "0"), ("volume", str(volume))):
                self.conn.execute(
                    "INSERT INTO preferences (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) "
                    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (key, value, when),
                )

    def record_error(self, message: str, at: datetime) -> None:
        """Commit an internal error (a bug the loop survived), for support."""
        with self._writing(), self.transaction():
            self.conn.execute("INSERT INTO events (at, kind, cause) VALUES (?, 'error', ?)", (_iso(at), message))

    def record_start(self, version: str, at: datetime) -> None:
        """Commit that the terminal started (its version), for support. The first write after opening also writes
        the WAL's header and waits for it and its folder to reach the disk: done here, that wait is not the first
        sale's (1–2 ms of its key→QR)."""
        with self._writing(), self.transaction():
            self.conn.execute("INSERT INTO events (at, kind, cause) VALUES (?, 'start', ?)", (_iso(at), version))

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self._in_step and not self.conn.in_transaction:
            # A failure (disk full, I/O error) rolled the whole step back: nothing more may commit on its own.
            raise JournalError(f"cannot write the journal {self.path}: the step was rolled back")
        try:
            yield
        except (sqlite3.Error, OSError) as exc:  # disk full, I/O error, read-only file system
            full = _is_full(exc)
            freed = full and self._release_reserve()
            raise JournalError(f"cannot write the journal {self.path}: {exc}", full=full, freed=freed) from exc

    def sale(self, sale_id: str) -> dict[str, Any] | None:
        """The sale's row, or None."""
        rows = self._rows("SELECT * FROM sales WHERE id = ?", (sale_id,))
        return rows[0] if rows else None

    def sales(self) -> list[dict[str, Any]]:
        """Every sale, oldest first."""
        return self._rows("SELECT * FROM sales ORDER BY seq")

    def events(self, sale_id: str | None = None) -> list[dict[str, Any]]:
        """Journal events, oldest first (of one sale when ``sale_id`` is given)."""
        if sale_id is None:
            return self._rows("SELECT * FROM events ORDER BY id")
        return self._rows("SELECT * FROM events WHERE sale_id = ? ORDER BY id", (sale_id,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction (nested: a savepoint); rolled back when the block raises."""
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                # A refused COMMIT (a deferred constraint, a busy or full disk) leaves the transaction open: the
                # next step would become a savepoint of it and never reach the disk. Undone, as the caller is told.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            return
        self.conn.execute("SAVEPOINT journal_step")
        try:
            yield
        except BaseException:
            # A failure such as a full disk may have ended the whole transaction, savepoint included.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK TO SAVEPOINT journal_step")
                self.conn.execute("RELEASE SAVEPOINT journal_step")
            raise
        self.conn.execute("RELEASE SAVEPOINT journal_step")


_SALE_COLUMNS = (
    "id",
    "seq",
    "reference",
    "amount_minor",
    "currency",
    "status",
    "started_at",
    "updated_at",
    "order_id",
    "qr_scheme",
    "qr_payload",
    "payee_id",
    "expires_at",
    "paid_minor",
    "paid_currency",
    "payer",
    "provider_ref",
    "failure_kind",
    "failure",
    "failure_words",
    "order_open",
    "payee_name",
    "receipt_url",
    "paid_at",
    "till_ref",
    "payments",
    "unreadable_payment",
    "ended_at",
    "period",
)
_REFUND_COLUMNS = (
    "id",
    "sale_id",
    "reference",
    "order_id",
    "amount_minor",
    "currency",
    "status",
    "requested_at",
    "updated_at",
    "settled_at",
    "provider_id",
    "message",
    "period",
)


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    """Insert a row of named parameters, or update every column of the row with its id."""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns if c != 'id')}"
    )


_UPSERT_SALE = _upsert("sales", _SALE_COLUMNS)
_UPSERT_REFUND = _upsert("refunds", _REFUND_COLUMNS)
_ADD_TOTALS = (
    "INSERT INTO period_totals (period, currency, kind, count, total, extra, extra_count) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(period, currency, kind) DO UPDATE SET count = count + excluded.count, "
    "total = total + excluded.total, extra = extra + excluded.extra, extra_count = extra_count + excluded.extra_count"
)


def _sale_counts(status: str, currency: str, amount: int, paid: int | None) -> tuple[str, str, int, int, int, int]:
    """What one ended sale adds to its period: as :meth:`Journal.ended_since` sums it (received money counts for
    paid and underpaid sales, with what arrived beyond the amount as extra; other statuses their amount)."""
    received = status in ("paid", "underpaid") and paid is not None
    extra = paid - amount if status == "paid" and paid is not None and paid > amount else 0
    return currency, status, 1, paid if received and paid is not None else amount, extra, 1 if extra else 0


def _connect(database: str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection whose transactions are the journal's own (BEGIN … COMMIT), never opened implicitly, with a
    page cache of :data:`CACHE_KIB`."""
    conn = sqlite3.connect(database, uri=uri, isolation_level=None, check_same_thread=True)
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return conn


def _lock(path: Path, held: int | None = None) -> IO[str]:
    """Hold ``<journal>.lock`` exclusively for this process (released when the returned file is closed, or the
    process dies); the file names the holder's pid for the next one to say who it is. ``held``: the descriptor of
    that lock as the process that started this one holds it (handed down: the lock is theirs, shared, and the
    file keeps their pid)."""
    lock_path = path.with_name(path.name + ".lock")
    if held is None:
        handle = open(lock_path, "a+")  # noqa: SIM115 (kept open for the journal's life)
    elif os.path.samestat(os.fstat(held), os.stat(lock_path)):
        # The holder's open file: flock below succeeds at once if it holds the lock, and says who does if not.
        handle = os.fdopen(held, "a+")
    else:
        raise JournalError(f"descriptor {held} is not the lock of the journal {path}")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        who = f"pid {holder}" if holder.isdigit() else "another process"
        raise JournalError(
            f"the journal {path} is in use by another qr-terminal ({who}): stop it first "
            "(sudo systemctl stop qr-terminal), or give this one its own journal"
        ) from None
    except OSError:
        handle.close()
        raise
    if held is None:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
    return handle


#: What a migration child may see of the environment (no token or key: the terminal's secrets may be in its own).
CHILD_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SQLITE_TMPDIR")


def _child_env() -> dict[str, str]:
    """The migration child's environment: :data:`CHILD_ENV` and this process's ``sys.path`` (the same package)."""
    env = {name: os.environ[name] for name in CHILD_ENV if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(entry for entry in sys.path if entry)
    env["PYTHONIOENCODING"] = "utf-8"  # its sentence, whatever the locale (a journal's path may be in any script)
    return env


def _pending(conn: sqlite3.Connection, path: Path) -> bool:
    """True when a migration is still to apply (read with plain SQL: a current journal never needs sqlite-utils).
    A journal with migrations this version does not know was written by a newer qr-terminal: using it would
    misread (or damage) what that version wrote, so it is refused."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'").fetchone()
    if found is None:
        return True
    rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (SET,)).fetchall()
    applied = {name for (name,) in rows}
    unknown = sorted(applied - set(NAMES))
    if unknown:
        raise JournalError(
            f"the journal {path} was written by a newer qr-terminal (it has {', '.join(unknown)}): "
            "upgrade qr-terminal to use it"
        )
    return not applied.issuperset(NAMES)


def _is_full(exc: BaseException) -> bool:
    """True for "database or disk is full" (SQLITE_FULL) and ENOSPC/EDQUOT from the file system."""
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _damage(conn: sqlite3.Connection, path: Path) -> str | None:
    # quick_check: the structure and every page, without the index-by-index cross-check of integrity_check.
    checked = conn.execute("PRAGMA quick_check").fetchone()[0]
    return None if checked == "ok" else f"the journal {path} is damaged ({checked}): restore it from a backup"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def _sale_row(sale: Sale, when: str) -> dict[str, Any]:
    order, payment, failure = sale.order, sale.payment, sale.failure
    found = sale.matched
    counted = found.countable if found is not None else None
    return {
        "id": sale.id,
        "seq": sale.seq,
        "reference": sale.reference,
        "amount_minor": sale.amount.minor,
        "currency": sale.amount.currency,
        "status": str(sale.status),
        "started_at": _iso(sale.started_at),
        "updated_at": when,
        "order_id": order.id if order else None,
        "qr_scheme": order.qr.scheme if order else None,
        "qr_payload": order.qr.payload if order else None,
        "payee_id": order.payee.id if order else None,
        "expires_at": _iso(order.expires_at) if order else None,
        "paid_minor": counted.minor if counted else None,
        "paid_currency": counted.currency if counted else None,
        "payer": payment.payer if payment else None,
        "provider_ref": payment.provider_ref if payment else None,
        "failure_kind": str(failure.kind) if failure else None,
        "failure": failure.message if failure else None,
        "failure_words": json.dumps(text_data(failure.message))
        if failure and isinstance(failure.message, Text)
        else None,
        "order_open": int(sale.order_open),
        "payee_name": order.payee.name if order else None,
        "receipt_url": order.receipt_url if order else None,
        "paid_at": _iso(payment.at) if payment and payment.at else None,
        "till_ref": sale.till_ref,
        "ended_at": when if sale.status.is_final else None,
        "period": None,
        "payments": json.dumps([_payment_json(p) for p in sale.payments]) if sale.payments else None,
        "unreadable_payment": sale.unreadable_payment,
    }


def _payment_json(payment: Payment) -> dict[str, Any]:
    at = _iso(payment.at) if payment.at else None
    return {
        "value": str(payment.amount.minor),
        "currency": payment.amount.currency,
        "at": at,
        "payer": payment.payer,
        "provider_ref": payment.provider_ref,
        "id": payment.id,
    }


def _payments_from_row(row: dict[str, Any]) -> tuple[Payment, ...]:
    if row.get("payments"):
        return tuple(
            Payment(
                Amount(int(p["value"]), p["currency"]),
                datetime.fromisoformat(p["at"]) if p["at"] else None,
                p["payer"],
                p["provider_ref"],
                p["id"],
            )
            for p in json.loads(row["payments"])
        )
    if row["paid_minor"] is None:
        return ()
    # A journal written before payments were kept: its one payment, as it was recorded.
    at = datetime.fromisoformat(row["paid_at"]) if row.get("paid_at") else None
    return (Payment(Amount(row["paid_minor"], row["paid_currency"]), at, row["payer"], row["provider_ref"]),)


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """A receipt as JSON (what a print job keeps)."""
    lines = [{"text": ln.text, "align": ln.align, "large": ln.large, "bold": ln.bold} for ln in receipt.lines]
    return {"sale_id": receipt.sale_id, "reference": receipt.reference, "qr": receipt.qr, "lines": lines}


def receipt_from_json(data: dict[str, Any]) -> Receipt:
    """The receipt a print job kept."""
    lines = tuple(Line(ln["text"], ln["align"], ln["large"], ln["bold"]) for ln in data["lines"])
    return Receipt(data["sale_id"], data["reference"], lines, data.get("qr"))


def _sale_from_row(row: dict[str, Any]) -> Sale:
    amount = Amount(row["amount_minor"], row["currency"])
    order = None
    if row["order_id"]:
        order = Order(
            id=row["order_id"],
            status=OrderStatus.PENDING,
            reference=row["reference"],
            amount=amount,
            qr=QrCode(row["qr_scheme"], row["qr_payload"]),
            payee=Payee(row["payee_name"] or row["payee_id"], row["payee_id"]),
            expires_at=datetime.fromisoformat(row["expires_at"]),
            receipt_url=row["receipt_url"],
        )
    failure = Failure(FailureKind(row["failure_kind"]), _failure_message(row)) if row["failure_kind"] else None
    return Sale(
        id=row["id"],
        seq=row["seq"],
        reference=row["reference"],
        amount=amount,
        status=SaleStatus(row["status"]),
        started_at=datetime.fromisoformat(row["started_at"]),
        order=order,
        payments=_payments_from_row(row),
        failure=failure,
        order_open=bool(row["order_open"]),
        local=bool(row["order_id"] and row["order_id"].startswith("local:")),
        till_ref=row.get("till_ref"),
        unreadable_payment=row.get("unreadable_payment"),
    )


def _failure_message(row: dict[str, Any]) -> str:
    """Why the sale failed: the words to translate when the journal kept them (a damaged value: the English)."""
    try:
        words = text_from_data(json.loads(row["failure_words"])) if row.get("failure_words") else None
    except ValueError:
        words = None
    return words or row["failure"] or ""


def _refund_from_row(row: dict[str, Any]) -> Refund:
    return Refund(
        id=row["id"],
        sale_id=row["sale_id"],
        reference=row["reference"],
        order_id=row["order_id"],
        amount=Amount(row["amount_minor"], row["currency"]),
        status=RefundStatus(row["status"]),
        requested_at=datetime.fromisoformat(row["requested_at"]),
        provider_id=row["provider_id"],
        message=row["message"] or "",
    )

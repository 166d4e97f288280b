"""Retention: sales a Z report has closed, older than a date, moved out of the journal into a dated SQLite file
beside it (``<journal>-archive-<date>.db``), with their events and refunds, so the journal the terminal opens
stays small. The Z reports stay in the journal (and are copied into the archive): their totals never change.

What moves: sales that ended before the date, closed by a Z, whose events and refunds all came before the last
Z (so no report of an open period reads them) and which are not among the newest 20 (a restart follows those for
a second payment, and the next sale's number follows the newest). A sale that ended before the date but no Z
closed refuses the whole move: run a Z report first.

The archive is written and committed first, then the rows leave the journal: an interruption between the two
leaves rows in both (moving again skips those already archived), never in neither.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from terminal.store.journal import Journal, JournalError

#: The newest sales always stay (see the module docstring).
KEEP_NEWEST = 20
TABLES = ("sales", "events", "refunds", "z_reports")


class ArchiveRefused(Exception):
    """The move cannot be done as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Archived:
    """What a move did: the file, and how many sales (with events and refunds) left the journal."""

    path: Path
    sales: int
    events: int
    refunds: int


def archive_path(journal: Path, before: date) -> Path:
    """The dated archive file beside ``journal``."""
    return journal.with_name(f"{journal.stem}-archive-{before.isoformat()}.db")


def archive(journal: Journal, before: date) -> Archived:
    """Move what may move (module docstring) of the sales that ended before ``before`` (the terminal's local
    midnight) into the dated archive. Raises ArchiveRefused, JournalError."""
    cutoff = datetime.combine(before, time()).astimezone().isoformat(timespec="milliseconds")
    db = journal.conn
    last = journal.last_z()
    closed = last[1] if last else ""
    open_count = db.execute(
        "SELECT COUNT(*) FROM sales WHERE ended_at < ? AND ended_at > ?", (cutoff, closed)
    ).fetchone()[0]
    if open_count:
        raise ArchiveRefused(
            f"{open_count} sale(s) that ended before {before} are not closed by a Z report yet: "
            "make a Z report first, or archive before an earlier date"
        )
    target = archive_path(journal.path, before)
    try:
        ids = [row[0] for row in db.execute(_MOVABLE, (cutoff, closed, closed, closed, KEEP_NEWEST))]
        if not ids:
            return Archived(target, 0, 0, 0)
        db.execute("ATTACH DATABASE ? AS archive", (str(target),))
        try:
            db.execute("CREATE TEMP TABLE moving (id TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO moving (id) VALUES (?)", [(i,) for i in ids])
            with journal.transaction():  # the archive's: committed before anything leaves the journal
                _make_tables(db)
                db.execute(_copy(db, "sales", "OR IGNORE", "WHERE id IN moving"))
                db.execute(_copy(db, "events", "OR IGNORE", "WHERE sale_id IN moving"))
                db.execute(_copy(db, "refunds", "OR IGNORE", "WHERE sale_id IN moving"))
                db.execute(_copy(db, "z_reports", "OR REPLACE", ""))
            with journal.transaction():  # then the journal's
                events = db.execute("DELETE FROM main.events WHERE sale_id IN moving").rowcount
                refunds = db.execute("DELETE FROM main.refunds WHERE sale_id IN moving").rowcount
                sales = db.execute("DELETE FROM main.sales WHERE id IN moving").rowcount
        finally:
            db.execute("DROP TABLE IF EXISTS temp.moving")
            db.execute("DETACH DATABASE archive")
    except sqlite3.Error as exc:
        raise JournalError(f"cannot archive the journal {journal.path} into {target}: {exc}") from exc
    return Archived(target, sales, events, refunds)


_MOVABLE = (
    "SELECT s.id FROM sales s WHERE s.ended_at < ? AND s.ended_at <= ? AND s.order_open = 0 "
    "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.sale_id = s.id AND e.at > ?) "
    "AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.sale_id = s.id AND (r.settled_at IS NULL OR r.settled_at > ?)) "
    "AND s.seq <= (SELECT MAX(seq) FROM sales) - ?"
)


def _make_tables(db: sqlite3.Connection) -> None:
    """The journal's tables in the archive (as the journal declares them: keys included), when not there yet, and
    the columns a later version added to an archive an earlier one made."""
    for table in TABLES:
        (sql,) = db.execute("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        made = re.sub(r"^CREATE TABLE\s+(\[[^\]]+\]|\"[^\"]+\"|\w+)", r"CREATE TABLE IF NOT EXISTS archive.\1", sql)
        db.execute(made)
        there = {row[1] for row in db.execute(f"PRAGMA archive.table_info({table})")}
        for _, name, kind, *_ in db.execute(f"PRAGMA main.table_info({table})").fetchall():
            if name not in there:
                db.execute(f"ALTER TABLE archive.{table} ADD COLUMN [{name}] {kind}")


def _copy(db: sqlite3.Connection, table: str, conflict: str, where: str) -> str:
    """Copy rows of ``table`` into the archive, column by name (an archive's columns may be in another order)."""
    columns = ", ".join(f"[{row[1]}]" for row in db.execute(f"PRAGMA main.table_info({table})"))
    return f"INSERT {conflict} INTO archive.{table} ({columns}) SELECT {columns} FROM main.{table} {where}"

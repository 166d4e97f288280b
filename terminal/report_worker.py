"""The X and Z reports, made off the loop thread on a journal connection of their own (WAL: it reads beside the
loop's writes), so a report over a long period never freezes the screen, the keypad or the till.

The loop closes a Z's period itself, within its step (the Z's row with the totals it closed, by the journal's one
writer: no sale can end between the period's end and its closing); the worker reads the closed period's totals and
the X reports' (a few rows each, see :mod:`terminal.reports`), and reads the day for the reconciliation with the
backend, the part that still grows with the day's sales. It answers with :class:`ReportMade`.

Between sales it also copies the journal's WAL into the journal's file (:meth:`Journal.checkpoint`), so that
SQLite's own checkpoint never runs inside the loop's commit of a sale.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from terminal.core.receipt import ShopDetails
from terminal.core.report import Report, as_lines
from terminal.reconciliation import Ours, local_day, ours_for
from terminal.reports import build_report, z_report
from terminal.store.journal import Journal, JournalError
from terminal.threads import Lane, at_thread_exit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReportMade:
    """A report's lines for the screen and for paper, and the day's journal side for the reconciliation (None
    when the report could not be made: ``lines`` then say why)."""

    kind: str
    lines: tuple[str, ...]
    paper: tuple[str, ...]
    ours: Ours | None


class ReportWorker:
    """Makes reports from ``journal`` on a thread of its own and posts each as :class:`ReportMade`."""

    def __init__(self, journal: Journal, post: Callable[[ReportMade], None], terminal_id: str) -> None:
        self._journal = journal
        self._post = post
        self._terminal_id = terminal_id
        self._lane = Lane("reports")
        self._own: Journal | None = None

    def x(self, now: datetime, shop: ShopDetails) -> None:
        """Make the X report as of ``now``."""
        self._lane.submit(lambda: self._make("x", now, shop, lambda journal: build_report(journal, "x", now)))

    def z(self, number: int, since: str, closed: str, now: datetime, shop: ShopDetails) -> None:
        """Make the report of the period Z report ``number`` closed."""
        self._lane.submit(lambda: self._make("z", now, shop, lambda journal: z_report(journal, number, since, closed)))

    def checkpoint(self) -> None:
        """Copy the journal's WAL into its file, on this worker's connection (see :meth:`Journal.checkpoint`)."""
        self._lane.submit(self._checkpoint)

    def stop(self, timeout: float = 1.0) -> list[str]:
        """End the thread (a report being made is finished first); the names of threads that did not end."""
        return self._lane.stop(timeout)

    def _make(self, kind: str, now: datetime, shop: ShopDetails, make: Callable[[Journal], Report]) -> None:
        try:
            journal = self._connection()
            report = make(journal)
            ours = ours_for(journal, local_day(None, now), self._terminal_id)
        except (JournalError, sqlite3.Error) as exc:
            log.error("%s report not made: %s", kind.upper(), exc)
            self._post(ReportMade(kind, (shop.words("The report could not be made: call support"),), (), None))
            return
        lines = tuple(as_lines(report, shop.words))
        self._post(ReportMade(kind, lines, tuple(as_lines(report, shop.printed)), ours))

    def _checkpoint(self) -> None:
        try:
            pages, copied = self._connection().checkpoint()
        except (JournalError, sqlite3.Error) as exc:  # SQLite's own checkpoint stays: nothing is lost
            log.warning("journal checkpoint not done: %s", exc)
            return
        log.debug("journal checkpoint: %d of %d WAL pages copied", copied, pages)

    def _connection(self) -> Journal:
        if self._own is None:
            own = self._own = self._journal.another()
            at_thread_exit(own.conn.close)  # the connection belongs to this thread
        return self._own

"""Reconciliation in the shell: one local day of the journal (the store) against the backend's history and
settlement, compared by the pure rules in ``terminal.core.reconcile``. Used by the terminal's X/Z report (in the
background) and by ``qr-terminal reconcile``; it is no command-line module, so the worker and the app import it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time, timedelta

from terminal.backends.base import Backend, BackendError
from terminal.core.money import Amount
from terminal.core.reconcile import Reconciliation, compare
from terminal.core.refund import Refund
from terminal.core.sale import Sale
from terminal.store.journal import Journal


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of the terminal's journal: its date and its bounds (aware, local)."""

    date: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Ours:
    """The journal's side of one day (read on the journal's thread, compared on another)."""

    day: Day
    sales: list[tuple[Sale, tuple[Refund, ...]]]
    settled: list[Amount]
    prefix: str


def local_day(text: str | None, now: datetime) -> Day:
    """The day ``text`` (YYYY-MM-DD; today when None) in the terminal's time zone. ValueError when malformed."""
    day = Date.fromisoformat(text) if text else now.astimezone().date()
    start = datetime.combine(day, time()).astimezone()
    end = datetime.combine(day + timedelta(days=1), time()).astimezone()
    return Day(day.isoformat(), start, end)


def ours_for(journal: Journal, day: Day, terminal_id: str) -> Ours:
    """The day's sales with their refunds, and the payments the backend settled that day by our journal."""
    return Ours(day, journal.sales_between(day.start, day.end), journal.paid_on(day.date), f"{terminal_id}-")


def check(backend: Backend, ours: Ours) -> Reconciliation:
    """Ask the backend for its side (history, settlement) and compare. Raises BackendError."""
    day = ours.day
    that_day = [(r, u) for r, u in backend.history(day.start) if u.created_at is None or u.created_at < day.end]
    theirs = [(reference, update) for reference, update in that_day if reference.startswith(ours.prefix)]
    settlement = backend.settlement(day.date)
    notes: tuple[str, ...] = ()
    if settlement is not None and len(theirs) < len(that_day):
        # The account's settlement also holds other terminals' payments: comparing it with ours means nothing.
        settlement = None
        notes = ("Settlement not compared: the account's settlement includes other terminals' sales",)
    return compare(day.date, ours.sales, theirs, settlement=settlement, settled_ours=ours.settled, notes=notes)


def summary(backend: Backend, ours: Ours) -> tuple[str, ...]:
    """The reconciliation's lines for the report, or why there are none (never raises)."""
    try:
        return tuple(check(backend, ours).lines())
    except BackendError as exc:
        return (f"Reconciliation: not done, the backend did not answer ({exc.problem.advice})",)

"""X and Z reports from the journal (the rules are in ``terminal.core.report``); used by the terminal's menu, its
report worker and ``qr-terminal report``.

A report reads its period's totals as the journal keeps them (``period_totals``, added to as each sale and refund
is journaled): a few rows, whatever the period holds. A Z report closes the period by the journal's one writer, in
one transaction: the Z's row, with the totals it closed, and the next period starting from nothing. The period's
end is the Z's ``closed_at``; what is journaled after the Z counts in the next period.

:func:`recount` sums a period from the journal's rows instead (every sale, refund and later payment in its time
range): the reference the kept totals are checked against.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from terminal.core.money import Amount
from terminal.core.report import Ended, Refunded, Report, summarise
from terminal.store.journal import Journal


def build_report(journal: Journal, kind: str, now: datetime) -> Report:
    """The X report (since the last Z), or the Z report, which closes the period in the journal."""
    if kind == "z":
        return z_report(journal, *close_period(journal, now))
    with journal.snapshot():  # the period and its totals as of one moment, beside the loop's writes
        since = period_start(journal)
        totals = journal.period_totals(journal.open_period())
    return _summed(kind, since, now.isoformat(timespec="seconds"), totals, None)


def period_start(journal: Journal) -> str:
    """Where the open period began: the last Z's closing time ("" before the first Z)."""
    last = journal.last_z()
    return last[1] if last else ""


def close_period(journal: Journal, now: datetime) -> tuple[int, str, str]:
    """Close the open period at ``now`` with a Z report's row and the totals it closed (one transaction): its
    number, start and end."""
    with journal.step():
        since = period_start(journal)
        number, closed = journal.close_z(since, now, "")
        report = _summed("z", since, closed, journal.period_totals(number), number)
        journal.record_z_totals(number, json.dumps([asdict(t) for t in report.currencies]))
    return number, since, closed


def z_report(journal: Journal, number: int, since: str, closed: str) -> Report:
    """The Z report of the period ``number`` (``since``, ``closed``], as its Z closed it."""
    return _summed("z", since, closed, journal.period_totals(number), number)


def recount(journal: Journal, kind: str, since: str, until: str, number: int | None = None) -> Report:
    """The report of (``since``, ``until``] summed from the journal's rows (ISO text; "" and "~" for no bound)."""
    ended = journal.ended_since(since, until) + journal.later_money_since(since, until)
    return summarise(kind, since, until, ended, number, journal.refunds_since(since, until))


def _summed(
    kind: str, since: str, until: str, totals: list[tuple[str, str, int, int, int, int]], number: int | None
) -> Report:
    ended = [
        Ended(status, Amount(total, currency), extra, count, extra_count)
        for currency, status, count, total, extra, extra_count in totals
        if status != "refunds"
    ]
    refunds = [Refunded(Amount(total, c), count) for c, status, count, total, _, _ in totals if status == "refunds"]
    return summarise(kind, since, until, ended, number, refunds)

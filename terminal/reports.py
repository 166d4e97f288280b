"""X and Z reports from the journal (the rules are in ``terminal.core.report``); used by the terminal's menu, its
report worker and ``qr-terminal report``.

A Z report is two parts: closing the period (one insert, by the journal's one writer, at once) and its totals
(summed over the closed period's index range, on any connection: the terminal's report worker). The period's
end is the Z's ``closed_at``, so a sale that ends while the totals are summed is never in both a Z and the next X.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from terminal.core.report import Report, summarise
from terminal.store.journal import Journal


def build_report(journal: Journal, kind: str, now: datetime) -> Report:
    """The X report (since the last Z), or the Z report, which closes the period in the journal."""
    if kind == "z":
        return z_report(journal, *close_period(journal, now))
    since = period_start(journal)
    ended = journal.ended_since(since) + journal.later_money_since(since)
    return summarise(kind, since, now.isoformat(timespec="seconds"), ended, None, journal.refunds_since(since))


def period_start(journal: Journal) -> str:
    """Where the open period began: the last Z's closing time ("" before the first Z)."""
    last = journal.last_z()
    return last[1] if last else ""


def close_period(journal: Journal, now: datetime) -> tuple[int, str, str]:
    """Close the open period at ``now`` (a Z report's row, its totals still to be summed): its number, start and
    end."""
    since = period_start(journal)
    number, closed = journal.close_z(since, now, "")
    return number, since, closed


def z_report(journal: Journal, number: int, since: str, closed: str) -> Report:
    """The Z report of the period ``number`` (``since``, ``closed``], its totals recorded with it."""
    ended = journal.ended_since(since, closed) + journal.later_money_since(since, closed)
    report = summarise("z", since, closed, ended, number, journal.refunds_since(since, closed))
    journal.record_z_totals(number, json.dumps([asdict(t) for t in report.currencies]))
    return report

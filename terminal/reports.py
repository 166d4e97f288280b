"""X and Z reports from the journal (the rules are in ``terminal.core.report``); used by the terminal's menu and
by ``qr-terminal report``."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from terminal.core.report import Report, summarise
from terminal.store.journal import Journal


def build_report(journal: Journal, kind: str, now: datetime) -> Report:
    """The X report (since the last Z), or the Z report, which closes the period in the journal."""
    last = journal.last_z()
    since = last[1] if last else ""
    ended = journal.ended_since(since) + journal.later_money_since(since)
    refunds = journal.refunds_since(since)
    until = now.isoformat(timespec="seconds")
    number = None
    if kind == "z":
        totals = json.dumps([asdict(t) for t in summarise("z", since, until, ended, refunds=refunds).currencies])
        number, until = journal.close_z(since, now, totals)
    return summarise(kind, since, until, ended, number, refunds)

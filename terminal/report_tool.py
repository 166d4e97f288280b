"""``qr-terminal report``: the X report (running totals since the last Z) or the Z report (closes the period),
from the journal, as text or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from terminal.core.report import as_csv_rows, as_lines, summarise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The report's options."""
    parser.add_argument("--db", type=Path, default=None, help="the journal (default: terminal.journal of --config)")
    parser.add_argument("--config", default="/etc/qr-terminal/terminal.toml", help="the TOML config (%(default)s)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--x", action="store_true", help="running totals since the last Z (the default)")
    which.add_argument("--z", action="store_true", help="close the period: totals since the last Z, recorded")
    parser.add_argument("--csv", action="store_true", help="CSV: currency, status, count, total")


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 2 when there is no journal to read."""
    from terminal.store.journal import Journal, JournalError

    path = args.db
    if path is None:
        from terminal.config import ConfigError, load

        try:
            path = load(args.config).terminal.journal
        except ConfigError as exc:
            print(f"qr-terminal report: give --db, or fix the config: {exc}", file=sys.stderr)
            return 2
    if not Path(path).exists():
        print(f"qr-terminal report: no journal at {path}", file=sys.stderr)
        return 2
    try:
        journal = Journal(path)
    except JournalError as exc:
        print(f"qr-terminal report: {exc}", file=sys.stderr)
        return 2
    try:
        last = journal.last_z()
        since = last[1] if last else ""
        now = datetime.now(UTC)
        ended = journal.ended_since(since)
        number = None
        until = now.isoformat(timespec="seconds")
        if args.z:
            totals = json.dumps([asdict(t) for t in summarise("z", since, until, ended).currencies])
            number, until = journal.close_z(since, now, totals)
        report = summarise("z" if args.z else "x", since, until, ended, number)
    finally:
        journal.close()
    if args.csv:
        csv.writer(sys.stdout).writerows(as_csv_rows(report))
    else:
        print("\n".join(as_lines(report)))
    return 0

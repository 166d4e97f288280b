"""``qr-terminal report``: the X report (running totals since the last Z) or the Z report (closes the period),
from the journal, as text or CSV; with ``--reconcile``, today's reconciliation with the backend under it."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from terminal.core.report import as_csv_rows, as_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The report's options."""
    parser.add_argument("--db", type=Path, default=None, help="the journal (default: terminal.journal of --config)")
    parser.add_argument("--config", default="/etc/qr-terminal/terminal.toml", help="the TOML config (%(default)s)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--x", action="store_true", help="running totals since the last Z (the default)")
    which.add_argument("--z", action="store_true", help="close the period: totals since the last Z, recorded")
    parser.add_argument("--csv", action="store_true", help="CSV: currency, status, count, total")
    parser.add_argument(
        "--reconcile", action="store_true", help="add today's reconciliation with the backend (needs --config)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 2 when there is no journal to read."""
    from terminal.config import Config, ConfigError, load
    from terminal.reconciliation import local_day, ours_for, summary
    from terminal.reports import build_report
    from terminal.store.journal import Journal, JournalError

    path = args.db
    config: Config | None = None
    if path is None or args.reconcile:
        try:
            config = load(args.config)
        except ConfigError as exc:
            print(f"qr-terminal report: give --db, or fix the config: {exc}", file=sys.stderr)
            return 2
        path = path or config.terminal.journal
    if not Path(path).exists():
        print(f"qr-terminal report: no journal at {path}", file=sys.stderr)
        return 2
    try:
        # An X report only reads, beside the running terminal; a Z report writes (it closes the period), so it
        # takes the journal like a terminal does: refused while one runs (its menu closes a Z too).
        journal = Journal(path, reserve=0) if args.z else Journal.reader(path)
    except JournalError as exc:
        print(f"qr-terminal report: {exc}", file=sys.stderr)
        return 2
    try:
        report = build_report(journal, "z" if args.z else "x", datetime.now(UTC))
        today = local_day(None, datetime.now().astimezone())
        ours = ours_for(journal, today, config.terminal.id) if config and args.reconcile else None
    finally:
        journal.close()
    if args.csv:
        csv.writer(sys.stdout).writerows(as_csv_rows(report))
        return 0
    print("\n".join(as_lines(report)))
    if config is not None and ours is not None:
        from terminal.wiring import backend_from

        backend = backend_from(config)
        try:
            print("\n".join(summary(backend, ours)))
        finally:
            backend.close()
    return 0

"""``qr-terminal reconcile``: one day's journal against the backend's history and settlement (the rules are in
``terminal.core.reconcile``, the journal and backend sides in ``terminal.reconciliation``). The terminal's report
runs the same check in the background."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from terminal.backends.base import BackendError
from terminal.reconciliation import Ours, check, local_day, ours_for
from terminal.store.journal import Journal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """reconcile's options."""
    parser.add_argument("--config", default="/etc/qr-terminal/terminal.toml", help="the TOML config (%(default)s)")
    parser.add_argument("--db", default=None, help="the journal (default: terminal.journal of --config)")
    parser.add_argument("--date", default=None, help="the day, YYYY-MM-DD in the terminal's time zone (today)")


def run(args: argparse.Namespace) -> int:
    """Print every mismatch; exit 0 when none, 1 when some, 2 when the check could not be made."""
    from terminal.config import ConfigError, load
    from terminal.store.journal import JournalError
    from terminal.wiring import backend_from

    try:
        config = load(args.config)
        day = local_day(args.date, datetime.now().astimezone())
    except ConfigError as exc:
        print(f"qr-terminal reconcile: fix the config: {exc}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"qr-terminal reconcile: --date must be YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2
    path = Path(args.db or config.terminal.journal)
    if not path.exists():  # a terminal that never sold: nothing on our side (a reader never creates the file)
        ours = Ours(day, [], [], f"{config.terminal.id}-")
    else:
        try:
            journal = Journal.reader(path)  # read-only, beside the running terminal
        except JournalError as exc:
            print(f"qr-terminal reconcile: {exc}", file=sys.stderr)
            return 2
        try:
            ours = ours_for(journal, day, config.terminal.id)
        finally:
            journal.close()
    backend = backend_from(config)
    try:
        result = check(backend, ours)
    except BackendError as exc:
        print(f"qr-terminal reconcile: the backend did not answer: {exc}", file=sys.stderr)
        return 2
    finally:
        backend.close()
    print("\n".join(result.lines()))
    return 1 if result.mismatches else 0

"""``qr-terminal archive --before YYYY-MM-DD``: the journal's retention (see :mod:`terminal.store.archive`). Run
it with the terminal stopped: it opens the journal as the terminal does, and is refused while the terminal
holds it."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The archive's options."""
    parser.add_argument(
        "--before",
        type=_day,
        required=True,
        help="move sales that ended before this day (YYYY-MM-DD, the terminal's time zone) and that a Z report closed",
    )
    parser.add_argument("--db", type=Path, default=None, help="the journal (default: terminal.journal of --config)")
    parser.add_argument("--config", default="/etc/qr-terminal/terminal.toml", help="the TOML config (%(default)s)")


def run(args: argparse.Namespace) -> int:
    """Move the sales; one line says what moved where. Exit 2 when refused."""
    from terminal.store.archive import ArchiveRefused, archive
    from terminal.store.journal import Journal, JournalError

    path = args.db
    if path is None:
        from terminal.config import load_for

        config = load_for("archive", args.config)
        if config is None:
            return 2
        path = config.terminal.journal
    if not Path(path).is_file():
        print(f"qr-terminal archive: no journal at {path}", file=sys.stderr)
        return 2
    try:
        journal = Journal(path)
    except JournalError as exc:
        print(f"qr-terminal archive: {exc}", file=sys.stderr)
        return 2
    try:
        moved = archive(journal, args.before)
    except (ArchiveRefused, JournalError) as exc:
        print(f"qr-terminal archive: {exc}", file=sys.stderr)
        return 2
    finally:
        journal.close()
    if not moved.sales:
        print(f"nothing to archive before {args.before}")
    else:
        print(
            f"archived {moved.sales} sale(s), {moved.events} event(s) and {moved.refunds} refund(s) into {moved.path}"
        )
    return 0

"""``qr-terminal set-pin``: ask for the manager PIN twice, store its hash (terminal.manager_pin), clear the lockout."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from terminal.core.pin import PIN_DIGITS
from terminal.manager_pin import PinError, check_new_pin, hash_pin, write_hash


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """set-pin's options."""
    from terminal.config import add_config_argument

    add_config_argument(parser)
    parser.add_argument("--stdin", action="store_true", help="read the PIN (twice, one per line) from stdin")


def run(args: argparse.Namespace) -> int:
    """Ask for the new PIN twice, store its hash, and clear the lockout."""
    from terminal.config import load_for

    config = load_for("set-pin", args.config)
    if config is None:
        return 2
    if config.secrets_path is None:
        print("qr-terminal set-pin: the config names no secrets file ([secrets] file = …)", file=sys.stderr)
        return 2
    try:
        first, second = _ask_twice(args.stdin)
    except EOFError:  # Ctrl-D at the prompt, or nothing to read
        print("qr-terminal set-pin: no PIN given (the input ended); nothing changed", file=sys.stderr)
        return 1
    try:
        check_new_pin(first)
    except PinError as exc:
        print(f"qr-terminal set-pin: {exc}", file=sys.stderr)
        return 1
    if first != second:
        print("qr-terminal set-pin: the two PINs differ; nothing changed", file=sys.stderr)
        return 1
    try:
        write_hash(config.secrets_path, hash_pin(first))
    except OSError as exc:
        print(f"qr-terminal set-pin: cannot write {config.secrets_path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    _clear_lock(config.terminal.journal)
    print(f"Manager PIN set in {config.secrets_path} (used from the next menu key; the lockout is cleared).")
    return 0


def _ask_twice(from_stdin: bool) -> tuple[str, str]:
    """The new PIN and its repetition, from stdin (one per line) or typed unseen at the terminal.
    EOFError when there is nothing to read (stdin closed or at its end, Ctrl-D)."""
    if from_stdin:
        if sys.stdin is None:  # started with stdin closed
            raise EOFError
        given = [*sys.stdin.read().splitlines(), "", ""]
        return given[0], given[1]
    if sys.stdin is None and not _has_terminal():  # getpass would fall back to the missing stdin
        raise EOFError
    first = getpass.getpass(f"New manager PIN ({PIN_DIGITS[0]}–{PIN_DIGITS[1]} digits): ")
    return first, getpass.getpass("The same PIN again: ")


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _clear_lock(journal_path: Path) -> None:
    if not journal_path.exists():
        return
    from datetime import UTC, datetime

    from terminal.core.pin import PinLock
    from terminal.store.journal import Journal, JournalError

    try:
        journal = Journal(journal_path)
    except JournalError as exc:
        print(f"qr-terminal set-pin: the lockout was not cleared: {exc}", file=sys.stderr)
        return
    try:
        journal.save_pin_lock(PinLock(), datetime.now(UTC))
    except JournalError as exc:
        print(f"qr-terminal set-pin: the lockout was not cleared: {exc}", file=sys.stderr)
    finally:
        journal.close()

"""``qr-hub user add NAME --role owner|staff [--language TAG]``: a person who may log in to the dashboard. The
password is read from a prompt (twice) on a terminal, else from the first line of standard input — never from the
command line, where other users of the machine could read it."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from hub.db import Database


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add ``user add`` to qr-hub's parser (``command(name, help)`` makes a subcommand with ``--db``)."""
    user = command("user", "people who log in to the dashboard")
    user.add_argument("action", choices=["add"], help="add: a new user (password from a prompt or stdin)")
    user.add_argument("name", help="the user's login name")
    user.add_argument("--role", choices=["owner", "staff"], required=True, help="owner: all; staff: read only")
    user.add_argument("--language", default=None, help="the dashboard's language for them (en, hi, ta, th, pt-BR)")


def run(args: argparse.Namespace, database: Database) -> int:
    """Run ``qr-hub user …``; 0 on success, 2 with one sentence on stderr otherwise."""
    from hub.dashboard.auth import Users
    from terminal.i18n import LANGUAGES

    if args.language is not None and args.language not in LANGUAGES:
        print(f"qr-hub: unknown language {args.language!r}; known: {', '.join(LANGUAGES)}", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            print("qr-hub: the two passwords differ; nothing was changed", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        Users(database).add(args.name, password, args.role, args.language)
    except ValueError as exc:
        print(f"qr-hub: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.name.strip()} added ({args.role})")
    return 0

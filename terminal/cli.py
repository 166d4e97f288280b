"""``qr-terminal``: the parser and the dispatch; each subcommand lives in its own module under terminal.commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from terminal import __version__

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


#: The exit code after Ctrl-C, as shells report a process ended by SIGINT (128 + 2).
CTRL_C_EXIT = 130


def main(argv: list[str] | None = None) -> int:
    """The console script: one sentence on stderr and a non-zero exit for what went wrong, never a traceback
    for bad input; 130 after Ctrl-C."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before a loop took over SIGINT, at a prompt, or pressed twice
        print("qr-terminal: stopped (Ctrl-C)", file=sys.stderr)
        return CTRL_C_EXIT


def whole_number(low: int, high: int, what: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (argparse names the option when it is not)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what or 'a whole number'} from {low} to {high}")
        return value

    return parse


class CtrlC:
    """Ctrl-C (SIGINT) ends a loop the clean way, through ``stop`` (as SIGTERM does), and is remembered so the
    command exits 130; a second Ctrl-C raises KeyboardInterrupt (for a stop that does not come)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.pressed = False
        self._stop = stop
        signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, *_: object) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self._stop()

    def exit_code(self, code: int) -> int:
        """``code``, or 130 with a sentence on stderr when Ctrl-C ended the loop."""
        if not self.pressed:
            return code
        print("qr-terminal: stopped (Ctrl-C)", file=sys.stderr)
        return CTRL_C_EXIT


#: Each subcommand: its help line, its module under terminal.commands, and that module's functions that add its
#: arguments and run it. Only the chosen one's module is imported: ``run`` starts without the demo, the sandbox,
#: the report tools or their libraries.
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "run": ("run the terminal from a config file", "run", "add_arguments", "run"),
    "sandbox": ("run the sandbox backend (contract v1, customer page)", "sandbox", "add_arguments", "run"),
    "doctor": ("check config, devices, backend, clock, disk and journal", "doctor", "add_arguments", "run"),
    "report": ("X report (since the last Z) or Z report (closes it)", "report", "add_arguments", "run"),
    "reconcile": (
        "compare a day of the journal with the backend's history and settlement",
        "reconcile",
        "add_arguments",
        "run",
    ),
    "archive": (
        "move sales a Z report closed, older than a day, into a dated file beside the journal",
        "archive",
        "add_arguments",
        "run",
    ),
    "set-pin": ("set the manager PIN (refunds, reports, reprints)", "pin", "add_arguments", "run"),
    "say": ("speak (or write as WAV) one payment announcement", "voice", "add_say_arguments", "say"),
    "voice-cache": ("make the voice's word clips (install time)", "voice", "add_cache_arguments", "fill_cache"),
    "payload": ("read or build a payment-QR payload", "payload", "add_arguments", "run"),
    "demo": ("the sandbox and the terminal together, no hardware needed", "demo", "add_arguments", "run"),
    "enroll": ("trade a hub's one-time code for a terminal secret", "enroll", "add_arguments", "run"),
}


def chosen_command(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option (the top-level options take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="qr-terminal", description="Countertop dynamic-QR payment terminal.")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = chosen_command(argv)
    module = None
    for name, (help_line, module_name, add_arguments, _) in COMMANDS.items():
        command = sub.add_parser(name, help=help_line)
        if name == chosen:
            module = importlib.import_module(f"terminal.commands.{module_name}")
            getattr(module, add_arguments)(command)

    args = parser.parse_args(argv)
    # Under systemd, journald stamps each line itself.
    stamp = "" if os.environ.get("INVOCATION_ID") else "%(asctime)s "
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.command == "demo" else logging.INFO,
        format=stamp + "%(levelname)s %(name)s: %(message)s",
    )
    if module is None:  # parse_args exits for a word that names no command; this is for the type checker
        raise SystemExit(2)
    code: int = getattr(module, COMMANDS[args.command][3])(args)
    return code

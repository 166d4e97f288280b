"""``qr-terminal``: run the terminal, run the sandbox, run the demo."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

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


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="/etc/qr-terminal/terminal.toml", help="the TOML config (%(default)s)")


def _sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (%(default)s)")
    parser.add_argument(
        "--port", type=whole_number(0, 65535, "a port"), default=8765, help="port (%(default)s; 0: any free port)"
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="bind all interfaces and put the LAN address into QR links (a phone on the Wi-Fi can pay)",
    )
    parser.add_argument(
        "--scheme",
        choices=["url", "upi", "pix", "promptpay", "paynow", "epc"],
        default="url",
        help="QR payload: a link to the pay page (default) or a format-accurate payload of that scheme",
    )
    parser.add_argument("--token", default=None, help="device token to accept (default: the demo token)")


def _from(module: str, function: str) -> Callable[[argparse.ArgumentParser], None]:
    """A subcommand's ``add_arguments`` in ``module``, imported only when that subcommand is chosen."""

    def add(parser: argparse.ArgumentParser) -> None:
        getattr(importlib.import_module(module), function)(parser)

    return add


#: Each subcommand: its help line and what adds its arguments. Only the chosen one is built (and its module
#: imported): ``run`` starts without the demo, the sandbox, the report tools or their libraries.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "run": ("run the terminal from a config file", _run_arguments),
    "sandbox": ("run the sandbox backend (contract v1, customer page)", _sandbox_arguments),
    "doctor": ("check config, devices, backend, clock, disk and journal", _run_arguments),
    "report": ("X report (since the last Z) or Z report (closes it)", _from("terminal.report_tool", "add_arguments")),
    "reconcile": (
        "compare a day of the journal with the backend's history and settlement",
        _from("terminal.reconcile_tool", "add_arguments"),
    ),
    "archive": (
        "move sales a Z report closed, older than a day, into a dated file beside the journal",
        _from("terminal.archive_tool", "add_arguments"),
    ),
    "set-pin": ("set the manager PIN (refunds, reports, reprints)", _from("terminal.manager_pin", "add_arguments")),
    "say": ("speak (or write as WAV) one payment announcement", _from("terminal.voice_tool", "add_say_arguments")),
    "voice-cache": ("make the voice's word clips (install time)", _from("terminal.voice_tool", "add_cache_arguments")),
    "payload": ("read or build a payment-QR payload", _from("terminal.payload_tool", "add_arguments")),
    "demo": ("the sandbox and the terminal together, no hardware needed", _from("terminal.demo", "add_arguments")),
    "enroll": ("trade a hub's one-time code for a terminal secret", _from("terminal.enroll_tool", "add_arguments")),
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
    for name, (help_line, add_arguments) in COMMANDS.items():
        command = sub.add_parser(name, help=help_line)
        if name == chosen:
            add_arguments(command)

    args = parser.parse_args(argv)
    # Under systemd, journald stamps each line itself.
    stamp = "" if os.environ.get("INVOCATION_ID") else "%(asctime)s "
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.command == "demo" else logging.INFO,
        format=stamp + "%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "run":
        return _run(Path(args.config))
    if args.command == "sandbox":
        return _sandbox(args)
    if args.command == "doctor":
        from terminal import doctor

        checks = doctor.run(Path(args.config))
        for check in checks:
            print(check.line())
        return 0 if all(c.ok for c in checks) else 1
    runs = {
        "report": ("terminal.report_tool", "run"),
        "reconcile": ("terminal.reconcile_tool", "run"),
        "archive": ("terminal.archive_tool", "run"),
        "set-pin": ("terminal.manager_pin", "run"),
        "say": ("terminal.voice_tool", "say"),
        "voice-cache": ("terminal.voice_tool", "fill_cache"),
        "payload": ("terminal.payload_tool", "run"),
        "demo": ("terminal.demo", "run_demo"),
        "enroll": ("terminal.enroll_tool", "run"),
    }
    module, function = runs[args.command]
    code: int = getattr(importlib.import_module(module), function)(args)
    return code


#: Libraries the terminal never uses that others import when they are installed: sqlite-utils imports numpy and
#: pandas for their column types (60 ms and 17 MB for numpy alone; Pi OS ships numpy system-wide); requests
#: imports charset_normalizer (2.4 MB) to guess the text encoding of replies, and ours are JSON read as bytes.
UNUSED = ("numpy", "pandas", "charset_normalizer", "chardet")
#: pygame's mixer loads SDL_mixer and its codecs (2.8 MB); only the voice plays sound.
SOUND = ("pygame.mixer", "pygame.mixer_music")


def keep_out(names: tuple[str, ...]) -> None:
    """Make ``import name`` fail (ImportError) for modules not imported yet: for optional imports of libraries
    that the terminal never uses (see :data:`UNUSED`)."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None in sys.modules: "cannot be imported"
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")  # requests says so


def _run(path: Path) -> int:
    keep_out(UNUSED)
    from terminal.config import ConfigError, load, secrets_exposure

    try:
        config = load(path)
    except ConfigError as exc:
        print(f"qr-terminal: config error: {exc}", file=sys.stderr)
        return 2
    exposure = secrets_exposure(config.secrets_path) if config.secrets_path else None
    if exposure:  # the device token, provider keys and PIN hash are for the service user alone
        print(f"qr-terminal: not starting: {exposure}: chmod 600 {config.secrets_path}", file=sys.stderr)
        return 2
    if config.display.driver:
        os.environ.setdefault("SDL_VIDEODRIVER", config.display.driver)
    if config.voice is None and "pygame" not in sys.modules:
        keep_out(SOUND)
    from terminal.app import App, backend_from, open_printer, settings_from, shop_from
    from terminal.core.events import KeyPressed
    from terminal.devices.display import Display
    from terminal.hardware import open_hardware
    from terminal.manager_pin import PinChecker
    from terminal.service import ServiceNotifier
    from terminal.store.journal import Journal, JournalError
    from terminal.voice_tool import open_voice

    try:
        journal = Journal(config.terminal.journal, check=False)  # checked after the ready screen (App.run)
    except JournalError as exc:
        print(f"qr-terminal: {exc}", file=sys.stderr)
        return 2
    d = config.display
    try:
        display = Display(size=(d.width, d.height), fullscreen=d.fullscreen, rotate=d.rotate)
    except Exception as exc:  # pygame.error (no such driver, no /dev/dri, no permission); never a traceback
        driver = os.environ.get("SDL_VIDEODRIVER", "SDL's default")
        print(
            f"qr-terminal: cannot open the display (driver {driver}): {exc}. Run 'qr-terminal doctor'.", file=sys.stderr
        )
        journal.close()
        return 2
    app = App(
        settings=settings_from(config),
        backend=backend_from(config),
        journal=journal,
        display=display,
        long_poll=config.backend.long_poll,
        poll_interval=config.backend.poll_interval,
        fps=d.fps,
        shop=shop_from(config),
        service=ServiceNotifier(),
        pin_checker=PinChecker(config.secrets_path),
        voice=open_voice(config),
    )
    hardware = open_hardware(
        indicators=config.indicators,
        keypad=config.keypad,
        buttons=config.buttons,
        on_key=lambda key: app.post(KeyPressed(key)),
        mock=config.gpio_mock,
    )
    app.indicators = hardware.indicators
    if config.till is not None:
        from terminal.devices.till_link import open_till

        t = config.till
        app.till = open_till(
            t.kind,
            t.device,
            app.post,
            currency=config.terminal.currency,
            host=t.host,
            pole=t.pole,
            baudrate=t.baudrate,
            bytesize=t.bytesize,
            parity=t.parity,
            stopbits=t.stopbits,
            secret=t.secret,
            auth=t.auth,
            idle_timeout=t.idle_timeout,
        )
    if config.printer is not None:
        cache = os.environ.get("CACHE_DIRECTORY")  # systemd's CacheDirectory=
        open_printer(config.printer, app, Path(cache) / "escpos" if cache else None)
    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    ctrl_c = CtrlC(app.stop)
    # What the start made stays for the life of the process: the collector no longer walks it, so no long
    # collection lands between a key and its QR.
    gc.freeze()
    try:
        app.run()
    finally:
        hardware.close()
        journal.close()
        display.close()
    return ctrl_c.exit_code(0)


def _sandbox(args: argparse.Namespace) -> int:
    from terminal.sandbox.server import DEFAULT_TOKEN, Sandbox, lan_address

    host = "0.0.0.0" if args.lan else args.host
    public = lan_address() if args.lan else None
    try:
        server = Sandbox(host, args.port, public_host=public, token=args.token or DEFAULT_TOKEN, scheme=args.scheme)
    except OSError as exc:
        print(f"qr-terminal sandbox: cannot listen on {host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"sandbox: contract v1 at {server.url}/v1, customer pages at {server.public_url}/pay/<order>", flush=True)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        server.serve_forever()  # until SIGTERM (exit 0) or Ctrl-C (KeyboardInterrupt: main exits 130)
    finally:
        server.server_close()
    return 0


def _terminated(*_: object) -> None:
    raise SystemExit(0)

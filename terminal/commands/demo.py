"""``qr-terminal demo``: the sandbox and the terminal in one process, with no hardware.

With a display it opens a window (the keyboard is the keypad; the customer pays on the sandbox's page).
Headless (``--headless``, or no display found) it runs one scripted sale: the amount is typed through
the same key path a person uses, every distinct screen is saved as ``DIR/NN-<screen>.png``, each state
transition is printed as a JSON line, and the exit code says whether the sale ended as the customer's
action implies (pay → paid, decline → failed, ignore → expired).

The demo's terminal is an ordinary one: the demo writes its config (``terminal.toml`` and ``secrets.toml`` in a
temporary folder), starts the sandbox (or a qr-hub), and builds the terminal from that config through
terminal.wiring, as ``qr-terminal run`` does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from terminal.cli import CtrlC, whole_number
from terminal.core.clock import Now
from terminal.core.effects import JournalSale
from terminal.core.entry import AmountEntry
from terminal.core.keys import Key
from terminal.core.money import Amount, MoneyError
from terminal.core.screen import ScreenModel
from terminal.devices.indicators import IndicatorPins
from terminal.i18n import LANGUAGES
from terminal.sandbox.book import SCHEMES

if TYPE_CHECKING:
    from terminal.app import App
    from terminal.devices.display import Display
    from terminal.sandbox.server import Sandbox

EXPECTED = {"pay": "paid", "decline": "failed", "ignore": "expired"}
RESULT_SCREENS = {"paid", "failed", "expired", "cancelled", "error"}
#: The demo's LEDs and buzzer (on gpiozero's MockFactory): the README's default wiring.
LEDS = IndicatorPins(green=5, red=6, amber=26, buzzer=12)
#: The demo's manager PIN (the demo's own throwaway secrets file; a real terminal's is set with set-pin).
DEMO_PIN = "2580"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options."""
    parser.add_argument("--headless", action="store_true", help="no window: run one scripted sale, save PNG frames")
    parser.add_argument("--frames", type=Path, default=None, help="where headless frames go (default demo-frames/)")
    parser.add_argument("--amount", default=None, help="the amount typed, e.g. 12.50 (headless default 12.50)")
    parser.add_argument("--customer", choices=sorted(EXPECTED), default="pay", help="what the customer does")
    parser.add_argument(
        "--ttl",
        type=whole_number(1, 3600),
        default=None,
        help="seconds the QR stays valid (default 300; 20 for ignore)",
    )
    parser.add_argument("--db", type=Path, default=None, help="journal file (default: a temporary file)")
    parser.add_argument("--size", default="800x480", help="screen size WxH (default %(default)s)")
    parser.add_argument("--rotate", type=int, choices=[0, 90, 180, 270], default=0, help="rotate the layout")
    parser.add_argument("--currency", default=None, help="currency (default: the scheme's, INR for url)")
    parser.add_argument(
        "--scheme",
        choices=list(SCHEMES),
        default="url",
        help="the sandbox's QR payload: a pay-page link (default) or a format-accurate payload",
    )
    parser.add_argument("--lan", action="store_true", help="a phone on the same Wi-Fi can open the pay page")
    parser.add_argument(
        "--hub",
        action="store_true",
        help="a qr-hub (simulated provider) instead of the sandbox: "
        "T1 enrolled and signing, the sale paid by a signed webhook (needs .[hub])",
    )
    parser.add_argument(
        "--language",
        choices=list(LANGUAGES),
        default=None,
        help="the screen's, receipts' and menu's language (default: the currency's country's)",
    )
    parser.add_argument(
        "--receipts",
        type=Path,
        default=None,
        help="print receipts into DIR: NN-<reference>.bin (ESC/POS bytes) and a .txt preview",
    )
    parser.add_argument(
        "--till",
        default=None,
        metavar="KIND:DEVICE",
        help="serve sales a till sends: native:/dev/ttyUSB0, native:tcp:9100, concert:/dev/ttyACM0, pole:/dev/ttyUSB1",
    )
    parser.add_argument(
        "--sales", type=whole_number(1, 1_000_000), default=None, help="with --till: exit 0 after this many sales end"
    )
    parser.add_argument(
        "--voice",
        nargs="?",
        const="auto",
        default=None,
        help="speak the payment (espeak-ng clips): en, en-IN, hi, ta, pt-BR or th (default: from the currency)",
    )
    parser.add_argument(
        "--gpio-log",
        type=Path,
        default=None,
        help="write every pin change of the (mock) LEDs and buzzer: seconds, pin, value",
    )


def has_display() -> bool:
    """True when a window can be opened (X11/Wayland session, or an SDL driver chosen on purpose)."""
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if driver and driver != "dummy":
        return True
    return driver != "dummy" and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    """Run the demo; the exit code is 0 when it went as asked."""
    args.currency = args.currency or SCHEMES[args.scheme][1] or "INR"
    headless = args.headless or not has_display()
    if headless and not args.headless:
        print("No display found: running headless (one scripted sale, PNG frames).", file=sys.stderr)
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        size = tuple(int(part) for part in args.size.lower().split("x"))
        if len(size) != 2 or min(size) < 64:
            raise ValueError
        amount = Amount.parse(args.amount or "12.50", args.currency)
        voice_language = _voice_language(args)
    except ValueError as exc:
        message = exc if isinstance(exc, MoneyError | VoiceChoiceError) else "bad --size, expected WxH"
        print(f"qr-terminal demo: {message}", file=sys.stderr)
        return 2
    # Checked before anything starts: a bad argument is one sentence and exit 2, never a traceback mid-sale.
    refused = _untypeable(amount, demo_maximum(args.currency))
    problem = f"--amount {args.amount}: the keypad refuses it ({refused})" if refused else ""
    problem = problem or _till_problem(args.till) or _unusable_output(args, headless)
    if problem:
        print(f"qr-terminal demo: {problem}", file=sys.stderr)
        return 2
    if args.receipts:
        for old in [*args.receipts.glob("[0-9][0-9]-*.bin"), *args.receipts.glob("[0-9][0-9]-*.txt")]:
            old.unlink()

    from terminal.config import ConfigError, load
    from terminal.sandbox.server import DEFAULT_TOKEN, Sandbox, lan_address
    from terminal.wiring import CannotStart, build_terminal

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="qr-terminal-demo-") as tmp:
        folder = Path(tmp)
        if args.hub:
            sandbox, token = _hub(args, folder)
            if sandbox is None:
                return 2
        else:
            public = lan_address() if args.lan else None
            sandbox = Sandbox("0.0.0.0" if args.lan else "127.0.0.1", 0, public_host=public, scheme=args.scheme)
            sandbox.start()
            token = DEFAULT_TOKEN
        ttl = args.ttl or (20 if args.customer == "ignore" and headless else 300)
        try:
            write_config(folder, args, sandbox, token, size=size, ttl=ttl, headless=headless, voice=voice_language)
            config = load(folder / "terminal.toml")
        except ConfigError as exc:  # a --till the config refuses (its secret, its device)
            print(f"qr-terminal demo: {exc}", file=sys.stderr)
            sandbox.stop()
            return 2
        if ttl != config.terminal.sale_ttl:  # a demo's QR may live shorter than a config allows (--ttl 2)
            config = replace(config, terminal=replace(config.terminal, sale_ttl=ttl))
        try:
            terminal = build_terminal(config, title="QR Terminal — demo", escpos_cache=folder / "escpos")
        except CannotStart as exc:
            where = "--db: " if args.db and exc.part == "journal" else ""  # --db names a file that is not a journal
            print(f"qr-terminal demo: {where}{exc}", file=sys.stderr)
            sandbox.stop()
            return 2
        app = terminal.app
        if args.till:
            kind, _, device = args.till.partition(":")
            print(f"Till: {kind} protocol on {device}", file=sys.stderr, flush=True)
        ctrl_c = CtrlC(app.stop)  # Ctrl-C stops the loop as SIGTERM does; the demo then exits 130
        # SIGTERM stops like the end of --sales N: no new sale, the till's answers delivered, then exit.
        signal.signal(signal.SIGTERM, lambda *_: app.stop())
        try:
            if headless and args.till:
                return ctrl_c.exit_code(TillServed(app, sandbox, args).serve())
            if headless:
                return ctrl_c.exit_code(Scripted(app, sandbox, args).run(amount))
            print(
                f"Demo: type an amount and press Enter. Customer pages: {sandbox.public_url}/pay/<order>\n"
                f"Manager menu (recent sales, refunds, X/Z reports): * or M, PIN {DEMO_PIN}"
                + ("\nVoice on: v repeats the last announcement" if app.voice else ""),
                file=sys.stderr,
            )
            app.observer.transition = _print_transition(sandbox)
            terminal.run()
            return ctrl_c.exit_code(0)
        finally:
            if app.voice is not None:
                app.voice.wait_idle(15)  # let the announcement finish
                app.voice.stop()
            if args.gpio_log:
                if app.indicators is not None:
                    app.indicators.wait_idle(2.0)  # let the last pattern finish
                terminal.hardware.gpio_log(args.gpio_log, started)
            terminal.close()
            sandbox.stop()


def write_config(
    folder: Path,
    args: argparse.Namespace,
    sandbox: Any,
    token: str,
    *,
    size: tuple[int, ...],
    ttl: int,
    headless: bool,
    voice: str | None,
) -> None:
    """The demo's terminal as a config file in ``folder`` (``terminal.toml``, and ``secrets.toml`` with the
    device token and the demo's manager PIN), read back by the same loader ``qr-terminal run`` uses."""
    from terminal.i18n import default_language
    from terminal.manager_pin import hash_pin, write_hash, write_secret

    payee = sandbox.payee if args.hub else sandbox.book.payee
    host = urlsplit(sandbox.public_url).netloc or "127.0.0.1"  # with its port: the guard refuses others
    sections: dict[str, dict[str, object]] = {
        "terminal": {
            "id": "T1",
            "currency": args.currency,
            "max_amount": demo_maximum(args.currency).decimal(),
            "sale_ttl": max(ttl, 30),  # a config's shortest; the demo's shorter --ttl is set on the loaded config
            "result_seconds": 4 if headless else 10,
            "journal": str((args.db or folder / "journal.db").absolute()),
        },
        "merchant": {"name": "Demo Shop", "address": ["1 Sandbox Street"], "store": "Demo"},
        "payee": {"name": payee.name, "ids": [payee.id], "url_hosts": [host]},
        "backend": {"url": sandbox.url, "sandbox": True},
        "display": {
            "fullscreen": False,
            "width": size[0],
            "height": size[1],
            "rotate": args.rotate,
            "language": args.language or default_language(args.currency),
        },
        "secrets": {"file": "secrets.toml"},
        # The demo's LEDs and buzzer live on gpiozero's MockFactory: --gpio-log shows what a Pi's pins would do.
        "indicators": {"green": LEDS.green, "red": LEDS.red, "amber": LEDS.amber, "buzzer": LEDS.buzzer},
        "gpio": {"mock": True},
    }
    if args.receipts:
        sections["printer"] = {
            "connection": "directory",
            "device": str(args.receipts.absolute()),
            "profile": "TM-T20II",
            "auto_print": "always",
            "footer": ["Thank you!", "Nothing real was paid."],
        }
    if voice:
        from terminal.commands.voice import USER_CACHE

        sections["voice"] = {"enabled": True, "language": voice, "volume": 80, "cache": str(USER_CACHE)}
    if args.till:
        kind, _, device = args.till.partition(":")
        # With QR_TERMINAL_TILL_SECRET set (the loader reads it), the demo's till must AUTH (protocol v2).
        auth = "tcp" if os.environ.get("QR_TERMINAL_TILL_SECRET") else "off"
        sections["till"] = {"kind": kind, "device": device, "host": "127.0.0.1", "auth": auth}
    (folder / "terminal.toml").write_text(_toml(sections))
    # The demo's manager PIN (menu: * on a numpad, or M): a sandbox secret, printed for whoever runs it.
    secrets = folder / "secrets.toml"
    write_secret(secrets, "device_token", token)
    write_hash(secrets, hash_pin(DEMO_PIN))


def _toml(sections: dict[str, dict[str, object]]) -> str:
    """``sections`` as TOML: strings, whole numbers, booleans and lists of strings (JSON writes each of them as
    TOML reads it)."""
    lines = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def demo_maximum(currency: str) -> Amount:
    """The demo's largest sale: 10,000,000 in the currency's major unit (the keypad refuses a digit beyond it)."""
    return Amount(10_000_000 * 10 ** Amount(0, currency).exponent, currency)


def _untypeable(amount: Amount, maximum: Amount) -> str:
    """What the keypad says to ``amount`` typed on it (a digit over the maximum, zero), or "" when typing it
    charges that very amount: the demo types it through the same keys, and must never charge another."""
    entry = AmountEntry(amount.currency, maximum)
    for char in amount.decimal():
        entry = entry.press(Key(char))
        if entry.message:
            return entry.message
    entry, charged = entry.submit()
    if charged != amount:
        return entry.message or f"it would charge {charged}"
    return ""


def _till_problem(till: str | None) -> str:
    """What is wrong with ``--till KIND:DEVICE``, or ""."""
    if till is None:
        return ""
    from terminal.devices.till_link import KINDS

    kind, _, device = till.partition(":")
    if kind not in KINDS or not device:
        return f"--till takes KIND:DEVICE, KIND one of {', '.join(KINDS)}, DEVICE a serial device or tcp:PORT"
    port = device.removeprefix("tcp:")
    if device.startswith("tcp:") and not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"--till {till}: the TCP port must be a number from 1 to 65535"
    return ""


def _unusable_output(args: argparse.Namespace, headless: bool) -> str:
    """Make the folders and files the demo writes (--frames, --receipts, --db, --gpio-log) before it starts, so
    a path it cannot write stops it at once with a sentence instead of failing after the sale; or ""."""
    folders = {"--frames": (args.frames or Path("demo-frames")) if headless else None, "--receipts": args.receipts}
    for option, folder in folders.items():
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except FileExistsError:
            return f"{option} {folder}: that is a file, not a folder"
        except OSError as exc:
            return f"{option} {folder}: cannot write there ({exc.strerror or exc})"
    for option, file in {"--db": args.db, "--gpio-log": args.gpio_log}.items():
        if file is None:
            continue
        try:
            with file.open("ab"):
                pass
        except OSError as exc:
            return f"{option} {file}: cannot write it ({exc.strerror or exc})"
    return ""


class VoiceChoiceError(ValueError):
    """--voice names a language the terminal cannot speak."""


def _hub(args: argparse.Namespace, folder: Path):  # type: ignore[no-untyped-def]
    """A qr-hub in this process (SQLite in ``folder``, simulated provider) and terminal T1's enrolled token."""
    if args.scheme != "url" or args.lan or args.till:
        print(
            "qr-terminal demo: --hub shows the hub's pay-page link only (no --scheme, --lan or --till)", file=sys.stderr
        )
        return None, ""
    try:
        from hub.local import LocalHub
    except ImportError:
        print(
            "qr-terminal demo: --hub needs the hub's packages: pip install '.[hub]' (scripts/demo --hub does it)",
            file=sys.stderr,
        )
        return None, ""
    hub = LocalHub(f"sqlite:///{folder / 'hub.db'}").start()
    print(f"Hub: contract v1.1 at {hub.url}/v1, terminal T1 enrolled (requests signed)", file=sys.stderr)
    return hub, hub.enrolled_token("T1", "Demo Shop")


def _voice_language(args: argparse.Namespace) -> str | None:
    if args.voice is None:
        return None
    from terminal.config import VOICE_BY_CURRENCY
    from terminal.core.speech import LANGUAGES

    if args.voice == "auto":
        return VOICE_BY_CURRENCY.get(args.currency, "en")
    if args.voice not in LANGUAGES:
        raise VoiceChoiceError(f"--voice must be one of {', '.join(LANGUAGES)}")
    return str(args.voice)


class Scripted:
    """One sale typed through the real key path, the customer acting on the QR, frames and JSON lines out."""

    def __init__(self, app: App, sandbox: Sandbox, args: argparse.Namespace) -> None:
        self.app, self.sandbox = app, sandbox
        self.frames = FrameWriter(args.frames or Path("demo-frames"))
        self.expected = EXPECTED[args.customer]
        self.customer = Customer(args.customer)
        self.outcome: str | None = None
        app.observer.frame = self.on_frame
        app.observer.transition = self.on_transition

    def on_frame(self, model: ScreenModel, display: Display) -> None:
        self.frames.draw(model, display)
        sale = self.app.state.sale
        if model.name == "qr" and sale is not None and sale.order is not None:
            self.customer.act(sale.order.qr.payload, sale.order.id, self.sandbox.url)

    def on_transition(self, effect: JournalSale, now: Now) -> None:
        _emit(effect, now)
        if effect.sale.status.is_final:
            self.outcome = str(effect.sale.status)

    def run(self, amount: Amount) -> int:
        import pygame

        from terminal.devices.keypad import CHAR_KEYS

        for char in amount.decimal():
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=CHAR_KEYS[char], mod=0, unicode=char, scancode=0))
        deadline = time.monotonic() + self.app.state.settings.sale_ttl + 30
        entered = False

        def done(app: App) -> bool:
            nonlocal entered
            shown = app.display.shown
            if not entered and shown is not None and shown.name == "entry":  # the typing screen is drawn
                enter = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP_ENTER, mod=0, unicode="\r", scancode=0)
                pygame.event.post(enter)
                entered = True
            finished = self.outcome is not None and shown is not None and shown.name in RESULT_SCREENS
            printed = app.print_queue is None or app.print_queue.pending() == 0
            return (finished and printed) or time.monotonic() > deadline

        self.app.run(until=done)
        self.frames.flush()
        self.customer.join()
        # No outcome: the QR's time ran out (and 30 s more), or a stop (Ctrl-C, SIGTERM) came first.
        status = self.outcome or ("timeout" if time.monotonic() > deadline else "stopped")
        print(json.dumps({"result": status, "expected": self.expected, "frames": str(self.frames.folder)}), flush=True)
        return 0 if status == self.expected else 1


class TillServed(Scripted):
    """Headless with a till: the till types the amounts; the customer acts on every QR; counts ended sales."""

    def __init__(self, app: App, sandbox: Sandbox, args: argparse.Namespace) -> None:
        super().__init__(app, sandbox, args)
        self.action = args.customer
        self.limit: int | None = args.sales
        self.ended = 0
        self.acted: dict[str, Customer] = {}

    def on_frame(self, model: ScreenModel, display: Display) -> None:
        self.frames.draw(model, display)
        sale = self.app.state.sale
        if model.name == "qr" and sale is not None and sale.order is not None and sale.order.id not in self.acted:
            customer = self.acted[sale.order.id] = Customer(self.action)
            customer.act(sale.order.qr.payload, sale.order.id, self.sandbox.url)

    def on_transition(self, effect: JournalSale, now: Now) -> None:
        _emit(effect, now)
        if effect.sale.status.is_final and effect.previous in ("creating", "awaiting_payment"):
            self.ended += 1

    def serve(self) -> int:
        def done(app: App) -> bool:
            return self.limit is not None and self.ended >= self.limit

        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends serving, and says how many sales ended
            self.app.run(until=done)
        self.frames.flush()
        print(json.dumps({"sales": self.ended, "frames": str(self.frames.folder)}), flush=True)
        return 0 if self.limit is None or self.ended >= self.limit else 1


class FrameWriter:
    """Writes every run of one screen name as ``NN-<name>.png`` the moment it is drawn (someone watching the
    folder sees the sale progress), re-written while the run keeps its title (the countdown moves): the
    typing screen stays the typed amount, not the "Preparing QR…" that follows it under the same name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("[0-9][0-9]-*.png"):
            old.unlink()
        self.count = 0
        self._run: tuple[str, str] | None = None

    def draw(self, model: ScreenModel, display) -> None:  # type: ignore[no-untyped-def]
        import pygame

        if self._run is None or self._run[0] != model.name:
            if self._run is not None:
                self.count += 1
            self._run = (model.name, model.title)
        elif self._run[1] != model.title:
            return
        path = self.folder / f"{self.count:02d}-{model.name}.png"
        partial = path.with_suffix(".part.png")
        pygame.image.save(display.screen, str(partial))
        partial.replace(path)  # a watcher never opens half a file

    def flush(self) -> None:
        """Nothing waits: every frame is written when drawn."""


class Customer:
    """The customer's phone: opens the QR's page and presses Pay or Decline (or does nothing)."""

    def __init__(self, action: str) -> None:
        self.action = action
        self._thread: threading.Thread | None = None

    def act(self, payload: str, order_id: str, sandbox_url: str) -> None:
        if self.action == "ignore" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._press, args=(payload, order_id, sandbox_url), daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(5)

    def _press(self, payload: str, order_id: str, sandbox_url: str) -> None:
        button = "pay" if self.action == "pay" else "decline"
        if payload.startswith("http"):
            page = payload.split("?")[0]
            requests.get(page, timeout=5).raise_for_status()  # a phone opens the page first
            requests.post(f"{page}/{button}", timeout=5, allow_redirects=False).raise_for_status()
        else:  # a UPI payload: no page to open; the sandbox's helper plays the customer's bank
            helper = "pay" if button == "pay" else "fail"
            requests.post(f"{sandbox_url}/sandbox/orders/{order_id}/{helper}", json={}, timeout=5).raise_for_status()


def _emit(effect: JournalSale, now: Now) -> None:
    sale = effect.sale
    line = {
        "at": now.wall.isoformat(timespec="milliseconds"),
        "sale": sale.reference,
        "from": effect.previous,
        "to": str(sale.status),
        "amount": sale.amount.decimal(),
        "currency": sale.amount.currency,
        "order": sale.order.id if sale.order else None,
        "cause": effect.cause,
    }
    print(json.dumps(line), flush=True)


def _print_transition(sandbox: Any) -> Callable[[JournalSale, Now], None]:
    def show(effect: JournalSale, now: Now) -> None:
        _emit(effect, now)
        order = effect.sale.order
        if order is not None and effect.sale.status == "awaiting_payment":
            print(f"Customer page: {sandbox.public_url}/pay/{order.id}", file=sys.stderr, flush=True)

    return show

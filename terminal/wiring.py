"""The one place a terminal is built: :func:`build_terminal` turns a :class:`~terminal.config.Config` into a
:class:`Terminal` ready to run — backend, journal, display, LEDs and buzzer, GPIO keypad and buttons, till link,
voice and receipt printer. ``qr-terminal run``, ``qr-terminal demo`` and the tests all build theirs here.

The App gets its parts in its constructor. The till and the printer talk back to the loop, so the App is handed
how to open them and opens them with its own ``post``; the GPIO keypad and buttons only post keys, so they are
opened right after the App, with its ``post``. Tests hand their doubles in through the config (SDL's dummy
driver, gpiozero's MockFactory with ``gpio.mock``, a printer on a file or a directory, a till on a pty) or
through the keyword arguments below — never by changing the App after it was built.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from terminal.app import App, Observer, Post, read_clock
from terminal.backends.base import Backend
from terminal.backends.http import HttpBackend
from terminal.config import Config
from terminal.core import guard
from terminal.core.clock import Now
from terminal.core.events import Event, KeyPressed, PrinterChanged
from terminal.core.machine import Settings
from terminal.core.receipt import ShopDetails
from terminal.devices.display import Display
from terminal.devices.printer import PrinterConfig, PrinterError, PrintQueue, ReceiptPrinter
from terminal.devices.till_link import TillLink
from terminal.devices.voice import Voice
from terminal.hardware import Hardware, open_gpio
from terminal.manager_pin import PinChecker
from terminal.service import ServiceNotifier
from terminal.store.journal import RESERVE_BYTES, Journal, JournalError

log = logging.getLogger(__name__)

#: Opens the till's link with the loop's ``post`` (the link posts what the till asks).
TillOpener = Callable[[Callable[[Event], None]], TillLink]


class CannotStart(Exception):
    """A part the terminal cannot run without would not open: the message is one sentence saying which and why;
    ``part`` names it ("journal" or "display")."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part


@dataclass
class Terminal:
    """A terminal built from its config: the App (the loop) and the parts it runs on, closed together."""

    app: App
    journal: Journal
    display: Display
    hardware: Hardware

    def run(self, until: Callable[[App], bool] | None = None) -> None:
        """Run the loop (see :meth:`App.run`) until it stops; the parts stay open until :meth:`close`."""
        self.app.run(until)

    def close(self) -> None:
        """Release the pins, the journal and the display."""
        self.hardware.close()
        self.journal.close()
        self.display.close()


def build_terminal(
    config: Config,
    *,
    backend: Backend | None = None,
    display: Display | None = None,
    title: str = "QR Terminal",
    clock: Callable[[], Now] = read_clock,
    observer: Observer | None = None,
    service: ServiceNotifier | None = None,
    pin_factory: Any = None,
    till: TillOpener | None = None,
    escpos_cache: Path | None = None,
    probe_every: tuple[float, float] = (30.0, 3.0),
    journal_reserve: int = RESERVE_BYTES,
    migrate_in_child: bool = False,
) -> Terminal:
    """The terminal ``config`` describes, ready to run. Raises :class:`CannotStart` when the journal or the
    display will not open; the optional parts (LEDs, keypad, buttons, printer) that will not are logged and left
    out, so the counter keeps selling.

    The keywords are for what a config cannot say: ``backend`` (a provider adapter pointed at a fake),
    ``display`` (one already open) and its window ``title``, the ``clock``, the ``observer`` hooks,
    the systemd ``service`` notifier (default: from the environment), a gpiozero ``pin_factory``, a ``till``
    opener (a link with test timings), the escpos profile cache (default: systemd's ``CACHE_DIRECTORY``), how
    often the backend is probed (``probe_every``: online, offline seconds), the journal's disk reserve, and
    whether a pending migration of the journal is applied in a child process (``run``: sqlite-utils never loads).
    """
    if config.display.driver:
        os.environ.setdefault("SDL_VIDEODRIVER", config.display.driver)
    try:
        journal = Journal(  # checked in App.run, after the ready screen
            config.terminal.journal, reserve=journal_reserve, check=False, migrate_in_child=migrate_in_child
        )
    except JournalError as exc:
        raise CannotStart("journal", str(exc)) from None
    if display is None:
        try:
            display = open_display(config, title)
        except CannotStart:
            journal.close()
            raise
    hardware = open_gpio(mock=config.gpio_mock, factory=pin_factory)
    printer = open_printer(config.printer, escpos_cache or _systemd_cache()) if config.printer else None
    shop = shop_from(config)
    if printer is not None:
        from terminal.i18n import paper_words

        shop = replace(shop, paper=paper_words(shop.words, printer.can_print))
    try:
        app = App(
            settings=settings_from(config),
            backend=backend or backend_from(config),
            journal=journal,
            display=display,
            long_poll=config.backend.long_poll,
            poll_interval=config.backend.poll_interval,
            fps=config.display.fps,
            observer=observer,
            clock=clock,
            indicators=hardware.open_indicators(config.indicators),
            shop=shop,
            service=service or ServiceNotifier(),
            probe_every=probe_every,
            pin_checker=PinChecker(config.secrets_path),
            voice=open_voice(config),
            till=till or till_opener(config),
            printer=_queue_for(printer) if printer is not None else None,
        )
    except BaseException:  # a part that raised while the App opened it: release what was opened before it
        hardware.close()
        journal.close()
        display.close()
        raise
    hardware.open_keys(config.keypad, config.buttons, lambda key: app.post(KeyPressed(key)))
    return Terminal(app, journal, display, hardware)


def open_display(config: Config, title: str = "QR Terminal") -> Display:
    """The screen ``[display]`` describes. Raises :class:`CannotStart` (no such driver, no /dev/dri, no
    permission) with the sentence the integrator acts on."""
    d = config.display
    try:
        return Display(size=(d.width, d.height), fullscreen=d.fullscreen, rotate=d.rotate, title=title)
    except Exception as exc:  # pygame.error, and whatever a driver raises: never a traceback
        driver = os.environ.get("SDL_VIDEODRIVER", "SDL's default")
        problem = f"cannot open the display (driver {driver}): {exc}. Run 'qr-terminal doctor'."
        raise CannotStart("display", problem) from None


def settings_from(config: Config) -> Settings:
    """The core's settings from the config."""
    t = config.terminal
    return Settings(
        terminal_id=t.id,
        merchant_name=config.merchant_name,
        currency=t.currency,
        maximum=t.max_amount,
        payee=guard.PayeeRules(
            config.payee.name,
            config.payee.ids,
            config.payee.url_hosts,
            config.payee.allow_unknown_formats,
            config.payee.emv_networks,
        ),
        sale_ttl=t.sale_ttl,
        result_seconds=t.result_seconds,
        create_timeout=float(config.backend.timeout + 10),
        id_prefix=secrets.token_hex(4),
        auto_print=config.printer.auto_print if config.printer else "never",
        offline=config.offline,
        voice_language=config.voice.language if config.voice else None,
        voice_failures=config.voice.failures if config.voice else True,
        till_manager=bool(config.till and config.till.manager_commands),
        minimum=config.backend.minimum,
        minimum_reason=config.backend.minimum_reason,
        refunds_elsewhere=config.backend.refunds_elsewhere,
    )


def shop_from(config: Config) -> ShopDetails:
    """Who the receipts say printed them."""
    footer = config.printer.footer if config.printer else ()
    from terminal.i18n import words_for

    return ShopDetails(
        config.merchant_name,
        config.merchant_address,
        config.store,
        config.terminal.id,
        footer,
        words_for(config.display.language),
    )


def backend_from(config: Config) -> Backend:
    """The backend named by ``backend.kind``: contract v1 over HTTP(S), or a payment provider's own API."""
    b = config.backend
    keys = config.credentials
    if b.kind == "razorpay":
        from terminal.backends.razorpay import RazorpayBackend

        return RazorpayBackend(
            keys["razorpay_key_id"],
            keys["razorpay_key_secret"],
            api_base=b.url,
            timeout=b.timeout,
            ca_file=b.ca_file,
            allow_plain_http=b.allow_plain_http,
            image_hosts=b.image_hosts,
        )
    if b.kind == "stripe":
        from terminal.backends.stripe import StripeBackend

        return StripeBackend(
            keys["stripe_secret_key"],
            b.method,
            api_base=b.url,
            timeout=b.timeout,
            ca_file=b.ca_file,
            allow_plain_http=b.allow_plain_http,
        )
    return HttpBackend(
        b.url,
        config.device_token,
        timeout=b.timeout,
        allow_plain_http=b.allow_plain_http,
        ca_file=b.ca_file,
        sandbox=b.sandbox,
    )


def open_printer(config: PrinterConfig, cache_dir: Path | None = None) -> ReceiptPrinter | None:
    """The receipt printer ``[printer]`` describes (None, logged, when its profile is unknown)."""
    try:
        return ReceiptPrinter(config, cache_dir=cache_dir)
    except PrinterError as exc:
        log.error("receipt printer not used: %s", exc)
        return None


def _queue_for(printer: ReceiptPrinter) -> Callable[[Post], PrintQueue]:
    """Opens the print queue with the loop's ``post`` (done jobs, and the printer's problems as they change)."""

    def start(post: Post) -> PrintQueue:
        return PrintQueue(printer, post, lambda problem: post(PrinterChanged(problem)))

    return start


def till_opener(config: Config) -> TillOpener | None:
    """How the till's link ``[till]`` describes is opened (None when no till is wired)."""
    t = config.till
    if t is None:
        return None
    from terminal.devices.till_link import open_till

    def start(post: Callable[[Event], None]) -> TillLink:
        return open_till(
            t.kind,
            t.device,
            post,
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

    return start


def open_voice(config: Config) -> Voice | None:
    """The terminal's voice from ``[voice]`` (None when it is not enabled); the cache is filled in its thread."""
    v = config.voice
    if v is None:
        return None
    from terminal.core.speech import vocabulary
    from terminal.devices.voice import ClipCache

    cache = ClipCache(v.cache, v.language, v.voice)
    return Voice(cache, volume=v.volume, warm=sorted(vocabulary(v.language, (config.terminal.currency,))))


def _systemd_cache() -> Path | None:
    """systemd's ``CacheDirectory=`` (where escpos keeps its profile cache), when it set one."""
    cache = os.environ.get("CACHE_DIRECTORY")
    return Path(cache) / "escpos" if cache else None

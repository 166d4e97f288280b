"""A real terminal for end-to-end tests, built by terminal.wiring from a config: SDL dummy display, a real journal,
a real backend."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygame

from terminal.app import App, Observer
from terminal.backends.base import Backend
from terminal.config import BackendSection, Config, DisplaySection, PayeeSection, TerminalSection
from terminal.core.effects import JournalSale
from terminal.core.money import Amount
from terminal.core.screen import ScreenModel
from terminal.devices.display import Display
from terminal.devices.keypad import CHAR_KEYS
from terminal.sandbox.server import DEFAULT_TOKEN
from terminal.service import ServiceNotifier
from terminal.store.journal import Journal
from terminal.wiring import Terminal as Built
from terminal.wiring import TillOpener, build_terminal

from .core.helpers import SETTINGS
from .test_printer import CACHE

#: Every App the tests made, so a fixture can stop their background threads after each test.
MADE: list[App] = []

KEYS = {
    "E": pygame.K_KP_ENTER,
    "C": pygame.K_ESCAPE,
    "<": pygame.K_BACKSPACE,
    "r": pygame.K_r,
    "M": pygame.K_KP_MULTIPLY,
    "v": pygame.K_v,
    "f": pygame.K_f,
    **CHAR_KEYS,
}


@dataclass
class Recorder:
    """Every frame (saved as PNG) and every journaled transition, in order."""

    folder: Path
    frames: list[tuple[ScreenModel, Path]] = field(default_factory=list)
    transitions: list[JournalSale] = field(default_factory=list)

    def frame(self, model: ScreenModel, display: Display) -> None:
        path = self.folder / f"{len(self.frames):03d}-{model.name}.png"
        display.save(path)
        self.frames.append((model, path))

    def first(self, name: str) -> tuple[ScreenModel, Path]:
        return next(f for f in self.frames if f[0].name == name)


class Terminal:
    """Drives an App the way a shopkeeper does: keys in, screens out. ``built``: what terminal.wiring built (its
    hardware among it)."""

    def __init__(self, app: App, recorder: Recorder, journal: Journal, built: Built) -> None:
        self.app, self.recorder, self.journal, self.built = app, recorder, journal, built

    def press(self, keys: str) -> None:
        for char in keys:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=KEYS[char], mod=0, unicode=char, scancode=0))
        self.app.pump()

    def until(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                shown = self.app.display.shown
                raise AssertionError(f"timed out; screen is {shown.name if shown else None}: {shown}")
            self.app.pump()
            time.sleep(0.005)

    def until_screen(self, name: str, timeout: float = 10.0) -> ScreenModel:
        self.until(lambda: self.screen.name == name, timeout)
        return self.screen

    @property
    def screen(self) -> ScreenModel:
        assert self.app.display.shown is not None
        return self.app.display.shown


def terminal_config(
    tmp_path: Path,
    url: str,
    *,
    token: str = DEFAULT_TOKEN,
    timeout: float = 3,
    payee_id: str = "demo-shop@sandbox",
    currency: str = "INR",
    size: tuple[int, int] = (800, 480),
    journal_path: Path | None = None,
    sale_ttl: int = 300,
    result_seconds: int = 10,
    language: str = "en",
    minimum: Amount | None = None,
    minimum_reason: str = "",
    refunds_elsewhere: str = "",
    **sections: Any,
) -> Config:
    """The config of a test's terminal: Chai Point's T1 on the backend at ``url`` (a sandbox by default), a
    window of ``size`` on SDL's dummy driver, the journal in ``tmp_path``; quick polls, and timings a config file
    would refuse (a QR that lives a second); a provider's ``minimum`` and refund rules. ``sections``: further
    Config fields (printer, till, offline, voice, indicators, gpio_mock, keypad, buttons, secrets_path)."""
    host = url.split("//")[1].split(":")[0]
    return Config(
        path=tmp_path / "terminal.toml",
        merchant_name=SETTINGS.merchant_name,
        terminal=TerminalSection(
            id=SETTINGS.terminal_id,
            currency=currency,
            max_amount=Amount(10**9, currency),
            sale_ttl=sale_ttl,
            result_seconds=result_seconds,
            journal=journal_path or tmp_path / "journal.db",
        ),
        payee=PayeeSection(
            name=SETTINGS.payee.name, ids=(payee_id,), url_hosts=(host,), allow_unknown_formats=False, emv_networks=()
        ),
        backend=BackendSection(
            kind="http",
            url=url,
            api_base="",
            method="",
            timeout=timeout,
            long_poll=5,
            poll_interval=0.2,
            allow_plain_http=False,
            ca_file=None,
            sandbox=True,
            image_hosts=(),
            minimum=minimum,
            minimum_reason=minimum_reason,
            refunds_elsewhere=refunds_elsewhere,
        ),
        display=DisplaySection(
            driver="", fullscreen=False, width=size[0], height=size[1], rotate=0, fps=20, language=language
        ),
        device_token=token,
        **sections,
    )


def make_terminal(
    tmp_path: Path,
    url: str,
    *,
    backend: Backend | None = None,
    probe_every: tuple[float, float] = (30.0, 3.0),
    reserve: int = 64 * 1024,
    till_link: TillOpener | None = None,
    pin_factory: Any = None,
    service: ServiceNotifier | None = None,
    escpos_cache: Path = CACHE,
    **config: Any,
) -> Terminal:
    """A terminal built as ``qr-terminal run`` builds one (terminal.wiring), from :func:`terminal_config`
    (``config`` holds its options), recording every frame and transition; the keywords are build_terminal's."""
    recorder = Recorder(tmp_path)
    built = build_terminal(
        terminal_config(tmp_path, url, **config),
        backend=backend,
        observer=Observer(transition=lambda e, now: recorder.transitions.append(e), frame=recorder.frame),
        service=service or ServiceNotifier({}),
        pin_factory=pin_factory,
        till=till_link,
        probe_every=probe_every,
        escpos_cache=escpos_cache,
        journal_reserve=reserve,
    )
    built.app.render()
    MADE.append(built.app)
    return Terminal(built.app, recorder, built.journal, built)

"""A real terminal for end-to-end tests: App + SDL dummy display + a real journal + a real backend."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pygame

from terminal.app import App, Observer
from terminal.backends.http import HttpBackend
from terminal.core.effects import JournalSale
from terminal.core.money import Amount
from terminal.core.screen import ScreenModel
from terminal.devices.display import Display
from terminal.devices.keypad import CHAR_KEYS
from terminal.sandbox.server import DEFAULT_TOKEN
from terminal.store.journal import Journal

from .core.helpers import SETTINGS

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
    """Drives an App the way a shopkeeper does: keys in, screens out."""

    def __init__(self, app: App, recorder: Recorder, journal: Journal) -> None:
        self.app, self.recorder, self.journal = app, recorder, journal

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


def make_terminal(
    tmp_path: Path,
    url: str,
    *,
    size=(800, 480),
    token: str = DEFAULT_TOKEN,
    timeout: float = 3,
    payee_id: str = "demo-shop@sandbox",
    currency: str = "INR",
    probe_every=(30.0, 3.0),
    pin_checker=None,
    backend=None,
    journal_path: Path | None = None,
    reserve: int = 64 * 1024,
    **settings_changes,
) -> Terminal:
    host = url.split("//")[1].split(":")[0]
    payee = replace(SETTINGS.payee, ids=(payee_id,), url_hosts=(host,))
    settings = replace(SETTINGS, payee=payee, currency=currency, maximum=Amount(10**9, currency), **settings_changes)
    journal = Journal(journal_path or tmp_path / "journal.db", reserve=reserve)
    recorder = Recorder(tmp_path)
    display = Display(size=size)
    app = App(
        settings=settings,
        backend=backend or HttpBackend(url, token, timeout=timeout, sandbox=True),
        journal=journal,
        display=display,
        long_poll=5,
        poll_interval=0.2,
        probe_every=probe_every,
        pin_checker=pin_checker,
        observer=Observer(transition=lambda e, now: recorder.transitions.append(e), frame=recorder.frame),
    )
    app.render()
    MADE.append(app)
    return Terminal(app, recorder, journal)

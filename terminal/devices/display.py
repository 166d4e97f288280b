"""The screen: full screen on the Pi (SDL's KMSDRM driver), a window on a desktop, SDL's dummy driver in
tests and headless demos. Draws a ScreenModel only when asked; ``display.rotate`` turns portrait panels."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pygame

from terminal.core.screen import ScreenModel
from terminal.devices.painter import Painter
from terminal.devices.qr_surface import QrTooLarge, qr_surface


class Display:
    """A pygame display of ``size`` (``(0, 0)``: the screen's own), rotated by ``rotate`` degrees."""

    def __init__(
        self, *, size: tuple[int, int] = (0, 0), fullscreen: bool = False, rotate: int = 0, title: str = "QR Terminal"
    ) -> None:
        if rotate not in (0, 90, 180, 270):
            raise ValueError(f"display.rotate must be 0, 90, 180 or 270, not {rotate}")
        pygame.display.init()
        pygame.font.init()
        flags = pygame.FULLSCREEN if fullscreen else 0
        if size == (0, 0) and not fullscreen and os.environ.get("SDL_VIDEODRIVER") == "dummy":
            size = (800, 480)
        self.screen = pygame.display.set_mode(size, flags)
        pygame.display.set_caption(title)
        if fullscreen:
            pygame.mouse.set_visible(False)
        self.rotate = rotate
        width, height = self.screen.get_size()
        self.canvas = (
            self.screen if rotate == 0 else pygame.Surface((height, width) if rotate in (90, 270) else (width, height))
        )
        self.painter = Painter()
        self.shown: ScreenModel | None = None

    @property
    def size(self) -> tuple[int, int]:
        """The layout size (after rotation)."""
        return self.canvas.get_size()

    def draw(self, model: ScreenModel) -> None:
        """Paint ``model`` and flip it onto the screen."""
        self.painter.paint(self.canvas, model)
        if self.rotate:
            # Multiples of 90° move pixels exactly: the QR's modules stay sharp.
            self.screen.blit(pygame.transform.rotate(self.canvas, -self.rotate), (0, 0))
        pygame.display.flip()
        self.shown = model

    def warm_up(self, model: ScreenModel) -> None:
        """Draw ``model`` where nobody sees it: the fonts of its sizes and the QR encoder are loaded before the
        first sale needs them (its first QR was three times slower than the next). It is painted on the canvas,
        which shows nothing until the next flip, and the screen shown is painted back over it: no second
        full-screen surface (1.5 MB at 800×480) at the ready screen. Its QR is not kept (230 kB): no sale shows
        it; a sale's QR made ahead meanwhile is (the cache then holds more than the warm-up's)."""
        Painter(self.painter.fonts).paint(self.canvas, model)
        if qr_surface.cache_info().currsize == 1 and model.qr is not None:
            qr_surface.cache_clear()
        if self.shown is not None:
            self.painter.paint(self.canvas, self.shown)

    def prepare_qr(self, payload: str) -> None:
        """Make the QR of ``payload`` for this screen ahead of drawing it (any thread; it is kept for the draw)."""
        with contextlib.suppress(QrTooLarge, pygame.error):  # the draw says so
            qr_surface(payload, min(self.size))

    def save(self, path: str | Path) -> None:
        """Write what is on the screen as a PNG."""
        pygame.image.save(self.screen, str(path))

    def close(self) -> None:
        """Close the window or release the screen."""
        pygame.display.quit()

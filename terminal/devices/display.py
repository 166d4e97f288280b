"""The screen: full screen on the Pi (SDL's KMSDRM driver), a window on a desktop, SDL's dummy driver in
tests and headless demos. Draws a ScreenModel only when asked; ``display.rotate`` turns portrait panels.

A frame may be painted ahead (:meth:`Display.paint_ahead`) on the display's own thread while the loop waits for
the disk: it is painted on the canvas, which shows nothing until the flip, and only :meth:`Display.draw` of the
same model flips it — after the step that leads to it committed.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from terminal.core.screen import ScreenModel
from terminal.devices.painter import Painter
from terminal.devices.qr_surface import qr_surface
from terminal.threads import Lane

log = logging.getLogger(__name__)

#: How long a draw waits for a frame being painted ahead (a paint takes about a millisecond): past this the
#: painting thread is stuck, and the draw paints the frame itself rather than freeze the counter.
AHEAD_WAIT = 2.0


@dataclass(eq=False)
class _Ahead:
    """A frame being painted ahead: its model, and ``done`` once painted (``ok``: without an error)."""

    model: ScreenModel
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


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
        #: The frame painted (or being painted) ahead on the canvas and not drawn yet.
        self._ahead: _Ahead | None = None
        self._painting = Lane("display-ahead")
        self._painting_stopped = False
        #: Frames flipped as they were painted ahead (the bench and tests read it).
        self.drawn_ahead = 0

    @property
    def size(self) -> tuple[int, int]:
        """The layout size (after rotation)."""
        return self.canvas.get_size()

    def draw(self, model: ScreenModel) -> None:
        """Paint ``model`` and flip it onto the screen (painted already when it was painted ahead)."""
        ahead = self._settle()
        if ahead is not None and ahead.ok and ahead.model == model:
            self.drawn_ahead += 1
        else:
            self.painter.paint(self.canvas, model)
        if self.rotate:
            # Multiples of 90° move pixels exactly: the QR's modules stay sharp.
            self.screen.blit(pygame.transform.rotate(self.canvas, -self.rotate), (0, 0))
        pygame.display.flip()
        if model.qr is None and self.shown is not None and self.shown.qr is not None:
            qr_surface.cache_clear()  # the QR has left the screen: its surface (230 kB at 800×480) goes too
        self.shown = model

    def paint_ahead(self, model: ScreenModel) -> None:
        """Start painting ``model`` on the canvas on the display's own thread, and return at once: the loop
        thread commits the step that leads to it meanwhile (its fsync holds no interpreter lock). Nothing of it
        shows before :meth:`draw` of the same model flips it; a draw of any other model paints over it."""
        self._settle()
        if self._painting_stopped:
            return
        ahead = self._ahead = _Ahead(model)
        self._painting.submit(lambda: self._paint_ahead(ahead))

    def _paint_ahead(self, ahead: _Ahead) -> None:
        try:
            self.painter.paint(self.canvas, ahead.model)
            ahead.ok = True
        except (pygame.error, ValueError, TypeError) as exc:  # the draw paints it again, and says what is wrong
            log.warning("painting ahead %s failed: %s", ahead.model.name, exc)
        finally:
            ahead.done.set()

    def _settle(self) -> _Ahead | None:
        """Wait for the frame being painted ahead and forget it; it is returned (None: nothing was painted
        ahead since the last draw)."""
        ahead, self._ahead = self._wait(), None
        return ahead

    def _wait(self) -> _Ahead | None:
        """Wait for the frame being painted ahead (if any): the canvas is the loop's again."""
        ahead = self._ahead
        if ahead is not None and not ahead.done.wait(AHEAD_WAIT):
            log.error("the display's painting thread is stuck: the loop paints every frame itself from now on")
            self._painting_stopped = True
        return ahead

    def stop(self) -> None:
        """Stop the painting thread (:meth:`draw` paints every frame from then on)."""
        self._settle()
        self._painting_stopped = True
        self._painting.stop(AHEAD_WAIT)

    def warm_up(self, model: ScreenModel) -> None:
        """Draw ``model`` where nobody sees it: the fonts of its sizes and the QR encoder are loaded before the
        first sale needs them (its first QR was three times slower than the next). It is painted on the canvas,
        which shows nothing until the next flip, and the screen shown is painted back over it: no second
        full-screen surface (1.5 MB at 800×480) at the ready screen. Its QR is not kept (230 kB): no sale shows
        it; the QR of a sale drawn before it (resumed at start) is. Its words are: most are every sale's. The
        painting thread starts here too, to wait for the first sale's frame."""
        self._settle()
        if not self._painting_stopped:
            self._painting.start()
        self.painter.paint(self.canvas, model)
        if qr_surface.cache_info().currsize == 1 and model.qr is not None:
            qr_surface.cache_clear()
        if self.shown is not None:
            self.painter.paint(self.canvas, self.shown)

    def save(self, path: str | Path) -> None:
        """Write what is on the screen as a PNG (a frame painted ahead and not drawn is not on it)."""
        if self._wait() is not None and not self.rotate:  # unrotated, the canvas is the screen's own surface
            self._settle()
            if self.shown is not None:
                self.painter.paint(self.canvas, self.shown)
        pygame.image.save(self.screen, str(path))

    def close(self) -> None:
        """Stop the painting thread; close the window or release the screen."""
        self.stop()
        pygame.display.quit()

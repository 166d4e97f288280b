"""Draws a ScreenModel on any pygame surface, laid out from the surface's own size.

The QR takes the screen's whole height (its whole width in portrait), at the largest whole number of pixels
per module that fits with its 4-module quiet zone; the words go beside (below) it, and screens up to 320 px
high keep only the amount and the payee there. Result
screens (paid, failed, …) fill the screen with one colour a shopkeeper can read from across the shop, and
carry a large icon and the result word at the amount's size, so they read without colour too.

The result colours are chosen for colour-blind eyes: under Machado et al. (2009) simulations of protanopia,
deuteranopia and tritanopia paid (teal green) and failed (vermilion) stay far apart (tests/test_display.py
computes it); the old green and red came out as the same olive-brown under deuteranopia.
"""

from __future__ import annotations

from dataclasses import replace

import pygame

from terminal.core.screen import Icon, ScreenModel, Tone
from terminal.devices.fonts import Face, Fonts
from terminal.devices.qr_surface import QrTooLarge, qr_surface

Colour = tuple[int, int, int]
#: Rendered texts kept for the next redraws: a screen has about ten (the QR screen and the one it came from fit);
#: each is an 8-bit image, the large ones of a result screen about a hundred kilobytes.
RENDERED = 24
#: Screens this high (or narrower) show only the QR, the amount and the payee on the QR screen.
COMPACT = 320
WHITE = (255, 255, 255)
INK = (17, 17, 17)
GREY = (90, 90, 90)
PAID_GREEN = (0, 122, 110)  # a blue-leaning green: stays apart from the failed colour for colour-blind eyes
FAILED_RED = (191, 76, 19)  # vermilion
AMBER = (255, 200, 40)
NO_QR_VIOLET = (80, 20, 140)  # no QR could be made: a problem to fix, not a decline (and never "paid")
CANCEL_GREY = (68, 68, 68)

#: Background and text colour of each result screen, by name.
COLOURS: dict[str, tuple[Colour, Colour]] = {
    "paid": (PAID_GREEN, WHITE),
    "failed": (FAILED_RED, WHITE),
    "error": (NO_QR_VIOLET, WHITE),
    "expired": (AMBER, INK),
    "unconfirmed": (AMBER, INK),
    "overpaid": (AMBER, INK),
    "underpaid": (AMBER, INK),
    "mismatch": (FAILED_RED, WHITE),
    "cancelled": (CANCEL_GREY, WHITE),
}
#: A result screen whose name is not above (a new outcome) takes its tone's colours.
TONE_COLOURS: dict[Tone, tuple[Colour, Colour]] = {
    Tone.GOOD: (PAID_GREEN, WHITE),
    Tone.BAD: (FAILED_RED, WHITE),
    Tone.WARN: (AMBER, INK),
    Tone.ATTENTION: (AMBER, INK),
    Tone.NEUTRAL: (CANCEL_GREY, WHITE),
}
TONE_INK = {
    Tone.BAD: FAILED_RED,
    Tone.GOOD: PAID_GREEN,
    Tone.WARN: (150, 100, 0),
    Tone.ATTENTION: (150, 100, 0),
    Tone.NEUTRAL: INK,
}


def colours_of(model: ScreenModel) -> tuple[Colour, Colour]:
    """(background, ink) of ``model``: a result's colour fills the screen; other screens are white."""
    if model.name in COLOURS:
        return COLOURS[model.name]
    if model.icon:
        return TONE_COLOURS[model.tone]
    return WHITE, INK


class Painter:
    """Paints screens; one per display (it caches fonts)."""

    def __init__(self, fonts: Fonts | None = None) -> None:
        self.fonts = fonts or Fonts()
        # Most of a screen's text is the same from one redraw to the next (the countdown changes).
        self._rendered: dict[tuple[str, int, Colour, Colour], pygame.Surface] = {}
        #: Where the SANDBOX mark was drawn on the last screen (None: not drawn).
        self.sandbox_box: pygame.Rect | None = None

    def paint(self, surface: pygame.Surface, model: ScreenModel) -> None:
        """Draw ``model`` filling ``surface``."""
        self.sandbox_box = None
        if model.qr is not None:
            try:
                qr = qr_surface(model.qr, min(surface.get_size()))
            except QrTooLarge:
                model = replace(model, qr=None, lines=(*model.lines, "This QR is too large for the screen"))
            else:
                self._qr_screen(surface, model, qr)
                return
        self._page(surface, model)

    def _page(
        self, surface: pygame.Surface, model: ScreenModel, *, countdown: bool = False, on: Colour | None = None
    ) -> None:
        """The top bar, the hint at the bottom, and the stack of words between them; ``on``: the colour the
        surface is filled with already (it is not filled again)."""
        width, height = surface.get_size()
        background, ink = colours_of(model)
        if background != on:
            surface.fill(background)
        unit = min(width, height)
        margin = max(4, unit // 40)
        top = self._top_bar(surface, model, ink, background, margin, unit)
        bottom = height - margin
        if model.hint:
            font = self.fonts.fit(model.hint, unit // 18, width - 2 * margin)
            bottom -= font.get_height()
            self._text(
                surface,
                model.hint,
                font,
                GREY if model.name in ("idle", "entry", "qr") else ink,
                (width // 2, bottom),
                anchor="midtop",
                on=background,
            )
        area = pygame.Rect(margin, top, width - 2 * margin, bottom - top - margin)
        self._stack(surface, model, area, ink, background, unit, countdown=countdown)

    def _qr_screen(self, surface: pygame.Surface, model: ScreenModel, qr: pygame.Surface) -> None:
        """The QR takes the whole height (the whole width in portrait), its quiet zone touching the edges; the
        words go in what is left. Small screens (≤ 320 px high) show only the amount and the payee beside it."""
        surface.fill(WHITE)  # once, whole: filling the words' part again cost 5 times this fill (row by row)
        width, height = surface.get_size()
        if height > width:
            rect = qr.get_rect(midtop=(width // 2, 0))
            panel = pygame.Rect(0, rect.bottom, width, height - rect.bottom)
        else:
            rect = qr.get_rect(midleft=(0, height // 2))
            panel = pygame.Rect(rect.right, 0, width - rect.right, height)
        surface.blit(qr, rect)
        words = surface.subsurface(panel)
        if min(width, height) <= COMPACT:
            payee = (model.payee,) if model.payee else ()
            model = ScreenModel(model.name, "", "", amount=model.amount, lines=payee, sandbox=model.sandbox)
        self._page(words, replace(model, qr=None), countdown=True, on=WHITE)
        if self.sandbox_box is not None:
            self.sandbox_box = self.sandbox_box.move(panel.topleft)

    # --- parts ------------------------------------------------------------------------------

    def _top_bar(
        self, surface: pygame.Surface, model: ScreenModel, ink: Colour, background: Colour, margin: int, unit: int
    ) -> int:
        width = surface.get_width()
        filled = background != WHITE
        font = self.fonts.get(unit // 16, bold=True)
        right = width - margin
        self.sandbox_box = None
        if model.sandbox:
            # Black on white in a black frame: readable on every background, results included.
            # The top bar's own face when it fits (no face of its own: each open size holds ~100 kB).
            mark_font = self.fonts.fit("SANDBOX", max(12, unit // 16), width - 3 * margin, bold=True)
            mark = mark_font.render("SANDBOX", True, INK, WHITE)
            box = mark.get_rect(topright=(right, margin)).inflate(margin, margin // 2)
            box.topright = (right, margin)
            pygame.draw.rect(surface, WHITE, box)
            pygame.draw.rect(surface, INK, box, max(2, unit // 160))
            surface.blit(mark, mark.get_rect(center=box.center))
            self.sandbox_box = box
            right = box.left - margin
        name = self.fonts.fit(model.merchant, unit // 16, right - 2 * margin, bold=True)
        self._text(surface, model.merchant, name, ink, (margin, margin), anchor="topleft", on=background)
        bottom = margin + font.get_height() + margin // 2
        if model.notice:
            small = self.fonts.fit(model.notice, unit // 20, width - 2 * margin)
            self._text(
                surface,
                model.notice,
                small,
                ink if filled else TONE_INK[Tone.GOOD],
                (margin, bottom),
                anchor="topleft",
                on=background,
            )
            bottom += small.get_height() + margin // 2
        if model.offline:
            small = self.fonts.fit(model.offline, unit // 20, width - 3 * margin, bold=True)
            bar = pygame.Rect(0, bottom, width, small.get_height() + margin // 2)
            pygame.draw.rect(surface, INK, bar)  # amber on black: a state to know, not a failure
            self._text(surface, model.offline, small, AMBER, bar.center, anchor="center", on=INK)
            bottom = bar.bottom + margin // 2
        if model.warning:
            small = self.fonts.fit(model.warning, unit // 20, width - 2 * margin)
            colour = ink if filled else TONE_INK[Tone.WARN]
            self._text(surface, model.warning, small, colour, (margin, bottom), anchor="topleft", on=background)
            bottom += small.get_height() + margin // 2
        return bottom

    def _stack(
        self,
        surface: pygame.Surface,
        model: ScreenModel,
        area: pygame.Rect,
        ink: Colour,
        background: Colour,
        unit: int,
        *,
        countdown: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        """Title, amount, lines (and countdown), centred vertically in ``area``; shrunk until they fit."""
        scale = 1.0
        for _ in range(8):
            items = self._items(model, area.width, ink, unit, scale, countdown=countdown, extra=extra)
            gap = max(1, int(unit * scale) // 40)
            icon = int(unit * scale / 3.8) if model.icon else 0
            total = (
                sum(font.get_height() for _, font, _ in items) + gap * (len(items) - 1) + icon + (gap if icon else 0)
            )
            if total <= area.height:
                break
            scale *= max(0.5, min(0.95, area.height / total))
        y = area.top + max(0, (area.height - total) // 2)
        if icon:
            draw_icon(surface, model.icon, pygame.Rect(area.centerx - icon // 2, y, icon, icon), ink)
            y += icon + gap
        for text, font, colour in items:
            self._text(surface, text, font, colour, (area.centerx, y), anchor="midtop", on=background)
            y += font.get_height() + gap

    def _items(
        self,
        model: ScreenModel,
        width: int,
        ink: Colour,
        unit: int,
        scale: float,
        *,
        countdown: bool,
        extra: tuple[str, ...],
    ) -> list[tuple[str, Face, Colour]]:
        line_ink = TONE_INK[model.tone] if model.name == "entry" else ink

        def size(fraction: float) -> int:
            return max(8, int(unit * scale / fraction))

        # A result's word is as large as its amount: "Paid" must never be the small print.
        title_size = size(5) if model.icon else size(9)
        items = [(model.title, self.fonts.fit(model.title, title_size, width, bold=True), ink)]
        if model.amount:
            items.append((model.amount, self.fonts.fit(model.amount, size(5), width, bold=True), ink))
        line_size = size(15) if model.title else size(7)  # without a title (small QR screens): the payee, larger
        for line in (*model.lines, *extra):
            if line:
                font = self.fonts.get(line_size)
                items += [(row, self.fonts.fit(row, line_size, width), line_ink) for row in _wrap(line, font, width)]
        if countdown and model.countdown:
            items.append((model.countdown, self.fonts.fit(model.countdown, size(10), width, bold=True), GREY))
        return items

    def _text(
        self,
        surface: pygame.Surface,
        text: str,
        font: Face,
        colour: Colour,
        position: tuple[int, int],
        *,
        anchor: str,
        on: Colour,
    ) -> None:
        """``text`` at ``position`` on a plain ``on``-coloured part of ``surface``: drawn with its background
        (SDL_ttf's shaded text, 8-bit: a quarter of the memory of a transparent 32-bit image, the same pixels)."""
        key = (text, id(font), colour, on)
        image = self._rendered.pop(key, None)
        if image is None:
            image = font.render(text, True, colour, on)
            if len(self._rendered) >= RENDERED:  # the least recently drawn goes (a countdown's past seconds)
                del self._rendered[next(iter(self._rendered))]
        self._rendered[key] = image  # (re)inserted last: the dict is in the order texts were last drawn
        surface.blit(image, image.get_rect(**{anchor: position}))


def _wrap(text: str, font: Face, width: int) -> list[str]:
    """Break ``text`` into rows that fit ``width`` at ``font`` (a single long word stays whole)."""
    rows: list[str] = []
    for word in text.split():
        if rows and font.size(f"{rows[-1]} {word}")[0] <= width:
            rows[-1] = f"{rows[-1]} {word}"
        else:
            rows.append(word)
    return rows or [text]


def draw_icon(surface: pygame.Surface, icon: Icon, box: pygame.Rect, colour: Colour) -> None:
    """Draw a result's icon filling the square ``box``: drawn with lines, so no font can lack it."""
    x, y, side = box.left, box.top, box.width
    thick = max(3, side // 9)
    centre = box.center
    radius = side // 2 - thick // 2

    def at(fx: float, fy: float) -> tuple[int, int]:
        return x + round(fx * side), y + round(fy * side)

    def stroke(*points: tuple[int, int]) -> None:
        pygame.draw.lines(surface, colour, False, points, thick)
        for point in points:  # round joints and ends
            pygame.draw.circle(surface, colour, point, thick // 2)

    if icon is Icon.PAID:
        stroke(at(0.12, 0.55), at(0.4, 0.82), at(0.9, 0.18))
    elif icon is Icon.FAILED:
        stroke(at(0.15, 0.15), at(0.85, 0.85))
        stroke(at(0.85, 0.15), at(0.15, 0.85))
    elif icon is Icon.EXPIRED:
        pygame.draw.circle(surface, colour, centre, radius, thick)
        stroke(at(0.5, 0.22), centre, at(0.72, 0.62))
    elif icon is Icon.CANCELLED:
        pygame.draw.circle(surface, colour, centre, radius, thick)
        stroke(at(0.22, 0.78), at(0.78, 0.22))
    elif icon is Icon.ATTENTION:
        pygame.draw.circle(surface, colour, centre, radius, thick)
        stroke(at(0.5, 0.22), at(0.5, 0.6))
        pygame.draw.circle(surface, colour, at(0.5, 0.77), thick * 2 // 3)
    elif icon is Icon.NO_QR:
        pygame.draw.rect(surface, colour, box, thick)
        finder = side // 4
        for fx, fy in ((0.14, 0.14), (0.61, 0.14), (0.14, 0.61)):
            pygame.draw.rect(surface, colour, pygame.Rect(*at(fx, fy), finder, finder))
        stroke(at(0.0, 1.0), at(1.0, 0.0))

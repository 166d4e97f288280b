"""A payment QR as a pygame surface: whole-pixel modules scaled nearest-neighbour — never smoothed, so every
module edge stays sharp — with a 4-module quiet zone, from the screen's fast encoder (:mod:`qr_encoder`:
zxing-cpp's writer, segno as the reference and fallback; never Micro QR).

The surface is 8-bit with a grey palette: the encoder's bytes are its pixels as they are (no RGB expansion), and
scaling copies one byte a pixel. Each payload's surface is kept for the redraws that follow (the countdown redraws
the QR screen every second).
"""

from __future__ import annotations

from functools import lru_cache

import pygame

from terminal.devices.qr_encoder import QUIET_ZONE, QrTooLarge, encode

__all__ = ["QUIET_ZONE", "QrTooLarge", "modules", "qr_surface"]

#: Palette index = grey level: the encoder's 0 (dark) and 255 (light) are drawn as black and white.
GREYS = [(v, v, v) for v in range(256)]


def modules(payload: str) -> list[list[bool]]:
    """The QR's modules, quiet zone included (``True`` = dark)."""
    made = encode(payload)
    count = made.side
    return [[made.grey[y * count + x] == 0 for x in range(count)] for y in range(count)]


@lru_cache(maxsize=2)  # the QR on screen (redrawn every second) and the next one; 230 kB each, dropped by the display
def qr_surface(payload: str, max_side: int) -> pygame.Surface:
    """The largest QR with a whole number of pixels per module that fits in ``max_side`` pixels."""
    made = encode(payload)
    count = made.side
    scale = max_side // count
    if scale < 1:
        raise QrTooLarge(f"a QR of {count} modules does not fit in {max_side} px")
    small = pygame.image.frombytes(made.grey, (count, count), "P")
    small.set_palette(GREYS)
    return pygame.transform.scale(small, (count * scale, count * scale))

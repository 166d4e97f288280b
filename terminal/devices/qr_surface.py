"""A payment QR as a pygame surface: segno's ``make_qr`` (never Micro QR), a 4-module quiet zone and
whole-pixel modules scaled nearest-neighbour — never smoothed, so every module edge stays sharp."""

from __future__ import annotations

from functools import lru_cache

import pygame
import segno

QUIET_ZONE = 4
DARK = b"\x00\x00\x00"
LIGHT = b"\xff\xff\xff"


class QrTooLarge(ValueError):
    """The payload needs more modules than the space has pixels."""


def modules(payload: str) -> list[list[bool]]:
    """The QR's modules, quiet zone included (``True`` = dark)."""
    qr = segno.make_qr(payload, error="m")
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=QUIET_ZONE)]


@lru_cache(maxsize=8)
def qr_surface(payload: str, max_side: int) -> pygame.Surface:
    """The largest QR with a whole number of pixels per module that fits in ``max_side`` pixels."""
    rows = modules(payload)
    count = len(rows)
    scale = max_side // count
    if scale < 1:
        raise QrTooLarge(f"a QR of {count} modules does not fit in {max_side} px")
    pixels = b"".join(DARK if dark else LIGHT for row in rows for dark in row)
    small = pygame.image.frombytes(pixels, (count, count), "RGB")
    return pygame.transform.scale(small, (count * scale, count * scale))

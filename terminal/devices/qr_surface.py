"""A payment QR as a pygame surface: segno's ``make_qr`` (never Micro QR), a 4-module quiet zone and
whole-pixel modules scaled nearest-neighbour — never smoothed, so every module edge stays sharp.

Encoding is the slow part (segno scores all 8 masks in pure Python), so each payload is encoded once and
kept for the redraws that follow (the countdown redraws the QR screen every second).
"""

from __future__ import annotations

from functools import lru_cache

import pygame
import segno

QUIET_ZONE = 4


class QrTooLarge(ValueError):
    """The payload needs more modules than the space has pixels (or than a QR code can hold)."""


def modules(payload: str) -> list[list[bool]]:
    """The QR's modules, quiet zone included (``True`` = dark)."""
    pixels, count = _encode(payload)
    return [[pixels[y * count + x] == 0 for x in range(count)] for y in range(count)]


@lru_cache(maxsize=8)
def _encode(payload: str) -> tuple[bytes, int]:
    """Grey pixels (0 dark, 255 light) of the QR with its quiet zone, and its width in modules."""
    try:
        qr = segno.make_qr(payload, error="m")
    except (segno.DataOverflowError, ValueError) as exc:
        raise QrTooLarge(str(exc)) from None
    dark_to_black = bytes.maketrans(b"\x00\x01", b"\xff\x00")
    rows = [bytes(row).translate(dark_to_black) for row in qr.matrix_iter(scale=1, border=QUIET_ZONE)]
    return b"".join(rows), len(rows)


@lru_cache(maxsize=8)
def qr_surface(payload: str, max_side: int) -> pygame.Surface:
    """The largest QR with a whole number of pixels per module that fits in ``max_side`` pixels."""
    grey, count = _encode(payload)
    scale = max_side // count
    if scale < 1:
        raise QrTooLarge(f"a QR of {count} modules does not fit in {max_side} px")
    small = pygame.image.frombytes(bytes(b for v in grey for b in (v, v, v)), (count, count), "RGB")
    return pygame.transform.scale(small, (count * scale, count * scale))

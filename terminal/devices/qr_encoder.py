"""The QR encoder for the screen: zxing-cpp's writer (compiled, ~0.2 ms a payload) with segno as the fallback.

segno stays the reference — receipts and exports use it, and the tests check that both encoders give QRs that a
real decoder reads as the same text — but it chooses the mask by scoring all eight in pure Python (6–10 ms a
payment payload on a Pi-class core), which alone was most of the key→QR time. zxing-cpp's writer also chooses the
mask by the standard's penalty score, and its mixed-mode segmentation often gives a smaller symbol (fewer,
larger modules on the same screen). Both make regular QR codes, never Micro QR (payment apps cannot read those).

Only ASCII payloads go to zxing-cpp: every payment scheme the guard accepts is ASCII, and for anything else segno's
byte-mode UTF-8 is what payment apps are known to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

QUIET_ZONE = 4
#: Error correction for payment QRs shown on a screen: M (15 %) survives glare and a scuffed screen protector.
ERROR = "M"


class QrTooLarge(ValueError):
    """The payload needs more modules than the space has pixels (or than a QR code can hold)."""


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR's modules as grey bytes, row after row (0 dark, 255 light), quiet zone included; ``side`` modules
    square; which encoder made it."""

    grey: bytes
    side: int
    encoder: str


def fast_encoder_usable() -> bool:
    """True when zxing-cpp's writer can be imported here (it has wheels for aarch64 and armv7 Pi OS too)."""
    return _zxing() is not None


@lru_cache(maxsize=16)
def encode(payload: str) -> QrMatrix:
    """The payload's QR with its quiet zone: zxing-cpp when it is usable and the payload is ASCII, else segno."""
    if payload.isascii() and (zxing := _zxing()) is not None:
        try:
            return _with_zxing(zxing, payload)
        except (ValueError, RuntimeError):
            pass  # too long for its writer, or an edge it refuses: segno says why (or makes it)
    return encode_with_segno(payload)


def encode_with_segno(payload: str) -> QrMatrix:
    """The reference encoder (``make_qr``: never Micro QR), imported on first use: the screen needs it only for
    a payload zxing-cpp cannot take."""
    import segno

    try:
        qr = segno.make_qr(payload, error=ERROR.lower())
    except (segno.DataOverflowError, ValueError) as exc:
        raise QrTooLarge(str(exc)) from None
    dark_to_black = bytes.maketrans(b"\x00\x01", b"\xff\x00")
    rows = [bytes(row).translate(dark_to_black) for row in qr.matrix_iter(scale=1, border=QUIET_ZONE)]
    return QrMatrix(b"".join(rows), len(rows), "segno")


def _with_zxing(zxing: object, payload: str) -> QrMatrix:
    barcode = zxing.create_barcode(payload, zxing.BarcodeFormat.QRCode, ec_level=ERROR)  # type: ignore[attr-defined]
    image = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    inner = image.shape[0] if image.shape else 0
    side = inner + 2 * QUIET_ZONE
    light = b"\xff" * (side * QUIET_ZONE)
    margin = b"\xff" * QUIET_ZONE
    raw = image.tobytes()
    rows = b"".join(margin + raw[y * inner : (y + 1) * inner] + margin for y in range(inner))
    return QrMatrix(light + rows + light, side, "zxing-cpp")


@lru_cache(maxsize=1)
def _zxing() -> object | None:
    try:
        import zxingcpp
    except ImportError:
        return None
    return zxingcpp if hasattr(zxingcpp, "create_barcode") else None

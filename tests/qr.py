"""Reading QRs back from rendered frames with a real decoder (zxing-cpp)."""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from PIL import Image


def decode(path: str | Path) -> list[str]:
    """The texts of every QR code in the PNG at ``path``."""
    with Image.open(path) as image:
        return [b.text for b in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]

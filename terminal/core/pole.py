"""Pole-display capture: what a till shows its customer on a 2×20 pole display, read off the serial line, and the
total found in it. Pure: bytes in, display lines and totals out.

Command sets: Epson ESC/POS customer display (``ESC @``, ``FF`` clear, ``VT`` home, ``CR``/``LF``, ``US $ x y``
cursor, ``ESC Q A|B text CR`` write a line), CD5220 (the same, plus ``ESC l x y`` cursor) and AEDEX (``!#1text CR``
upper line, ``!#2text CR`` lower line, ``!#4text CR`` upper line scrolling). Unknown escape sequences are skipped,
never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from terminal.core.money import Amount, MoneyError

ESC, FF, VT, CR, LF, BS, HT, US = 0x1B, 0x0C, 0x0B, 0x0D, 0x0A, 0x08, 0x09, 0x1F
COMMAND_SETS = ("epson", "cd5220", "aedex")
DEFAULT_PATTERN = r"\bTOTAL\b\s*:?\s*\D{0,4}?([0-9][0-9.,]*)"


@dataclass
class PoleDisplay:
    """The display's two lines as the till drew them."""

    command_set: str = "epson"
    width: int = 20
    lines: list[list[str]] = field(default_factory=list)
    row: int = 0
    col: int = 0
    _pending: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        if self.command_set not in COMMAND_SETS:
            raise ValueError(f"pole display command set must be one of {', '.join(COMMAND_SETS)}")
        self.clear()

    def clear(self) -> None:
        """Blank display, cursor home."""
        self.lines = [[" "] * self.width for _ in range(2)]
        self.row = self.col = 0

    def text(self) -> tuple[str, str]:
        """The two lines, trailing spaces removed."""
        return ("".join(self.lines[0]).rstrip(), "".join(self.lines[1]).rstrip())

    def feed(self, data: bytes) -> list[str]:
        """Apply ``data``; returns the lines completed by it (a line written whole, or ended by CR/LF)."""
        done: list[str] = []
        buffer = self._pending + data
        self._pending = bytearray()
        i = 0
        while i < len(buffer):
            used = self._step(buffer, i, done)
            if used == 0:  # an escape sequence cut by the read: wait for the rest
                self._pending = bytearray(buffer[i:])[:64]
                break
            i += used
        return done

    def _step(self, b: bytearray, i: int, done: list[str]) -> int:
        byte = b[i]
        if self.command_set == "aedex" and byte == ord("!"):
            if i + 2 >= len(b):
                return 0
            if b[i + 1] == ord("#") and chr(b[i + 2]) in "124":
                end = b.find(bytes([CR]), i + 3)
                if end < 0:
                    return 0 if len(b) - i < 64 else 1
                row = 1 if b[i + 2] == ord("2") else 0
                self._write_line(row, b[i + 3 : end], done)
                return end + 1 - i
        if byte == ESC:
            if i + 1 >= len(b):
                return 0
            op = b[i + 1]
            if op == ord("@"):
                self.clear()
                return 2
            if op == ord("Q"):  # ESC Q A|B|D text CR
                if i + 2 >= len(b):
                    return 0
                end = b.find(bytes([CR]), i + 3)
                if end < 0:
                    return 0 if len(b) - i < 64 else 3
                row = 1 if b[i + 2] == ord("B") else 0
                self._write_line(row, b[i + 3 : end], done)
                return end + 1 - i
            if op == ord("l") and self.command_set == "cd5220":  # ESC l x y (1-based)
                if i + 3 >= len(b):
                    return 0
                self._move(b[i + 2] - 1, b[i + 3] - 1)
                return 4
            return 2  # an escape we do not know: skipped, never shown
        if byte == US:
            if i + 1 >= len(b):
                return 0
            if b[i + 1] == ord("$"):  # US $ x y
                if i + 3 >= len(b):
                    return 0
                self._move(b[i + 2] - 1, b[i + 3] - 1)
                return 4
            return 2
        if byte == FF:
            self.clear()
        elif byte == VT:
            self.row = self.col = 0
        elif byte == CR:
            done.append("".join(self.lines[self.row]).rstrip())
            self.col = 0
        elif byte == LF:
            self.row = min(1, self.row + 1)
        elif byte == BS:
            self.col = max(0, self.col - 1)
        elif byte == HT:
            self.col = min(self.width - 1, self.col + 1)
        elif 0x20 <= byte < 0x7F:
            if self.col < self.width:
                self.lines[self.row][self.col] = chr(byte)
            self.col += 1
        return 1

    def _move(self, col: int, row: int) -> None:
        self.col = max(0, min(self.width - 1, col))
        self.row = max(0, min(1, row))

    def _write_line(self, row: int, raw: bytes | bytearray, done: list[str]) -> None:
        text = "".join(chr(c) if 0x20 <= c < 0x7F else " " for c in raw)[: self.width]
        self.lines[row] = list(text.ljust(self.width))
        done.append(text.rstrip())


def total_in(line: str, pattern: str, currency: str, decimal: str = ".") -> Amount | None:
    """The amount a line like ``TOTAL    12.50`` shows (None when it shows none, or one that is not an amount)."""
    found = re.search(pattern, line, re.IGNORECASE)
    if found is None:
        return None
    text = found.group(1).rstrip(".,")
    thousands = "," if decimal == "." else "."
    text = text.replace(thousands, "").replace(decimal, ".")
    try:
        amount = Amount.parse(text, currency)
    except MoneyError:
        return None
    return amount if amount.minor > 0 else None

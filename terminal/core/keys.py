"""The keys of the terminal's keypad, whatever keypad it is (USB numpad, GPIO matrix, till)."""

from __future__ import annotations

from enum import StrEnum


class Key(StrEnum):
    """One key press, as the core understands it."""

    D0 = "0"
    D1 = "1"
    D2 = "2"
    D3 = "3"
    D4 = "4"
    D5 = "5"
    D6 = "6"
    D7 = "7"
    D8 = "8"
    D9 = "9"
    DOUBLE_ZERO = "00"
    POINT = "."
    BACKSPACE = "backspace"
    CLEAR = "clear"
    ENTER = "enter"
    CANCEL = "cancel"
    MENU = "menu"
    REPRINT = "reprint"
    FEED = "feed"
    #: Say the last announcement again.
    REPEAT = "repeat"

    @property
    def is_digit(self) -> bool:
        """True for 0–9 and 00."""
        return self.value.isdigit()

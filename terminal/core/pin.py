"""The manager PIN's lockout rule: five wrong PINs lock the menu for five minutes. The lock is kept in the
journal (wall time: it must survive a restart), so pulling the plug does not reset the count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_TRIES = 5
LOCK_SECONDS = 300
PIN_DIGITS = (4, 8)


@dataclass(frozen=True, slots=True)
class PinLock:
    """Wrong PINs since the last right one, and until when the menu is locked (None: not locked)."""

    failures: int = 0
    locked_until: datetime | None = None

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds the menu stays locked (0: open)."""
        if self.locked_until is None or now >= self.locked_until:
            return 0
        # A clock set back by more than the lock (a Pi without RTC before NTP) must not lock for hours.
        return min(LOCK_SECONDS, math.ceil((self.locked_until - now).total_seconds()))

    def failed(self, now: datetime) -> PinLock:
        """One more wrong PIN; the fifth locks the menu."""
        failures = self.failures + 1
        if failures >= MAX_TRIES:
            return PinLock(0, now + timedelta(seconds=LOCK_SECONDS))
        return PinLock(failures, None)

    @property
    def tries_left(self) -> int:
        """Wrong PINs allowed before the lock."""
        return MAX_TRIES - self.failures


def clock_text(seconds: int) -> str:
    """``4:05``."""
    return f"{seconds // 60}:{seconds % 60:02d}"

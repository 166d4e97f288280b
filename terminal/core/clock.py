"""The time as the shell read it, passed into the core (which never reads the clock itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Now:
    """``wall``: UTC time for records. ``mono``: monotonic seconds for timers.

    Timers use ``mono`` because a Pi has no real-time clock: its wall clock can jump by years when
    NTP first syncs after boot, and a QR must not expire (or live forever) because of that.
    """

    wall: datetime
    mono: float

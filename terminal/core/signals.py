"""What the LEDs and the buzzer say, as plain data: a pattern is a list of timed steps.

The shell plays a pattern when the screen changes (paid, failed, …) and a click on every key; the next pattern
interrupts the one playing. Tones are in hertz (within a passive buzzer's 220–3520 Hz range).
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.screen import ScreenModel


@dataclass(frozen=True, slots=True)
class Lights:
    """Which lamps are lit (an RGB LED shows amber as red + half green)."""

    green: bool = False
    red: bool = False
    amber: bool = False


OFF = Lights()


@dataclass(frozen=True, slots=True)
class Step:
    """Hold ``lights`` (None: leave them as they are) and ``tone`` (Hz; None: silent) for ``seconds``."""

    seconds: float
    lights: Lights | None = None
    tone: int | None = None


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named sequence of steps; ``repeat`` loops it until the next pattern; ``then`` is held afterwards."""

    name: str
    steps: tuple[Step, ...]
    repeat: bool = False
    then: Lights | None = None


GREEN, RED, AMBER = Lights(green=True), Lights(red=True), Lights(amber=True)

CLICK = Pattern("click", (Step(0.03, tone=1760),))
REFUSED = Pattern("refused", (Step(0.12, tone=440),))
IDLE = Pattern("idle", (Step(0.0, OFF),), then=OFF)
WAITING = Pattern("waiting", (Step(0.4, AMBER), Step(1.2, OFF)), repeat=True)
PAID = Pattern("paid", (Step(0.1, GREEN, 1760), Step(0.08, GREEN), Step(0.1, GREEN, 1760)), then=GREEN)
FAILED = Pattern("failed", (Step(0.6, RED, 440),), then=RED)
OFFLINE = Pattern("offline", (Step(0.15, RED), Step(0.15, AMBER)), repeat=True)
#: An offline sale marked received: amber stays on, and never the success beep.
UNCONFIRMED = Pattern("unconfirmed", (Step(0.0, AMBER),), then=AMBER)

#: Money arrived but not as asked (more, or less): amber, and a beep that is not the success beep.
ATTENTION = Pattern("attention", (Step(0.25, AMBER, 880), Step(0.15, OFF), Step(0.25, AMBER, 880)), then=AMBER)

PATTERNS = {p.name: p for p in (CLICK, REFUSED, IDLE, WAITING, PAID, FAILED, OFFLINE, UNCONFIRMED, ATTENTION)}

_FOR_SCREEN = {
    "idle": IDLE,
    "entry": IDLE,
    "qr": WAITING,
    "paid": PAID,
    "failed": FAILED,
    "expired": FAILED,
    "cancelled": FAILED,
    "error": FAILED,
    "unconfirmed": UNCONFIRMED,
    "overpaid": ATTENTION,
    "underpaid": ATTENTION,
    "mismatch": FAILED,
}


def pattern_for(before: ScreenModel | None, after: ScreenModel) -> Pattern | None:
    """The pattern to start when the screen goes from ``before`` to ``after`` (None: keep the current one)."""
    if after.offline and after.name in ("idle", "entry"):
        return None if before is not None and before.offline and before.name in ("idle", "entry") else OFFLINE
    if before is not None and before.offline and not after.offline and after.name in ("idle", "entry"):
        return IDLE  # back online: the offline blink stops
    if before is not None and before.name == after.name:
        if after.name == "entry" and after.lines and after.lines != before.lines:
            return REFUSED  # a key the entry refused (over the maximum, a third decimal)
        return None
    return _FOR_SCREEN.get(after.name)

"""A 4×4 or 4×3 membrane keypad on GPIO, scanned with gpiozero devices (gpiozero has no keypad class).

Wiring: the keypad's row lines to the ``rows`` GPIOs, its column lines to the ``columns`` GPIOs; no resistors
(the columns use the Pi's internal pull-ups). Each scan drives one row low at a time and reads which columns
follow it low. Debounce and repeat are :mod:`terminal.core.matrix`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal.core.keys import Key
from terminal.core.matrix import Scan, Timing, scan

log = logging.getLogger(__name__)

#: The usual 4×4 membrane keypad's labels, and what each non-digit label does by default.
LAYOUT_4X4 = ("123A", "456B", "789C", "*0#D")
LAYOUT_4X3 = ("123", "456", "789", "*0#")
DEFAULT_KEYS = {"A": "cancel", "B": "backspace", "C": "clear", "D": "enter", "*": ".", "#": "00"}


@dataclass(frozen=True, slots=True)
class MatrixConfig:
    """Rows and columns (BCM numbers), the printed labels row by row, and what each label does."""

    rows: tuple[int, ...]
    columns: tuple[int, ...]
    layout: tuple[str, ...] = LAYOUT_4X4
    keys: tuple[tuple[str, Key], ...] = ()
    timing: Timing = field(default_factory=Timing)

    def key_map(self) -> dict[str, Key]:
        """Label → key: digits are themselves; the rest from ``keys`` (over the defaults)."""
        mapping = {d: Key(d) for d in "0123456789"}
        mapping.update({label: Key(action) for label, action in DEFAULT_KEYS.items()})
        mapping.update(dict(self.keys))
        return mapping


class MatrixKeypad:
    """Scans the matrix in a background thread every ``interval`` seconds and calls ``on_key`` per press."""

    def __init__(
        self,
        config: MatrixConfig,
        on_key: Callable[[Key], None],
        *,
        pin_factory: object | None = None,
        interval: float = 0.005,
    ) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice

        if len(config.layout) != len(config.rows) or any(len(r) != len(config.columns) for r in config.layout):
            raise ValueError(
                f"the layout {config.layout} does not match {len(config.rows)} rows × {len(config.columns)} columns"
            )
        mapping = config.key_map()
        self._keys = {(r, c): mapping.get(label) for r, row in enumerate(config.layout) for c, label in enumerate(row)}
        repeatable = frozenset(p for p, k in self._keys.items() if k is Key.BACKSPACE)
        self._state = Scan(repeatable=repeatable)
        self._timing = config.timing
        self._on_key = on_key
        self._interval = interval
        # A driven row pulls the columns of its pressed keys low; idle rows float high (active_high=False).
        self._rows = [DigitalOutputDevice(p, active_high=False, pin_factory=pin_factory) for p in config.rows]
        self._columns = [DigitalInputDevice(p, pull_up=True, pin_factory=pin_factory) for p in config.columns]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="matrix-keypad", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop scanning and release the pins."""
        self._stop.set()
        self._thread.join(1)
        for device in (*self._rows, *self._columns):
            device.close()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            pressed: set[tuple[int, int]] = set()
            for r, row in enumerate(self._rows):
                row.on()
                pressed.update((r, c) for c, column in enumerate(self._columns) if column.is_active)
                row.off()
            self._state, presses = scan(self._state, frozenset(pressed), time.monotonic(), self._timing)
            for position in presses:
                key = self._keys.get(position)
                if key is None:
                    log.debug("matrix key %s has no action", position)
                    continue
                self._on_key(key)

"""The optional shop hardware, opened from config: LEDs and buzzer, the GPIO keypad, buttons.

Each part may be absent, and a part that cannot open (no GPIO on this machine, a pin in use) is logged and left
out: the counter keeps selling without its LEDs rather than not at all. ``mock`` (config ``gpio.mock``, and the
demo) puts everything on gpiozero's MockFactory, whose pin changes ``gpio_log`` can write out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal.core.keys import Key
from terminal.devices.indicators import IndicatorPins, Indicators
from terminal.devices.matrix_keypad import MatrixConfig, MatrixKeypad

log = logging.getLogger(__name__)

BUTTON_KEYS = {"cancel": Key.CANCEL, "reprint": Key.REPRINT, "feed": Key.FEED, "menu": Key.MENU, "repeat": Key.REPEAT}


@dataclass
class Hardware:
    """What opened. ``factory`` is the MockFactory when mocked (None on a real Pi)."""

    factory: Any = None
    indicators: Indicators | None = None
    keypad: MatrixKeypad | None = None
    parts: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Release every pin."""
        for part in self.parts:
            part.close()
        self.parts.clear()

    def gpio_log(self, path: Path, started: float) -> None:
        """Write every pin change made on the MockFactory: ``seconds pin value``, in time order."""
        if self.factory is None:
            raise ValueError("only mocked GPIO can be logged")
        changes = []
        for info, pin in self.factory.pins.items():
            at = pin._last_change - sum(s.timestamp for s in pin.states[1:])  # the first state's time
            for state in pin.states[1:]:
                at += state.timestamp
                changes.append((at - started, info.name, state.state))
        lines = [f"{t:9.3f} {name} {value:g}" for t, name, value in sorted(changes)]
        path.write_text("\n".join(lines) + ("\n" if lines else ""))

    def open_indicators(self, pins: IndicatorPins | None) -> Indicators | None:
        """The LEDs and buzzer on ``pins`` (None when none are fitted, or they will not open)."""
        if pins is not None:
            self.indicators = _open("LEDs and buzzer", self, lambda: Indicators(pins, pin_factory=self.factory))
        return self.indicators

    def open_keys(self, keypad: MatrixConfig | None, buttons: dict[str, int], on_key: Callable[[Key], None]) -> None:
        """The GPIO keypad and the push buttons, whichever are wired; ``on_key`` gets their presses (from their
        threads)."""
        factory = self.factory
        if keypad is not None:
            self.keypad = _open("GPIO keypad", self, lambda: MatrixKeypad(keypad, on_key, pin_factory=factory))
        wired = {name: pin for name, pin in buttons.items() if name in BUTTON_KEYS}
        if wired:
            from terminal.devices.buttons import Buttons

            _open("buttons", self, lambda: Buttons(wired, lambda name: on_key(BUTTON_KEYS[name]), pin_factory=factory))


def open_gpio(*, mock: bool = False, factory: Any = None) -> Hardware:
    """Nothing opened yet, on ``factory`` (a gpiozero pin factory: tests pass a prepared MockFactory), or on a
    new MockFactory when ``mock`` (config ``gpio.mock``, the demo), or on the Pi's own pins."""
    if mock and factory is None:
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        factory = MockFactory(pin_class=MockPWMPin)
    return Hardware(factory=factory)


def _open(what: str, hardware: Hardware, make: Callable[[], Any]) -> Any:
    from gpiozero.exc import GPIOZeroError

    try:
        part = make()
    except (GPIOZeroError, OSError, ValueError) as exc:
        log.error("%s not available, running without them: %s", what, exc)
        return None
    hardware.parts.append(part)
    return part

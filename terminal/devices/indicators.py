"""Status LEDs and the buzzer (gpiozero): play :mod:`terminal.core.signals` patterns in the background.

Wiring: each LED's anode to its GPIO through a 330 Ω resistor, cathode to ground (``active_high = false`` when
the LED is wired to 3V3 and sinks into the GPIO). One RGB LED instead of three: ``rgb = [red, green, blue]``.
An active buzzer (beeps by itself when powered) on a GPIO through an NPN transistor; a passive one (needs a
tone) the same way, on a PWM-capable pin, ``buzzer_type = "passive"``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from terminal.core.signals import OFF, Lights, Pattern

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndicatorPins:
    """Where the lamps and the buzzer are (BCM numbers; None: not fitted)."""

    green: int | None = None
    red: int | None = None
    amber: int | None = None
    rgb: tuple[int, int, int] | None = None
    active_high: bool = True
    buzzer: int | None = None
    buzzer_type: str = "active"
    sound: bool = True


class Indicators:
    """Plays patterns on LEDs and a buzzer from one background thread; :meth:`play` never blocks and the next
    pattern interrupts the current one. ``pin_factory`` is gpiozero's (``MockFactory`` in tests and demos)."""

    def __init__(self, pins: IndicatorPins, *, pin_factory: object | None = None) -> None:
        from gpiozero import LED, RGBLED, Buzzer, TonalBuzzer
        from gpiozero.tones import Tone

        self._tone_cls = Tone
        kw = {"pin_factory": pin_factory}
        self._leds = {
            name: LED(pin, active_high=pins.active_high, **kw)
            for name, pin in (("green", pins.green), ("red", pins.red), ("amber", pins.amber))
            if pin is not None
        }
        self._rgb = RGBLED(*pins.rgb, active_high=pins.active_high, **kw) if pins.rgb else None
        self._buzzer: Buzzer | TonalBuzzer | None = None
        if pins.buzzer is not None and pins.sound:
            if pins.buzzer_type == "passive":
                self._buzzer = TonalBuzzer(pins.buzzer, mid_tone=Tone("A5"), octaves=2, **kw)
            else:
                self._buzzer = Buzzer(pins.buzzer, **kw)
        self._lock = threading.Condition()
        self._pattern: Pattern | None = None
        self._generation = 0
        self._closed = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="indicators", daemon=True)
        self._thread.start()

    def play(self, pattern: Pattern) -> None:
        """Start ``pattern`` now, interrupting whatever plays."""
        with self._lock:
            self._pattern = pattern
            self._generation += 1
            self._lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the current (non-repeating) pattern has finished; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy and self._pattern is None, timeout)

    def close(self) -> None:
        """Stop, turn everything off and release the pins."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join(2)
        for device in (*self._leds.values(), self._rgb, self._buzzer):
            if device is not None:
                device.close()

    # --- the player ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                self._busy = False
                self._lock.notify_all()
                while self._pattern is None and not self._closed:
                    self._lock.wait()
                if self._closed:
                    break
                pattern, generation = self._pattern, self._generation
                self._pattern, self._busy = None, True
            assert pattern is not None
            self._perform(pattern, generation)
        self._silence()
        self._show(OFF)

    def _perform(self, pattern: Pattern, generation: int) -> None:
        while True:
            for step in pattern.steps:
                if step.lights is not None:
                    self._show(step.lights)
                self._sound(step.tone)
                if self._interrupted(generation, step.seconds):
                    self._silence()
                    return
            self._silence()
            if not pattern.repeat:
                break
        if pattern.then is not None:
            self._show(pattern.then)

    def _interrupted(self, generation: int, seconds: float) -> bool:
        with self._lock:
            if seconds > 0:
                self._lock.wait_for(lambda: self._generation != generation or self._closed, seconds)
            return self._generation != generation or self._closed

    def _show(self, lights: Lights) -> None:
        for name, led in self._leds.items():
            led.value = getattr(lights, name)
        if self._rgb is not None:
            red = 1 if lights.red or lights.amber else 0
            green = 1 if lights.green else (0.5 if lights.amber else 0)
            self._rgb.value = (red, green, 0)

    def _sound(self, tone: int | None) -> None:
        if self._buzzer is None:
            return
        from gpiozero import TonalBuzzer

        if isinstance(self._buzzer, TonalBuzzer):
            if tone is None:
                self._buzzer.stop()
            else:
                self._buzzer.play(self._tone_cls.from_frequency(tone))
        else:
            self._buzzer.value = tone is not None

    def _silence(self) -> None:
        self._sound(None)

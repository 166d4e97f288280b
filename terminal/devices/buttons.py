"""Optional physical buttons (cancel, reprint, paper feed) as gpiozero ``Button``s.

Wiring: one leg of each push button to its GPIO, the other to ground (internal pull-up; no resistor).
"""

from __future__ import annotations

from collections.abc import Callable


class Buttons:
    """Calls ``on_press(name)`` when the button ``name`` (from ``pins``) is pressed."""

    def __init__(
        self, pins: dict[str, int], on_press: Callable[[str], None], *, pin_factory: object | None = None
    ) -> None:
        from gpiozero import Button

        self._buttons = []
        for name, pin in pins.items():
            button = Button(pin, pull_up=True, bounce_time=0.05, pin_factory=pin_factory)
            button.when_pressed = lambda _device, name=name: on_press(name)
            self._buttons.append(button)

    def close(self) -> None:
        """Release the pins."""
        for button in self._buttons:
            button.close()

"""Physical buttons on gpiozero's MockFactory: a press to ground calls back with the button's name."""

import queue
import time

from gpiozero.pins.mock import MockFactory

from terminal.devices.buttons import Buttons


def test_each_button_reports_its_name():
    factory, pressed = MockFactory(), queue.Queue()
    buttons = Buttons({"cancel": 23, "reprint": 24, "feed": 25}, pressed.put, pin_factory=factory)
    for pin in (24, 23):
        factory.pin(pin).drive_low()
        time.sleep(0.01)
        factory.pin(pin).drive_high()
        time.sleep(0.06)  # past the bounce time
    buttons.close()
    assert [pressed.get(timeout=1), pressed.get(timeout=1)] == ["reprint", "cancel"]
    assert pressed.empty()

"""The terminal with its shop hardware on gpiozero's MockFactory: the GPIO keypad sells beside the USB one,
the LEDs follow the sale, a cancel button cancels."""

import time

import requests

from terminal.devices.indicators import IndicatorPins
from terminal.devices.matrix_keypad import MatrixConfig

from .terminal_app import make_terminal
from .test_matrix_keypad import COLUMNS, ROWS, Board

GREEN, RED, AMBER, BUZZER, CANCEL = 22, 27, 26, 4, 23


def fitted(tmp_path, sandbox, board, **hardware):
    """A terminal whose config fits ``hardware`` (default: LEDs, buzzer, GPIO keypad and a cancel button), on
    the board's MockFactory; and what was opened."""
    parts = {
        "indicators": IndicatorPins(green=GREEN, red=RED, amber=AMBER, buzzer=BUZZER),
        "keypad": MatrixConfig(ROWS, COLUMNS),
        "buttons": {"cancel": CANCEL},
    }
    terminal = make_terminal(tmp_path, sandbox.url, pin_factory=board.factory, **(parts | hardware))
    return terminal, terminal.built.hardware


def pump_while(terminal, action):
    """Do ``action`` (a blocking key tap) while the loop runs, as it would on the counter."""
    import threading

    worker = threading.Thread(target=action)
    worker.start()
    while worker.is_alive():
        terminal.app.pump()
        time.sleep(0.002)


def test_a_sale_typed_on_the_gpio_keypad_lights_amber_then_green(tmp_path, sandbox):
    board = Board()
    terminal, hardware = fitted(tmp_path, sandbox, board)
    pump_while(terminal, lambda: [board.tap(r, c) for r, c in [(0, 1), (3, 3)]])  # 2, then D = Enter
    screen = terminal.until_screen("qr")
    assert screen.amount == "₹2.00"
    time.sleep(0.2)
    terminal.app.pump()
    assert board.factory.pin(AMBER).state == 1  # waiting for payment
    requests.post(f"{screen.qr.split('?')[0]}/pay", timeout=5)
    terminal.until_screen("paid")
    hardware.indicators.wait_idle(2)
    assert board.factory.pin(GREEN).state == 1 and board.factory.pin(AMBER).state == 0
    assert board.factory.pin(RED).state == 0
    hardware.close()
    terminal.app.worker.stop()


def test_the_usb_keypad_and_the_gpio_keypad_type_into_the_same_amount(tmp_path, sandbox):
    board = Board()
    terminal, hardware = fitted(tmp_path, sandbox, board)
    terminal.press("1")  # USB
    pump_while(terminal, lambda: board.tap(0, 2))  # GPIO: 3
    terminal.press("E")  # USB
    assert terminal.until_screen("qr").amount == "₹13.00"
    hardware.close()
    terminal.app.worker.stop()


def test_the_cancel_button_cancels_the_sale_and_lights_red(tmp_path, sandbox):
    board = Board()
    terminal, hardware = fitted(tmp_path, sandbox, board)
    terminal.press("5E")
    terminal.until_screen("qr")
    board.factory.pin(CANCEL).drive_low()
    terminal.until_screen("cancelled")
    board.factory.pin(CANCEL).drive_high()
    hardware.indicators.wait_idle(2)
    assert board.factory.pin(RED).state == 1
    hardware.close()
    terminal.app.worker.stop()


def test_gpio_that_cannot_open_is_left_out_and_the_terminal_still_sells(tmp_path, sandbox, caplog):
    # GIVEN LEDs on a pin this board does not have, beside a GPIO keypad that works
    board = Board()
    terminal, hardware = fitted(tmp_path, sandbox, board, indicators=IndicatorPins(green=99), buttons={})
    assert hardware.indicators is None and terminal.app.indicators is None
    assert "LEDs and buzzer not available" in caplog.text
    # WHEN a sale is typed on the GPIO keypad that was attached, and paid
    pump_while(terminal, lambda: [board.tap(r, c) for r, c in [(1, 1), (3, 3)]])  # 5, then D = Enter
    screen = terminal.until_screen("qr")
    requests.post(f"{screen.qr.split('?')[0]}/pay", timeout=5)
    # THEN the terminal still sells, without the lamps
    assert screen.amount == "₹5.00" and terminal.until_screen("paid").title == "Paid"
    hardware.close()
    terminal.app.worker.stop()


def test_a_menu_button_opens_the_pin_prompt(tmp_path, sandbox):
    board = Board()
    terminal, hardware = fitted(tmp_path, sandbox, board, indicators=None, keypad=None, buttons={"menu": 24})
    board.factory.pin(24).drive_low()
    assert terminal.until_screen("menu-pin").title == "Manager PIN"
    board.factory.pin(24).drive_high()
    hardware.close()

"""The matrix keypad on gpiozero's MockFactory: a key press is simulated by connecting the key's row pin to its
column pin (MockConnectedPin), so a column reads low exactly while its row is driven."""

import queue
import time

import pytest
from gpiozero.pins.mock import MockConnectedPin, MockFactory

from terminal.core.keys import Key
from terminal.devices.matrix_keypad import LAYOUT_4X3, MatrixConfig, MatrixKeypad

ROWS, COLUMNS = (5, 6, 13, 19), (12, 16, 20, 21)


class Board:
    """A 4×4 membrane keypad wired to mock pins."""

    def __init__(self, rows=ROWS, columns=COLUMNS):
        self.factory = MockFactory()
        self.rows = [self.factory.pin(p, pin_class=MockConnectedPin) for p in rows]
        self.columns = [self.factory.pin(p) for p in columns]

    def hold(self, row, column):
        self.rows[row].input_pin = self.columns[column]

    def release(self, row, column):
        self.rows[row].input_pin = None
        self.columns[column].drive_high()

    def tap(self, row, column, seconds=0.08):
        self.hold(row, column)
        time.sleep(seconds)
        self.release(row, column)
        time.sleep(0.05)


@pytest.fixture
def keys():
    return queue.Queue()


def drain(q, wait=0.1):
    time.sleep(wait)
    out = []
    while not q.empty():
        out.append(q.get())
    return out


def test_typing_on_the_matrix_gives_keypad_keys(keys):
    board = Board()
    keypad = MatrixKeypad(MatrixConfig(ROWS, COLUMNS), keys.put, pin_factory=board.factory)
    for row, column in [(0, 0), (0, 1), (3, 0), (1, 1), (3, 3)]:  # 1 2 * 5 D
        board.tap(row, column)
    keypad.close()
    assert drain(keys) == [Key.D1, Key.D2, Key.POINT, Key.D5, Key.ENTER]


def test_the_key_map_comes_from_config(keys):
    board = Board()
    config = MatrixConfig(ROWS, COLUMNS, keys=(("A", Key.ENTER), ("D", Key.CANCEL)))
    keypad = MatrixKeypad(config, keys.put, pin_factory=board.factory)
    board.tap(0, 3)
    board.tap(3, 3)
    keypad.close()
    assert drain(keys) == [Key.ENTER, Key.CANCEL]


def test_a_4x3_keypad(keys):
    board = Board(columns=COLUMNS[:3])
    keypad = MatrixKeypad(MatrixConfig(ROWS, COLUMNS[:3], layout=LAYOUT_4X3), keys.put, pin_factory=board.factory)
    board.tap(2, 2)
    board.tap(3, 2)
    keypad.close()
    assert drain(keys) == [Key.D9, Key.DOUBLE_ZERO]


def test_holding_backspace_repeats(keys):
    board = Board()
    keypad = MatrixKeypad(MatrixConfig(ROWS, COLUMNS), keys.put, pin_factory=board.factory)
    board.tap(1, 3, seconds=1.0)  # B = backspace
    keypad.close()
    got = drain(keys)
    assert got[0] is Key.BACKSPACE and set(got) == {Key.BACKSPACE} and 3 <= len(got) <= 6


def test_a_layout_that_does_not_match_the_pins_is_refused():
    with pytest.raises(ValueError, match="does not match"):
        MatrixKeypad(MatrixConfig(ROWS, COLUMNS, layout=LAYOUT_4X3), print, pin_factory=MockFactory())

"""LEDs and buzzer on gpiozero's MockFactory: exact pin state sequences (whole lists, not assert_states,
which passes on a shorter list), interruption by the next pattern, active-low wiring, passive buzzers."""

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from terminal.core.signals import CLICK, FAILED, IDLE, PAID, WAITING, Pattern, Step
from terminal.devices.indicators import IndicatorPins, Indicators


@pytest.fixture
def factory():
    return MockFactory(pin_class=MockPWMPin)


def states(factory, pin):
    return [s.state for s in factory.pin(pin).states]


def settle(indicators):
    """Wait, deterministically, until the pattern playing has finished (never a guess from quiet pins: under load
    a 0.6 s beep looked finished after 0.3 s without a change)."""
    assert indicators.wait_idle(10), "the pattern did not finish within 10 s"


def until(check, timeout=10.0):
    """Wait for ``check`` to hold, polling the mock pins (bounded; fails with a clear message)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the pins never reached the expected state"
        time.sleep(0.005)


def held(factory, pin, index):
    """How long the pin stayed in the state it entered at ``index`` (gpiozero's mock stamps each change with
    the time since the previous one)."""
    return factory.pin(pin).states[index + 1].timestamp


def test_paid_lights_green_and_beeps_twice(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(PAID)
    settle(indicators)
    assert states(factory, 17) == [0, 1]
    assert states(factory, 18) == [0, 1, 0, 1, 0]
    assert 0.1 <= held(factory, 18, 1) < 1.1 and 0.08 <= held(factory, 18, 2) < 1.08  # beep, gap (then beep)
    assert states(factory, 27) == [0] and states(factory, 22) == [0]
    indicators.close()


def test_failed_lights_red_with_one_long_beep(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(FAILED)
    settle(indicators)
    assert states(factory, 27) == [0, 1]
    assert states(factory, 18) == [0, 1, 0]
    # The beep lasts 0.6 s: never shorter, and (a tolerance for a loaded machine) not much longer.
    assert 0.6 <= held(factory, 18, 1) < 1.6
    indicators.close()


def test_waiting_blinks_until_the_next_pattern_interrupts_it(factory):
    indicators = Indicators(IndicatorPins(green=17, amber=22, buzzer=18), pin_factory=factory)
    fast = Pattern("waiting", (Step(0.05, WAITING.steps[0].lights), Step(0.05, WAITING.steps[1].lights)), repeat=True)
    indicators.play(fast)
    until(lambda: len(states(factory, 22)) >= 6)  # blinked at least three times
    indicators.play(PAID)
    settle(indicators)
    amber = states(factory, 22)
    assert len(amber) >= 6 and amber[:4] == [0, 1, 0, 1]
    assert amber[-1] == 0  # interrupted, and PAID turned it off
    assert states(factory, 17) == [0, 1]
    indicators.close()


def test_active_low_leds_are_inverted(factory):
    indicators = Indicators(IndicatorPins(green=17, active_high=False), pin_factory=factory)
    indicators.play(PAID)
    settle(indicators)
    assert states(factory, 17) == [0, 1, 0]  # off = high once the device opens, on = low
    indicators.close()


def test_a_passive_buzzer_plays_tones(factory):
    indicators = Indicators(IndicatorPins(buzzer=18, buzzer_type="passive"), pin_factory=factory)
    indicators.play(CLICK)
    settle(indicators)
    assert states(factory, 18) == [0, 0.5, 0]  # a square wave at 50 % duty while the tone plays
    indicators.close()


def test_one_rgb_led_shows_green_red_and_amber(factory):
    indicators = Indicators(IndicatorPins(rgb=(5, 6, 13)), pin_factory=factory)
    indicators.play(PAID)
    settle(indicators)
    assert states(factory, 6)[-1] == 1 and states(factory, 5)[-1] == 0
    indicators.play(WAITING)
    until(lambda: (factory.pin(5).state, factory.pin(6).state) == (1, 0.5))  # amber (on for 0.4 s, then off)
    indicators.play(IDLE)
    settle(indicators)
    assert (factory.pin(5).state, factory.pin(6).state, factory.pin(13).state) == (0, 0, 0)
    indicators.close()


def test_sound_off_leaves_the_buzzer_alone(factory):
    indicators = Indicators(IndicatorPins(green=17, buzzer=18, sound=False), pin_factory=factory)
    indicators.play(PAID)
    settle(indicators)
    assert states(factory, 17) == [0, 1]
    assert states(factory, 18) == [0]
    indicators.close()


def test_play_never_blocks(factory):
    indicators = Indicators(IndicatorPins(green=17, buzzer=18), pin_factory=factory)
    started = time.perf_counter()
    for _ in range(50):
        indicators.play(FAILED)
    assert time.perf_counter() - started < 0.05
    indicators.close()

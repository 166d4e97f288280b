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


def settle(factory, pins, seconds=2.0):
    """Wait until no pin has changed for 0.3 s (a pattern finished)."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        now = [len(factory.pin(p).states) for p in pins]
        if now == last:
            return
        last = now
        time.sleep(0.3)


def test_paid_lights_green_and_beeps_twice(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(PAID)
    settle(factory, (17, 18))
    assert states(factory, 17) == [0, 1]
    assert states(factory, 18) == [0, 1, 0, 1, 0]
    assert states(factory, 27) == [0] and states(factory, 22) == [0]
    indicators.close()


def test_failed_lights_red_with_one_long_beep(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(FAILED)
    settle(factory, (27, 18))
    assert states(factory, 27) == [0, 1]
    assert states(factory, 18) == [0, 1, 0]
    assert factory.pin(18).states[2].timestamp >= 0.55  # the beep lasted 0.6 s
    indicators.close()


def test_waiting_blinks_until_the_next_pattern_interrupts_it(factory):
    indicators = Indicators(IndicatorPins(green=17, amber=22, buzzer=18), pin_factory=factory)
    fast = Pattern("waiting", (Step(0.05, WAITING.steps[0].lights), Step(0.05, WAITING.steps[1].lights)), repeat=True)
    indicators.play(fast)
    time.sleep(0.5)
    indicators.play(PAID)
    settle(factory, (17, 22, 18))
    amber = states(factory, 22)
    assert len(amber) >= 6 and amber[:4] == [0, 1, 0, 1]
    assert amber[-1] == 0  # interrupted, and PAID turned it off
    assert states(factory, 17) == [0, 1]
    indicators.close()


def test_active_low_leds_are_inverted(factory):
    indicators = Indicators(IndicatorPins(green=17, active_high=False), pin_factory=factory)
    indicators.play(PAID)
    settle(factory, (17,))
    assert states(factory, 17) == [0, 1, 0]  # off = high once the device opens, on = low
    indicators.close()


def test_a_passive_buzzer_plays_tones(factory):
    indicators = Indicators(IndicatorPins(buzzer=18, buzzer_type="passive"), pin_factory=factory)
    indicators.play(CLICK)
    settle(factory, (18,))
    assert states(factory, 18) == [0, 0.5, 0]  # a square wave at 50 % duty while the tone plays
    indicators.close()


def test_one_rgb_led_shows_green_red_and_amber(factory):
    indicators = Indicators(IndicatorPins(rgb=(5, 6, 13)), pin_factory=factory)
    indicators.play(PAID)
    settle(factory, (5, 6))
    assert states(factory, 6)[-1] == 1 and states(factory, 5)[-1] == 0
    indicators.play(WAITING)
    time.sleep(0.2)
    assert (factory.pin(5).state, factory.pin(6).state) == (1, 0.5)  # amber
    indicators.play(IDLE)
    settle(factory, (5, 6))
    assert (factory.pin(5).state, factory.pin(6).state, factory.pin(13).state) == (0, 0, 0)
    indicators.close()


def test_sound_off_leaves_the_buzzer_alone(factory):
    indicators = Indicators(IndicatorPins(green=17, buzzer=18, sound=False), pin_factory=factory)
    indicators.play(PAID)
    settle(factory, (17,))
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

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


#: How much longer than asked a state may last on a loaded machine (a thread woken late). Never shorter: the
#: player waits at least the step's time before the next change.
LATE = 1.0


def assert_held(factory, pin, expected):
    """The pin went through ``expected`` [(state, seconds held or None for "not timed")], in order and no more,
    each timed state held at least its seconds and less than LATE longer (gpiozero's assert_states_and_times,
    with a one-sided tolerance: a step can end late, never early). gpiozero's mock stamps each change with the
    time since the previous one."""
    states = factory.pin(pin).states
    assert [s.state for s in states] == [state for state, _ in expected]
    for index, (state, seconds) in enumerate(expected):
        if seconds is not None:
            took = states[index + 1].timestamp
            assert seconds <= took < seconds + LATE, f"state {state} at {index} held {took:.3f} s, not {seconds}"


def test_paid_lights_green_and_beeps_twice(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(PAID)
    settle(indicators)
    assert states(factory, 17) == [0, 1]
    assert_held(factory, 18, [(0, None), (1, 0.1), (0, 0.08), (1, 0.1), (0, None)])  # beep, gap, beep
    assert states(factory, 27) == [0] and states(factory, 22) == [0]
    indicators.close()


def test_failed_lights_red_with_one_long_beep(factory):
    indicators = Indicators(IndicatorPins(green=17, red=27, amber=22, buzzer=18), pin_factory=factory)
    indicators.play(FAILED)
    settle(indicators)
    assert states(factory, 27) == [0, 1]
    assert_held(factory, 18, [(0, None), (1, 0.6), (0, None)])  # one 0.6 s beep
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


HOUR_LONG_BEEP = Pattern("test: a beep an hour long", (Step(3600, tone=440),))


def test_play_never_blocks(factory):
    # GIVEN a pattern that would take an hour (play returning at all proves it did not wait for it)
    indicators = Indicators(IndicatorPins(green=17, buzzer=18), pin_factory=factory)
    for _ in range(50):
        indicators.play(HOUR_LONG_BEEP)
    until(lambda: states(factory, 18) == [0, 1])  # the player has it
    assert not indicators.wait_idle(0)  # and it is still playing
    indicators.play(FAILED)  # the next pattern interrupts it
    settle(indicators)
    assert states(factory, 18) == [0, 1, 0, 1, 0] and states(factory, 17) == [0]
    indicators.close()


def test_wait_idle_is_true_at_once_when_nothing_plays_and_false_while_a_pattern_repeats(factory):
    indicators = Indicators(IndicatorPins(amber=22), pin_factory=factory)
    assert indicators.wait_idle(0)
    indicators.play(WAITING)  # repeats until the next pattern
    assert not indicators.wait_idle(0.2)
    indicators.play(IDLE)
    settle(indicators)
    assert factory.pin(22).state == 0
    indicators.close()

"""Debounce and repeat of a scanned key matrix, with the clock passed in."""

from terminal.core.matrix import Scan, Timing, scan

T = Timing(debounce=0.03, repeat_delay=0.5, repeat_interval=0.1)
A, B = (0, 0), (1, 2)


def run(samples, state=None):
    """samples: (time, pressed positions); returns every press with its time."""
    state = state or Scan(repeatable=frozenset({B}))
    out = []
    for now, pressed in samples:
        state, presses = scan(state, frozenset(pressed), now, T)
        out += [(now, p) for p in presses]
    return out


def every(step, until, pressed, start=0.0):
    t, out = start, []
    while t <= until:
        out.append((round(t, 3), pressed))
        t += step
    return out


def test_a_press_counts_once_it_has_been_stable_for_the_debounce_time():
    assert run(every(0.005, 0.1, {A})) == [(0.03, A)]


def test_contact_bounce_is_not_a_second_press():
    bouncy = [(0.0, {A}), (0.004, set()), (0.008, {A}), (0.012, set()), *every(0.005, 0.2, {A}, start=0.016)]
    assert [p for _, p in run(bouncy)] == [A]


def test_a_blip_shorter_than_the_debounce_time_is_ignored():
    assert run([(0.0, {A}), (0.01, {A}), (0.02, set()), *every(0.005, 0.2, set(), start=0.025)]) == []


def test_press_release_press_is_two_presses():
    samples = every(0.005, 0.1, {A}) + every(0.005, 0.2, set(), start=0.105) + every(0.005, 0.3, {A}, start=0.205)
    assert [p for _, p in run(samples)] == [A, A]


def test_a_held_repeatable_key_repeats_after_the_delay():
    presses = run(every(0.005, 0.85, {B}))
    times = [t for t, _ in presses]
    assert times[0] == 0.03
    assert len(presses) == 5  # 0.03, then 0.53, 0.63, 0.73, 0.83
    assert abs(times[1] - 0.53) < 0.006


def test_a_held_digit_does_not_repeat():
    assert len(run(every(0.005, 2.0, {A}))) == 1


def test_a_chord_presses_nothing():
    assert run(every(0.005, 0.3, {A, B})) == []

"""Debounce and key repeat for a scanned key matrix — pure, so it is tested without hardware (gpiozero's mock
pins ignore ``bounce_time``, and a matrix is scanned, not interrupt-driven, anyway).

Feed it the set of (row, column) positions that read pressed on each scan; it answers the key presses to act
on. A press counts once it has read the same for ``debounce`` seconds; a chord (two or more keys: a membrane
matrix without diodes shows ghost keys then) presses nothing; a held repeatable key repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

Position = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Timing:
    """Debounce time, and when a held key starts repeating and how fast (seconds)."""

    debounce: float = 0.03
    repeat_delay: float = 0.6
    repeat_interval: float = 0.12


@dataclass(frozen=True, slots=True)
class Scan:
    """What the debouncer remembers between scans."""

    candidate: frozenset[Position] = frozenset()
    since: float = 0.0
    stable: frozenset[Position] = frozenset()
    next_repeat: float | None = None
    repeatable: frozenset[Position] = field(default=frozenset())


def scan(state: Scan, pressed: frozenset[Position], now: float, timing: Timing) -> tuple[Scan, list[Position]]:
    """One scan of the matrix at monotonic time ``now``: the new state and the presses to act on."""
    if pressed != state.candidate:
        return replace(state, candidate=pressed, since=now), []
    if pressed != state.stable and now - state.since >= timing.debounce:
        newly = pressed - state.stable
        if len(pressed) == 1 and newly:
            (key,) = pressed
            nxt = now + timing.repeat_delay if key in state.repeatable else None
            return replace(state, stable=pressed, next_repeat=nxt), [key]
        return replace(state, stable=pressed, next_repeat=None), []
    if state.next_repeat is not None and len(state.stable) == 1 and now >= state.next_repeat:
        (key,) = state.stable
        return replace(state, next_repeat=state.next_repeat + timing.repeat_interval), [key]
    return state, []

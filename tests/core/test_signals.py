"""Which pattern the LEDs and buzzer play for each screen change."""

from terminal.core.screen import ScreenModel
from terminal.core.signals import FAILED, IDLE, PAID, REFUSED, WAITING, pattern_for


def screen(name, lines=()):
    return ScreenModel(name, "t", "Shop", lines=lines)


def test_each_screen_has_its_pattern():
    assert pattern_for(screen("entry"), screen("qr")) is WAITING
    assert pattern_for(screen("qr"), screen("paid")) is PAID
    for name in ("failed", "expired", "cancelled", "error"):
        assert pattern_for(screen("qr"), screen(name)) is FAILED
    assert pattern_for(screen("paid"), screen("idle")) is IDLE
    assert pattern_for(None, screen("idle")) is IDLE


def test_the_same_screen_again_keeps_the_pattern_playing():
    assert pattern_for(screen("qr"), screen("qr")) is None  # the countdown ticking


def test_a_refused_key_sounds_different():
    assert pattern_for(screen("entry"), screen("entry", ("Maximum is ₹500.00",))) is REFUSED
    assert pattern_for(screen("entry", ("Maximum is ₹500.00",)), screen("entry", ("Maximum is ₹500.00",))) is None


def test_offline_blinks_while_idle_and_stops_when_back_online():
    from dataclasses import replace

    from terminal.core.signals import OFFLINE

    idle = screen("idle")
    offline = replace(idle, offline="OFFLINE — No connection")
    assert pattern_for(idle, offline) is OFFLINE
    assert pattern_for(offline, offline) is None
    assert pattern_for(offline, idle) is IDLE
    assert pattern_for(offline, replace(screen("qr"), offline="OFFLINE")) is WAITING

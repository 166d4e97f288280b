"""When the terminal speaks: paid (also late), declined and expired when asked to, the repeat key, the menu."""

from dataclasses import replace

from terminal.core.effects import Announce, SaveVoice
from terminal.core.events import KeyPressed, OrderUpdated, PinChecked
from terminal.core.keys import Key
from terminal.core.machine import initial, step
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate
from terminal.core.speech import received

from .helpers import SETTINGS, at, awaiting, paid_update

VOICE = replace(SETTINGS, voice_language="en-IN")


def voiced(state):
    return replace(state, settings=VOICE)


def announced(effects):
    return [e.phrase.text for e in effects if isinstance(e, Announce)]


def test_paid_announces_the_amount_received():
    state, effects = step(voiced(awaiting("250")), OrderUpdated("T1-ab12-000001", paid_update(minor=25000)), at(2))
    assert announced(effects) == ["Received two hundred fifty rupees"]
    assert state.last_phrase == received(Amount(25000, "INR"), "en-IN")


def test_no_voice_fitted_or_turned_off_says_nothing():
    _, effects = step(awaiting("250"), OrderUpdated("T1-ab12-000001", paid_update(minor=25000)), at(2))
    assert announced(effects) == []
    off = replace(voiced(awaiting("250")), voice_on=False)
    _, effects = step(off, OrderUpdated("T1-ab12-000001", paid_update(minor=25000)), at(2))
    assert announced(effects) == []


def test_declined_and_expired_get_a_short_line_unless_turned_off():
    declined = OrderUpdate("ord_1", OrderStatus.FAILED, failure_message="Declined")
    _, effects = step(voiced(awaiting()), OrderUpdated("T1-ab12-000001", declined), at(2))
    assert announced(effects) == ["Payment failed"]
    quiet = replace(awaiting(), settings=replace(VOICE, voice_failures=False))
    _, effects = step(quiet, OrderUpdated("T1-ab12-000001", declined), at(2))
    assert announced(effects) == []


def test_expiry_is_spoken():
    from terminal.core.events import Tick

    _, effects = step(voiced(awaiting()), Tick(), at(400))
    assert announced(effects) == ["QR expired, no payment"]


def test_cancel_by_the_shopkeeper_is_not_spoken():
    _, effects = step(voiced(awaiting()), KeyPressed(Key.CANCEL), at(2))
    assert announced(effects) == []


def test_repeat_says_the_last_announcement_again():
    state, _ = step(voiced(awaiting("250")), OrderUpdated("T1-ab12-000001", paid_update(minor=25000)), at(2))
    _, effects = step(state, KeyPressed(Key.REPEAT), at(3))
    assert announced(effects) == ["Received two hundred fifty rupees"]
    nothing_yet = voiced(initial(SETTINGS))
    assert step(nothing_yet, KeyPressed(Key.REPEAT), at(0)) == (nothing_yet, [])


def test_voice_on_off_and_volume_from_the_menu():
    state = voiced(initial(SETTINGS))
    for key in (Key.MENU, Key.D2, Key.D5, Key.D8, Key.D0, Key.ENTER):
        state, _ = step(state, KeyPressed(key), at(0))
    state, _ = step(state, PinChecked(True), at(0))
    state, _ = step(state, KeyPressed(Key.D4), at(0))
    state, effects = step(state, KeyPressed(Key.D3), at(0))
    assert effects == [SaveVoice(True, 90)] and state.volume == 90
    state, effects = step(state, KeyPressed(Key.D1), at(0))
    assert effects == [SaveVoice(False, 90)] and not state.voice_on
    _, effects = step(state, KeyPressed(Key.D0), at(0))
    assert effects == []  # off: the test amount is not said
    state, _ = step(state, KeyPressed(Key.D1), at(0))
    _, effects = step(state, KeyPressed(Key.D0), at(0))
    assert announced(effects) == ["Received two hundred fifty rupees"]

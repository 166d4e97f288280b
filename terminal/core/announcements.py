"""What the voice says, and when: the amount received (only money that arrived exactly as asked), a sale that
expired or was declined (when ``voice.failures`` is on), and the last phrase again on the repeat key. Nothing is
said without a voice fitted, switched on and above volume zero; an amount the language cannot say is left to the
screen and the beep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from terminal.core.effects import Announce, Effect
from terminal.core.sale import FailureKind, Sale, SaleStatus
from terminal.core.speech import Phrase, SpeechError, failure, received
from terminal.core.state import TerminalState

Said = tuple[TerminalState, list[Effect]]


def speaks(state: TerminalState) -> bool:
    """True when a voice is fitted, switched on and its volume is above zero."""
    return state.settings.voice_language is not None and state.voice_on and state.volume > 0


def repeat(state: TerminalState) -> list[Effect]:
    """The repeat key: the last phrase again (nothing when none was said or the voice is off)."""
    phrase = state.last_phrase
    return [Announce(phrase)] if phrase is not None and speaks(state) else []


def say_received(state: TerminalState, sale: Sale) -> Said:
    """ "Received <amount>": what the customer paid for ``sale``."""
    return _announce(state, lambda language: received(sale.received, language))


def say_ended(state: TerminalState, ended: Sale) -> Said:
    """ "Expired" or "failed" for a sale that ran out or was declined, when failures are spoken (``voice.failures``)."""
    declined = ended.failure is not None and ended.failure.kind is FailureKind.DECLINED
    if not state.settings.voice_failures or not (ended.status is SaleStatus.EXPIRED or declined):
        return state, []
    kind = "expired" if ended.status is SaleStatus.EXPIRED else "failed"
    return _announce(state, lambda language: failure(kind, language))


def _announce(state: TerminalState, make: Callable[[str], Phrase]) -> Said:
    """Say the phrase ``make`` builds in the terminal's language, when a voice is fitted and on."""
    language = state.settings.voice_language
    if language is None or not speaks(state):
        return state, []
    try:
        phrase = make(language)
    except SpeechError:
        return state, []  # an amount the language cannot say: the screen and the beep still tell
    return replace(state, last_phrase=phrase), [Announce(phrase)]

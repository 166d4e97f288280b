"""The App's executors (issue #19 item 6): every effect the core can ask for has one, found by the effect's type;
an effect without one is refused with a TypeError instead of being skipped in silence."""

from typing import get_args

import pytest

from terminal.app import EXECUTORS
from terminal.core.effects import Effect

from .core.helpers import at
from .terminal_app import make_terminal


def test_every_kind_of_effect_has_its_executor():
    assert set(EXECUTORS) == set(get_args(Effect))


def test_an_effect_without_an_executor_is_refused_loudly(tmp_path, sandbox):
    terminal = make_terminal(tmp_path, sandbox.url)
    with pytest.raises(TypeError, match="no executor for the effect"):
        terminal.app.execute(object(), at(0))  # type: ignore[arg-type]
    terminal.journal.close()

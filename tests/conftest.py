"""Shared fixtures: real parts only (SDL's dummy driver, a real sandbox on 127.0.0.1, real SQLite files)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gc
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from terminal.sandbox.server import Sandbox
from terminal.store.journal import Journal
from tests.leaks import Resources

# Speed is measured in bench/, never asserted in a test: no per-example deadline for Hypothesis either (a loaded
# machine made one example of the guard's property test take longer than the default 200 ms, and fail).
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")

#: Published payment-QR vectors, each with its source (tests/vectors/payment-qr.json): inside the repository.
VECTORS = json.loads((Path(__file__).resolve().parent / "vectors" / "payment-qr.json").read_text(encoding="utf-8"))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A real sandbox server on an ephemeral loopback port."""
    with Sandbox("127.0.0.1", 0) as server:
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal in a temporary SQLite file."""
    j = Journal(tmp_path / "journal.db")
    yield j
    j.close()


@pytest.fixture(autouse=True)
def _stop_background_threads(_nothing_left_behind: None) -> Iterator[None]:
    """Stop the threads of the terminals a test made, as App.run does when it ends (they would log into the
    next tests, and the leak check would fail). It asks for the leak check so that the check runs after it."""
    yield
    from tests.terminal_app import MADE

    while MADE:
        app = MADE.pop()
        app.reachability.stop()
        app.worker.stop(timeout=0.1)
        app.reports.stop()
        for device in (app.print_queue, app.voice, app.till):
            if device is not None:
                device.stop()
        app.display.stop()


# --- nothing left behind ---------------------------------------------------------------------------------------

#: How long a test's threads, sockets and child processes get to end after it (a thread in its last call, a
#: server's handler finishing its answer). A test that needs longer is leaving work running.
GRACE = 3.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "leaks(reason): the test is known to leave a thread, socket or child process behind (outside the "
        "code it tests); the leak check then warns instead of failing. Say why in the reason.",
    )


@pytest.fixture(autouse=True)
def _nothing_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a thread (daemon or not), an open socket or a child process behind."""
    before = Resources.now()
    yield
    deadline = time.monotonic() + GRACE
    left = Resources.now().since(before)
    while left and time.monotonic() < deadline:
        gc.collect()  # a socket only its garbage still refers to is closed by collecting it
        time.sleep(0.02)
        left = Resources.now().since(before)
    if not left:
        return
    marker = request.node.get_closest_marker("leaks")
    message = f"left behind after {GRACE:.0f} s: " + "; ".join(left)
    if marker is not None:
        warnings.warn(f"{message} (known: {marker.args[0] if marker.args else 'no reason given'})", stacklevel=1)
    else:
        pytest.fail(message, pytrace=False)

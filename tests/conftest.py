"""Shared fixtures: real parts only (SDL's dummy driver, a real sandbox on 127.0.0.1, real SQLite files)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.sandbox.server import Sandbox
from terminal.store.journal import Journal

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
def _stop_background_threads() -> Iterator[None]:
    """Stop the probes and workers of the terminals a test made (they would log into the next tests)."""
    yield
    from tests.terminal_app import MADE

    while MADE:
        app = MADE.pop()
        app.reachability.stop()
        app.worker.stop(timeout=0.1)

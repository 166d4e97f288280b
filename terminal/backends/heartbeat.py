"""The terminal's heartbeat to its hub (contract v1.1 ``POST /v1/heartbeats``): every minute, the facts a chain
owner asks "is every terminal alive?" with — version, uptime, offline sales waiting, printer, till link, journal
size. Sent only to a hub (a terminal enrolled with ``qr-terminal enroll``: its requests are signed); a failed beat
is logged and the next one is sent on time (being offline is the reachability probe's to report)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from terminal.backends.base import BackendError
from terminal.threads import BackgroundThread

log = logging.getLogger(__name__)

#: Seconds between beats; a hub shows a terminal as down after a few missed.
EVERY = 60.0


class HeartbeatSink(Protocol):
    """What a heartbeat is sent through (``HttpBackend`` when it talks to a hub)."""

    def heartbeat(self, facts: dict[str, Any]) -> None:
        """Send one beat. Raises BackendError on any failure."""
        ...


class Heartbeat:
    """Sends ``facts()`` every ``every`` seconds from a background thread (the first beat at once)."""

    def __init__(self, sink: HeartbeatSink, facts: Callable[[], dict[str, Any]], *, every: float = EVERY) -> None:
        self._sink, self._facts, self._every = sink, facts, every
        self._thread = BackgroundThread(self._run, name="heartbeat")
        self.sent = 0

    def start(self) -> Heartbeat:
        """Start beating; returns itself."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop (a beat in flight is abandoned when the backend is closed)."""
        return self._thread.stop(timeout)

    def _run(self) -> None:
        while not self._thread.stopping.is_set():
            try:
                self._sink.heartbeat(self._facts())
                self.sent += 1
            except BackendError as exc:
                log.info("heartbeat not delivered: %s", exc)
            if self._thread.stopping.wait(self._every):
                return

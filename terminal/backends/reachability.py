"""Is the backend reachable? A light probe — every ``online_interval`` seconds while it answers, every
``offline_interval`` seconds while it does not — plus what every real backend call observed. Each change is
posted as a ConnectivityChanged event: the screen shows an offline banner and the LEDs blink, and both clear
by themselves when the network is back (no restart)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from terminal.backends.base import Backend, BackendError
from terminal.core.events import ConnectivityChanged, Event
from terminal.core.problems import Problem, ProblemKind
from terminal.threads import BackgroundThread

log = logging.getLogger(__name__)

#: The troubles that mean "cannot reach the backend" (a refused token or a refused sale do not).
OFFLINE_KINDS = {ProblemKind.UNREACHABLE, ProblemKind.TIMEOUT, ProblemKind.SERVER}


class Reachability:
    """Watches the backend from a background thread; :meth:`observe` takes what other calls saw."""

    def __init__(
        self,
        backend: Backend,
        post: Callable[[Event], None],
        *,
        online_interval: float = 30.0,
        offline_interval: float = 3.0,
        first_probe: float = 1.0,
    ) -> None:
        self._backend, self._post = backend, post
        self._online_interval, self._offline_interval = online_interval, offline_interval
        self._problem: Problem | None = None
        self._lock = threading.Lock()
        self._first = first_probe
        self._thread = BackgroundThread(self._run, name="reachability")
        self._thread.start()

    @property
    def online(self) -> bool:
        """The last verdict."""
        return self._problem is None

    def observe(self, problem: Problem | None) -> None:
        """A backend call succeeded (None) or failed with ``problem``."""
        if problem is not None and problem.kind not in OFFLINE_KINDS:
            problem = None  # it answered: the network is fine
        with self._lock:
            if (problem is None) == (self._problem is None):
                self._problem = problem if problem is not None else None
                return
            self._problem = problem
        log.warning("backend %s", f"unreachable: {problem.detail}" if problem else "reachable again")
        self._post(ConnectivityChanged(problem))

    def stop(self, timeout: float = 1.0) -> bool:
        """End the probe (waiting up to ``timeout`` s for one in flight); False when its thread did not end."""
        return self._thread.stop(timeout)

    def _run(self) -> None:
        wait = self._first
        while not self._thread.stopping.wait(wait):
            try:
                self._backend.probe()
            except BackendError as exc:
                self.observe(exc.problem)
            else:
                self.observe(None)
            wait = self._online_interval if self.online else self._offline_interval

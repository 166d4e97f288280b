"""Background threads with one owner each, modelled on gpiozero's ``GPIOThread``.

Every thread the terminal starts is a :class:`BackgroundThread`: it has a ``stopping`` event its work waits on
(never a bare ``time.sleep``), its owner starts it and, at shutdown, calls :meth:`BackgroundThread.stop`, which
joins it and reports a thread that will not stop. A :class:`Lane` is a thread (or a few) running queued jobs in
the order they are due: a job that must be retried later is scheduled again instead of sleeping, so a retry
never holds a thread another job needs.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)


class BackgroundThread(threading.Thread):
    """A daemon thread with a ``stopping`` event; :meth:`stop` sets it and joins the thread."""

    def __init__(
        self,
        target: Callable[..., object],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        name: str,
    ) -> None:
        super().__init__(target=target, args=args, kwargs=kwargs or {}, name=name, daemon=True)
        #: Set when the owner wants the thread to end; the thread's waits use ``stopping.wait(seconds)``.
        self.stopping = threading.Event()
        self._at_exit: list[Callable[[], object]] = []

    def run(self) -> None:
        try:
            super().run()
        except Exception:
            log.exception("thread %s ended with an error", self.name)
        finally:
            for callback in reversed(self._at_exit):
                try:
                    callback()
                except Exception:
                    log.exception("thread %s: clean-up failed", self.name)

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` s. False (and an error logged) when it did not."""
        self.stopping.set()
        if self.ident is None or self is threading.current_thread():
            return True  # never started, or stopping itself (it ends when it returns)
        self.join(timeout)
        if self.is_alive():
            log.error("thread %s did not stop within %.1f s", self.name, timeout)
            return False
        return True


def at_thread_exit(callback: Callable[[], object]) -> None:
    """Run ``callback`` when the current thread ends, if it is a :class:`BackgroundThread` (e.g. close the
    HTTP session it opened); on any other thread the caller's owner cleans up instead."""
    thread = threading.current_thread()
    if isinstance(thread, BackgroundThread):
        thread._at_exit.append(callback)


def current_stopping() -> threading.Event:
    """The ``stopping`` event of the current :class:`BackgroundThread` (on another thread: one never set)."""
    thread = threading.current_thread()
    return thread.stopping if isinstance(thread, BackgroundThread) else threading.Event()


#: A job of a :class:`Lane`: it returns None when done, or the seconds after which to run it again.
Job = Callable[[], float | None]


def steps(work: Iterator[float]) -> Job:
    """A job from a generator that yields the seconds to wait before its next step (a retry, a poll):
    the lane runs other jobs meanwhile, and a stopped lane simply never resumes it."""
    return lambda: next(work, None)


class Lane:
    """Runs jobs on ``workers`` threads in the order they are due. Threads start with the first job, or with
    :meth:`start`; each runs ``on_start`` before its first job (e.g. opening its connection ahead)."""

    def __init__(self, name: str, *, workers: int = 1, on_start: Callable[[], None] | None = None) -> None:
        self.name = name
        self._workers = workers
        self._on_start = on_start
        self._jobs: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self._threads: list[BackgroundThread] = []

    def submit(self, job: Job, *, delay: float = 0.0) -> None:
        """Run ``job`` in ``delay`` s (at once by default); jobs submitted after :meth:`stop` are dropped."""
        with self._changed:
            if self._stopping:
                log.info("lane %s is stopped: job dropped", self.name)
                return
            heapq.heappush(self._jobs, (time.monotonic() + delay, next(self._order), job))
            self._start()
            self._changed.notify()

    def start(self) -> None:
        """Start the lane's threads now (they wait for jobs), unless they run already or the lane stopped."""
        with self._changed:
            if not self._stopping:
                self._start()

    def _start(self) -> None:
        if not self._threads:
            self._threads = [BackgroundThread(self._run, name=f"{self.name}-{i}") for i in range(self._workers)]
            for thread in self._threads:
                thread.start()

    def request_stop(self) -> None:
        """Drop the jobs not started; the running ones end the lane's threads when they return."""
        with self._changed:
            self._stopping = True
            self._jobs.clear()
            self._changed.notify_all()
        for thread in self._threads:
            thread.stopping.set()

    def stop(self, timeout: float = 10.0) -> list[str]:
        """:meth:`request_stop`, then wait for the running jobs; the names of threads that did not end."""
        self.request_stop()
        deadline = time.monotonic() + timeout
        return [t.name for t in self._threads if not t.stop(max(0.0, deadline - time.monotonic()))]

    def _next(self) -> Job | None:
        with self._changed:
            while not self._stopping:
                if self._jobs:
                    due = self._jobs[0][0] - time.monotonic()
                    if due <= 0:
                        return heapq.heappop(self._jobs)[2]
                    self._changed.wait(due)
                else:
                    self._changed.wait()
            return None

    def _run(self) -> None:
        if self._on_start is not None:
            try:
                self._on_start()
            except Exception:  # only ever a head start: the jobs run without it
                log.exception("lane %s: its start-up failed", self.name)
        while (job := self._next()) is not None:
            try:
                again = job()
            except Exception:  # a job's bug must not end the lane for every job after it
                log.exception("lane %s: a job failed", self.name)
                continue
            if again is not None:
                self.submit(job, delay=again)

"""Waking long-polls: in this process when a change commits here, and on every replica through PostgreSQL's
``LISTEN qr_hub`` (the ledger's ``pg_notify`` goes out with the commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable

log = logging.getLogger(__name__)

CHANNEL = "qr_hub"


class Waiter:
    """One long-poll's wake-up: set when any of its keys changes. Clear it before each re-read."""

    def __init__(self, wakeups: Wakeups, keys: Iterable[str]) -> None:
        self.event = asyncio.Event()
        self.keys = tuple(keys)
        self._wakeups = wakeups

    async def wait(self, timeout: float) -> bool:
        """True when woken, False after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        """Stop listening."""
        self._wakeups.forget(self)

    def __enter__(self) -> Waiter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Wakeups:
    """Waiters by key; :meth:`wake` may be called from any thread."""

    def __init__(self) -> None:
        #: Set when the hub stops serving: every long-poll answers at once with what it has.
        self.closing = False
        self._waiters: dict[str, set[Waiter]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def waiter(self, *keys: str) -> Waiter:
        """A waiter for ``keys`` (call in the event loop)."""
        self._loop = asyncio.get_running_loop()
        waiter = Waiter(self, keys)
        for key in keys:
            self._waiters.setdefault(key, set()).add(waiter)
        return waiter

    def forget(self, waiter: Waiter) -> None:
        for key in waiter.keys:
            group = self._waiters.get(key)
            if group is not None:
                group.discard(waiter)
                if not group:
                    del self._waiters[key]

    def wake(self, key: str) -> None:
        """Wake the waiters of ``key`` (thread-safe)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(self._wake_now, key)

    def wake_all(self) -> None:
        """Wake everyone (after the LISTEN connection was lost: they re-read)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_everyone)

    def close(self) -> None:
        """The hub is stopping: wake every long-poll, and have each answer now (thread-safe; a signal handler
        may call it). Without it a stopping server waits out its grace period and then cancels them mid-wait."""
        self.closing = True
        self.wake_all()

    def _wake_everyone(self) -> None:
        for key in list(self._waiters):
            self._wake_now(key)

    def _wake_now(self, key: str) -> None:
        for waiter in list(self._waiters.get(key, ())):
            waiter.event.set()

    @property
    def waiting(self) -> int:
        """How many long-polls wait now."""
        return len({w for group in self._waiters.values() for w in group})

    # --- PostgreSQL ---------------------------------------------------------------------------

    def listen(self, dsn: str) -> None:
        """Hear every replica's changes (a thread with its own connection; reconnects when it drops)."""
        self._listener = threading.Thread(target=self._listen, args=(dsn,), name="hub-listen", daemon=True)
        self._listener.start()

    def stop(self) -> None:
        """Stop listening (joins the thread)."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
            if self._listener.is_alive():
                log.warning("the LISTEN thread did not stop within 5 s")

    def _listen(self, dsn: str) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.wake_all()  # anything missed while we were away
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self.wake(note.payload)
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(1.0)

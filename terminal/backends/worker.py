"""Runs backend calls off the loop thread and posts their results as core events.

The loop never blocks on the network. Calls run in lanes that never share a thread, so one kind of trouble
cannot starve another: creates (a customer is waiting), cancels, and the books (reconciliation, reports,
refunds). A call that must be retried is scheduled again on its lane instead of sleeping in it, and
Retry-After is obeyed only up to a minute. An order awaiting payment has its own watcher thread (a long-poll
holds it: "Paid" is shown the moment the backend answers). Once it is paid, a customer may still pay the same QR
again until it expires, so the order is followed further — but by one shared follow-up lane that looks at every
paid order every ten seconds or so, not by a thread (and a kept-alive connection, and a long-poll held at the
backend) per paid sale: a busy shop would otherwise hold a thread for every sale of the last quarter of an hour.
An order's following is released when its status is final — from the watcher or from a cancel's reply — when
its QR expires, or when its cancel gives up. Every thread is a :class:`terminal.threads.BackgroundThread`, joined
by :meth:`OrderWorker.stop`.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from terminal.backends.base import Backend, BackendError
from terminal.backends.transport import MAX_RETRY_AFTER
from terminal.core.events import (
    Event,
    OrderCreated,
    OrderNotCreated,
    OrderUpdated,
    Reconciled,
    RefundUpdated,
    ReportAddendum,
)
from terminal.core.matching import Verdict, match
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate, ProviderRefund
from terminal.core.problems import Problem, ProblemKind
from terminal.core.refund import Refund, RefundStatus
from terminal.threads import BackgroundThread, Lane, current_stopping, steps

if TYPE_CHECKING:
    from terminal.reconciliation import Ours

log = logging.getLogger(__name__)

#: Seconds between two looks of the follow-up lane, on average, at the least: with many paid orders each is looked
#: at less often, so that together they make about two calls a second at most whatever their number (a provider's
#: rate limit is shared with the next sales' creates and long-polls).
FOLLOW_UP_GAP = 0.5


class OrderWorker:
    """Creates, follows (long-poll, with a polling fallback) and cancels orders for the loop."""

    def __init__(
        self,
        backend: Backend,
        post: Callable[[Event], None],
        *,
        long_poll: float = 25.0,
        poll_interval: float = 2.0,
        max_backoff: float = 30.0,
        cancel_for: float = 600.0,
        follow_up_every: float | None = None,
        observe: Callable[[Problem | None], None] | None = None,
        created: Callable[[Order], None] | None = None,
    ) -> None:
        self.backend = backend
        self._post = post
        #: Called on the create's thread right after OrderCreated is posted (the app draws the QR ahead there).
        self._created = created or (lambda order: None)
        self._long_poll = long_poll
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._cancel_for = cancel_for
        #: Seconds between two looks at a paid order (for a second payment): the slow rate once paid, and never
        #: slower than a long-poll that answers with nothing new.
        self._follow_up_every = (
            follow_up_every if follow_up_every is not None else max(poll_interval, min(long_poll, 10.0))
        )
        self._observe = observe or (lambda problem: None)
        self._stopped = False
        self._lock = threading.Lock()
        # Lane threads live as long as the worker, so their HTTP connections (and TLS sessions) are reused: a
        # fresh TLS handshake per sale would dominate key→QR time on a real network. Two create threads: a
        # sale cancelled while its create hangs must not hold up the next sale's create.
        self._creates = Lane("backend-create", workers=2, on_start=backend.connect_ahead)
        self._cancels = Lane("backend-cancel")
        self._books = Lane("backend-books")
        #: One thread looks at every paid order until its QR expires (started with the first paid order).
        self._follow_up_lane = Lane("backend-follow-up")
        #: order id → the thread following it (orders awaiting payment).
        self._watchers: dict[str, BackgroundThread] = {}
        #: order id → the event that ends its follow-up (paid orders, looked at by the follow-up lane).
        self._follow_ups: dict[str, threading.Event] = {}
        #: Every watcher started and still alive, released ones included (stop() joins them all).
        self._started: list[BackgroundThread] = []

    def prepare(self) -> None:
        """Start the create threads now, each connecting to the backend ahead: the first sale's create then
        waits for no thread start, TCP connect or TLS handshake (on a real network, the longest of them)."""
        self._creates.start()

    def create(self, request: OrderRequest) -> None:
        """Create the order in the background; posts OrderCreated or OrderNotCreated."""
        self._creates.submit(lambda: self._create(request))

    def watch(self, sale_id: str, order_id: str, *, until: datetime | None = None) -> None:
        """Follow the order until its status is final; posts OrderUpdated on every change. Once paid, keep
        following it until ``until`` (the QR's expiry) for another payment: a customer may pay one QR twice.
        Its own thread long-polls while it awaits payment; once paid, the follow-up lane looks at it."""
        with self._lock:
            if self._stopped or order_id in self._watchers or order_id in self._follow_ups:
                return
            thread = BackgroundThread(self._watch, (sale_id, order_id, until), name=f"watch-{order_id}")
            self._watchers[order_id] = thread
            self._started = [t for t in self._started if t.is_alive()] + [thread]
        thread.start()

    @property
    def watching(self) -> tuple[str, ...]:
        """The orders being followed: awaiting payment (their watcher threads are alive or about to be), then
        paid, by the follow-up lane until their QR expires."""
        with self._lock:
            return tuple(self._watchers) + tuple(self._follow_ups)

    def cancel(self, sale_id: str, order_id: str) -> None:
        """Cancel the order (retrying for up to ``cancel_for`` s: cancel is idempotent); posts the reply as
        OrderUpdated. A final reply also ends the order's watcher."""
        self._cancels.submit(steps(self._cancel(sale_id, order_id)))

    def reconcile(self, since: datetime, references: tuple[str, ...]) -> None:
        """Look for these references' payments in the backend's history; posts Reconciled for each found."""
        self._books.submit(steps(self._reconcile(since, references)))

    def refund(self, refund: Refund) -> None:
        """Ask for the refund (retrying while the backend cannot be reached: our refund id is the key, so a
        retry never makes a second one), then follow it until it is final; posts RefundUpdated."""
        self._books.submit(steps(self._refund(refund)))

    def reconcile_report(self, kind: str, ours: Ours) -> None:
        """Compare the journal's day with the backend's; posts the summary lines as ReportAddendum."""
        from terminal.reconciliation import summary

        def report() -> None:
            self._post(ReportAddendum(kind, summary(self.backend, ours)))

        self._books.submit(report)

    def stop(self, timeout: float = 1.0) -> list[str]:
        """End every thread: queued calls are dropped, waits are interrupted, calls in flight are cut off (the
        backend's connections are closed), and each thread is joined for up to ``timeout`` s in all. Returns
        the names of the threads that did not end (each is logged)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._stopped = True
            watchers = list(self._started)
            follow_ups = list(self._follow_ups.values())
            self._follow_ups.clear()
        lanes = (self._creates, self._cancels, self._books, self._follow_up_lane)
        for lane in lanes:
            lane.request_stop()
        for thread in watchers:
            thread.stopping.set()
        for released in follow_ups:
            released.set()
        self.backend.close()
        stuck = [name for lane in lanes for name in lane.stop(max(0.0, deadline - time.monotonic()))]
        return stuck + [t.name for t in watchers if not t.stop(max(0.0, deadline - time.monotonic()))]

    # --- the calls ------------------------------------------------------------------------------

    def _create(self, request: OrderRequest) -> None:
        try:
            order = self.backend.create_order(request)
        except BackendError as exc:
            log.warning("create %s failed: %s", request.reference, exc)
            self._observe(exc.problem)
            self._post(OrderNotCreated(request.sale_id, exc.problem))
        except Exception as exc:  # a backend adapter's bug must still end the sale's "creating" at once
            log.exception("create %s: unexpected error", request.reference)
            self._post(OrderNotCreated(request.sale_id, Problem(ProblemKind.BAD_REPLY, repr(exc))))
        else:
            self._observe(None)
            self._post(OrderCreated(request.sale_id, order))
            if isinstance(order, Order):  # (a broken adapter's is the loop's to refuse)
                self._created(order)

    def _watch(self, sale_id: str, order_id: str, until: datetime | None) -> None:
        try:
            self._follow(sale_id, order_id, until, current_stopping())
        finally:
            with self._lock:
                if self._watchers.get(order_id) is threading.current_thread():
                    del self._watchers[order_id]

    def _follow(self, sale_id: str, order_id: str, until: datetime | None, stopping: threading.Event) -> None:
        known, counted, unreadable = OrderStatus.PENDING, 0, None
        owing = False
        failures = 0
        while not stopping.is_set():
            started = time.monotonic()
            wait = self._long_poll
            if known is OrderStatus.PAID:
                left = _left(until)
                if left <= 1:
                    return  # the QR can no longer be paid: nothing more will arrive
                if not owing:
                    # Paid in full: only a second payment can still come. The follow-up lane looks for it.
                    self._hand_over(sale_id, order_id, until, counted, unreadable)
                    return
                wait = min(wait, left)  # the rest of an underpayment is awaited here, as the first payment was
            try:
                paid = known is OrderStatus.PAID
                update = self.backend.get_order(
                    order_id, wait=wait, known=known, known_payments=counted if paid else None
                )
            except BackendError as exc:
                if stopping.is_set():
                    return  # released or shutting down: whatever went wrong no longer matters
                self._observe(exc.problem)
                failures += 1
                delay = self._backoff(failures, exc.problem.retry_after)
                log.info("watch %s: %s; next try in %.1f s", order_id, exc, delay)
                stopping.wait(delay)
                continue
            failures = 0
            self._observe(None)
            news = _seen(update) != (known, counted, unreadable)
            if news:
                self._post(OrderUpdated(sale_id, update))  # even when released meanwhile: money wins
                known, counted, unreadable = _seen(update)
                owing = _owing(update)
            if known.is_final and known is not OrderStatus.PAID:
                return
            if not news and time.monotonic() - started < min(1.0, wait / 2):
                # The backend answered at once with nothing new: it does not long-poll. Poll instead.
                stopping.wait(self._poll_interval)

    def _hand_over(
        self, sale_id: str, order_id: str, until: datetime | None, counted: int, unreadable: str | None
    ) -> None:
        """Pass a paid order from its watcher thread (which then ends) to the follow-up lane, unless it was
        released meanwhile or the worker is stopping."""
        released = threading.Event()
        with self._lock:
            if self._stopped or self._watchers.get(order_id) is not threading.current_thread():
                return
            del self._watchers[order_id]
            self._follow_ups[order_id] = released
        log.info("watch %s: paid; followed by the follow-up lane until its QR expires", order_id)
        follow_up = self._follow_up(sale_id, order_id, until, counted, unreadable, released)
        self._follow_up_lane.submit(steps(follow_up))

    def _follow_up(
        self,
        sale_id: str,
        order_id: str,
        until: datetime | None,
        counted: int,
        unreadable: str | None,
        released: threading.Event,
    ) -> Iterator[float]:
        """Look at a paid order every so often until its QR expires, for another payment: one job of the
        follow-up lane, posting OrderUpdated on news as the watcher did."""
        known, failures = OrderStatus.PAID, 0
        delay = self._follow_up_delay()
        while not released.is_set():
            left = _left(until)
            if left <= 1:
                break  # the QR can no longer be paid
            yield min(delay, left - 1)  # the last look comes just before the QR expires
            if released.is_set():
                break
            try:
                update = self.backend.get_order(order_id, wait=0, known=known, known_payments=counted)
            except BackendError as exc:
                if released.is_set():
                    break  # released or shutting down: whatever went wrong no longer matters
                self._observe(exc.problem)
                failures += 1
                delay = self._backoff(failures, exc.problem.retry_after)
                log.info("follow-up %s: %s; next look in %.1f s", order_id, exc, delay)
                continue
            except Exception:  # a backend adapter's bug: retrying will not help (the other orders go on)
                log.exception("follow-up %s: unexpected error; no longer followed", order_id)
                break
            failures = 0
            self._observe(None)
            if _seen(update) != (known, counted, unreadable):
                self._post(OrderUpdated(sale_id, update))  # even when released meanwhile: money wins
                known, counted, unreadable = _seen(update)
            if known.is_final and known is not OrderStatus.PAID:
                break
            delay = self._follow_up_delay()
        with self._lock:
            if self._follow_ups.get(order_id) is released:
                del self._follow_ups[order_id]

    def _follow_up_delay(self) -> float:
        """Seconds to a paid order's next look: ``follow_up_every``, longer with many paid orders (see
        FOLLOW_UP_GAP), and jittered, so that orders paid at the same moment (after a restart) drift apart."""
        with self._lock:
            every = max(self._follow_up_every, len(self._follow_ups) * FOLLOW_UP_GAP)
        return random.uniform(0.8, 1.0) * every

    def _release(self, order_id: str, why: str) -> None:
        """End the order's watcher (without waiting for a long-poll in flight: it ends when that returns), or its
        follow-up (dropped at its next look)."""
        with self._lock:
            thread = self._watchers.pop(order_id, None)
            follow_up = self._follow_ups.pop(order_id, None)
        if thread is not None or follow_up is not None:
            log.info("watch %s released: %s", order_id, why)
        if thread is not None:
            thread.stopping.set()
        if follow_up is not None:
            follow_up.set()

    def _cancel(self, sale_id: str, order_id: str) -> Iterator[float]:
        started = time.monotonic()
        for attempt in itertools.count(1):
            try:
                update = self.backend.cancel_order(order_id)
            except BackendError as exc:
                if time.monotonic() - started >= self._cancel_for:
                    # The backend expires the order by itself; a restart sends the cancel again (the journal
                    # keeps the order open), and a payment found then still wins.
                    log.error("cancel %s gave up after %d tries: %s", order_id, attempt, exc)
                    self._release(order_id, "its cancel gave up")
                    return
                delay = self._backoff(attempt, exc.problem.retry_after)
                log.warning("cancel %s (try %d): %s; next try in %.1f s", order_id, attempt, exc, delay)
                yield delay
                continue
            except Exception:  # a backend adapter's bug: retrying will not help; a restart sends it again
                log.exception("cancel %s: unexpected error", order_id)
                self._release(order_id, "its cancel failed")
                return
            self._post(OrderUpdated(sale_id, update))
            if update.status.is_final and update.status is not OrderStatus.PAID:
                # Paid: it is followed on until the QR expires, for a second payment of the same QR.
                self._release(order_id, f"the cancel answered {update.status}")
            return

    def _refund(self, refund: Refund) -> Iterator[float]:
        made = yield from self._ask_refund(refund)
        if made is None:
            return
        status = RefundStatus(made.status)
        self._post(RefundUpdated(refund.id, status, made.id, made.message))
        interval = self._poll_interval
        while status is RefundStatus.PENDING:
            yield interval
            interval = min(60.0, interval * 1.5)  # banks settle refunds in minutes to days
            try:
                update = self.backend.get_order(refund.order_id)
            except BackendError as exc:
                log.info("refund %s: %s", refund.id, exc)
                continue
            now = next((r for r in update.refunds if r.id == made.id), None)
            if now is not None and now.status != status:
                status = RefundStatus(now.status)
                self._post(RefundUpdated(refund.id, status, made.id, now.message))

    def _ask_refund(self, refund: Refund) -> Generator[float, None, ProviderRefund | None]:
        for failures in itertools.count(1):
            try:
                return self.backend.refund(refund.order_id, refund.id, refund.amount, "refund by the shop")
            except BackendError as exc:
                if exc.problem.kind in (ProblemKind.REJECTED, ProblemKind.CONFLICT):
                    log.warning("refund %s refused: %s", refund.id, exc)
                    self._post(RefundUpdated(refund.id, RefundStatus.FAILED, None, _reason(exc.problem)))
                    return None
                self._observe(exc.problem)
                if failures == 1:
                    waiting = "the backend cannot be reached: the refund is kept and sent when it is back"
                    self._post(RefundUpdated(refund.id, RefundStatus.REQUESTED, None, waiting))
                delay = self._backoff(failures, exc.problem.retry_after)
                log.info("refund %s: %s; next try in %.1f s", refund.id, exc, delay)
                yield delay
            except Exception:  # a backend adapter's bug: keep the refund requested (resent at the next start)
                log.exception("refund %s: unexpected error", refund.id)
                return None
        return None  # unreachable: count() never ends (mypy wants a return)

    def _reconcile(self, since: datetime, references: tuple[str, ...]) -> Iterator[float]:
        wanted = set(references)
        for attempt in range(1, 4):
            try:
                history = self.backend.history(since)
            except BackendError as exc:
                self._observe(exc.problem)
                log.warning("reconciliation (try %d): %s", attempt, exc)
                yield self._backoff(attempt, exc.problem.retry_after)
                continue
            for reference, update in history:
                if reference in wanted and update.status is OrderStatus.PAID:
                    self._post(Reconciled(reference, update))
            return

    def _backoff(self, failures: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter up to ``max_backoff``, at least the server's Retry-After up to
        MAX_RETRY_AFTER (a server asking for a day is not obeyed: the order would be long expired)."""
        ceiling = min(self._max_backoff, 0.5 * 2 ** min(failures, 32))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, min(MAX_RETRY_AFTER, retry_after or 0.0))


def _left(until: datetime | None) -> float:
    """Seconds until the QR expires (none at all without an expiry)."""
    return (until - datetime.now(UTC)).total_seconds() if until is not None else 0.0


def _seen(update: OrderUpdate) -> tuple[OrderStatus, int, str | None]:
    """What a watcher and the follow-up lane compare to know there is news: the status, the payments counted, the
    unreadable payment."""
    return update.status, len(update.payments), update.unreadable_payment


def _owing(update: OrderUpdate) -> bool:
    """True when a paid order says how much it asked and less than that arrived: the customer is being asked
    for the rest, which must show as fast as the first payment did (so its watcher thread keeps long-polling)."""
    if update.amount is None:
        return False  # (a backend that does not say: the follow-up lane sees the rest, a little later)
    return match(update.amount, update.payments, update.unreadable_payment).verdict is Verdict.UNDERPAID


def _reason(problem: Problem) -> str:
    """The backend's own words for a refusal (``… HTTP 422 the refund exceeds …`` → ``the refund exceeds …``)."""
    _, marker, rest = problem.detail.partition(" HTTP ")
    words = rest.split(" ", 1)[1] if marker and " " in rest else problem.detail
    return words or problem.advice

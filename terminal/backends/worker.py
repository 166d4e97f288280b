"""Runs backend calls off the loop thread and posts their results as core events.

The loop never blocks on the network: each call runs in a thread that only *posts* events (create →
OrderCreated/OrderNotCreated, watch/cancel → OrderUpdated). Waits use an interruptible Event.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from terminal.backends.base import Backend, BackendError
from terminal.core.events import (
    Event,
    OrderCreated,
    OrderNotCreated,
    OrderUpdated,
    Reconciled,
    RefundUpdated,
    ReportAddendum,
)
from terminal.core.orders import OrderRequest, OrderStatus, ProviderRefund
from terminal.core.problems import Problem, ProblemKind
from terminal.core.refund import Refund, RefundStatus

if TYPE_CHECKING:
    from terminal.reconcile_tool import Ours

log = logging.getLogger(__name__)


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
        cancel_attempts: int = 5,
        observe: Callable[[Problem | None], None] | None = None,
    ) -> None:
        self.backend = backend
        self._post = post
        self._long_poll = long_poll
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._cancel_attempts = cancel_attempts
        self._observe = observe or (lambda problem: None)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Creates and cancels share a few long-lived threads, so their HTTP connections (and TLS sessions)
        # are reused: a fresh TLS handshake per sale would dominate key→QR time on a real network.
        self._calls = ThreadPoolExecutor(max_workers=3, thread_name_prefix="backend")

    def create(self, request: OrderRequest) -> None:
        """Create the order in the background; posts OrderCreated or OrderNotCreated."""
        self._calls.submit(self._create, request)

    def watch(self, sale_id: str, order_id: str, *, until: datetime | None = None) -> None:
        """Follow the order until its status is final; posts OrderUpdated on every change. Once paid, keep
        following it until ``until`` (the QR's expiry) for another payment: a customer may pay one QR twice."""
        self._spawn(self._watch, sale_id, order_id, until, name=f"watch-{order_id}")

    def cancel(self, sale_id: str, order_id: str) -> None:
        """Cancel the order (retrying: cancel is idempotent); posts the reply as OrderUpdated."""
        self._calls.submit(self._cancel, sale_id, order_id)

    def reconcile(self, since: datetime, references: tuple[str, ...]) -> None:
        """Look for these references' payments in the backend's history; posts Reconciled for each found."""
        self._calls.submit(self._reconcile, since, references)

    def refund(self, refund: Refund) -> None:
        """Ask for the refund (retrying while the backend cannot be reached: our refund id is the key, so a
        retry never makes a second one), then follow it until it is final; posts RefundUpdated."""
        self._spawn(self._refund, refund, name=f"refund-{refund.id}")

    def reconcile_report(self, kind: str, ours: Ours) -> None:
        """Compare the journal's day with the backend's; posts the summary lines as ReportAddendum."""
        from terminal.reconcile_tool import summary

        self._calls.submit(lambda: self._post(ReportAddendum(kind, summary(self.backend, ours))))

    def stop(self, timeout: float = 1.0) -> None:
        """Ask every thread to end and wait a little for them (a long-poll in flight is abandoned)."""
        self._stop.set()
        self._calls.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.backend.close()

    # --- threads ------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

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

    def _watch(self, sale_id: str, order_id: str, until: datetime | None = None) -> None:
        known, counted = OrderStatus.PENDING, 0
        failures = 0
        while not self._stop.is_set():
            started = time.monotonic()
            wait = self._long_poll
            if known is OrderStatus.PAID:
                left = (until - datetime.now(UTC)).total_seconds() if until is not None else 0.0
                if left <= 1:
                    return  # the QR can no longer be paid: nothing more will arrive
                wait = min(wait, left)
            try:
                paid = known is OrderStatus.PAID
                update = self.backend.get_order(order_id, wait=wait, known=known,
                                                known_payments=counted if paid else None)  # fmt: skip
            except BackendError as exc:
                if self._stop.is_set():
                    return  # we are shutting down: the abort is ours
                self._observe(exc.problem)
                failures += 1
                delay = self._backoff(failures, exc.problem.retry_after)
                log.info("watch %s: %s; next try in %.1f s", order_id, exc, delay)
                self._stop.wait(delay)
                continue
            failures = 0
            self._observe(None)
            news = update.status != known or len(update.payments) != counted
            if news:
                self._post(OrderUpdated(sale_id, update))
                known, counted = update.status, len(update.payments)
            if known.is_final and known is not OrderStatus.PAID:
                return
            if not news and time.monotonic() - started < min(1.0, wait / 2):
                # The backend answered at once with nothing new: it does not long-poll. Poll instead (slowly once
                # paid: a second payment is rare, and a provider's rate limit is shared with the next sales).
                self._stop.wait(
                    self._poll_interval if known is not OrderStatus.PAID else max(self._poll_interval, 10.0)
                )

    def _cancel(self, sale_id: str, order_id: str) -> None:
        for attempt in range(1, self._cancel_attempts + 1):
            try:
                update = self.backend.cancel_order(order_id)
            except BackendError as exc:
                log.warning("cancel %s (try %d): %s", order_id, attempt, exc)
                if self._stop.wait(self._backoff(attempt, exc.problem.retry_after)):
                    return
                continue
            self._post(OrderUpdated(sale_id, update))
            return
        # Still open at the backend: the watcher (if any) keeps following it until it expires there.
        log.error("cancel %s gave up after %d tries", order_id, self._cancel_attempts)

    def _refund(self, refund: Refund) -> None:
        made = self._ask_refund(refund)
        if made is None:
            return
        status = RefundStatus(made.status)
        self._post(RefundUpdated(refund.id, status, made.id, made.message))
        interval = self._poll_interval
        while status is RefundStatus.PENDING and not self._stop.wait(interval):
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

    def _ask_refund(self, refund: Refund) -> ProviderRefund | None:
        failures = 0
        while not self._stop.is_set():
            try:
                return self.backend.refund(refund.order_id, refund.id, refund.amount, "refund by the shop")
            except BackendError as exc:
                if exc.problem.kind in (ProblemKind.REJECTED, ProblemKind.CONFLICT):
                    log.warning("refund %s refused: %s", refund.id, exc)
                    self._post(RefundUpdated(refund.id, RefundStatus.FAILED, None, _reason(exc.problem)))
                    return None
                self._observe(exc.problem)
                failures += 1
                if failures == 1:
                    waiting = "the backend cannot be reached: the refund is kept and sent when it is back"
                    self._post(RefundUpdated(refund.id, RefundStatus.REQUESTED, None, waiting))
                delay = self._backoff(failures, exc.problem.retry_after)
                log.info("refund %s: %s; next try in %.1f s", refund.id, exc, delay)
                self._stop.wait(delay)
            except Exception:  # a backend adapter's bug: keep the refund requested (resent at the next start)
                log.exception("refund %s: unexpected error", refund.id)
                return None
        return None

    def _reconcile(self, since: datetime, references: tuple[str, ...]) -> None:
        wanted = set(references)
        for attempt in range(1, 4):
            try:
                history = self.backend.history(since)
            except BackendError as exc:
                self._observe(exc.problem)
                log.warning("reconciliation (try %d): %s", attempt, exc)
                if self._stop.wait(self._backoff(attempt, exc.problem.retry_after)):
                    return
                continue
            for reference, update in history:
                if reference in wanted and update.status is OrderStatus.PAID:
                    self._post(Reconciled(reference, update))
            return

    def _backoff(self, failures: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, at least the server's Retry-After."""
        ceiling = min(self._max_backoff, 0.5 * 2**failures)
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


def _reason(problem: Problem) -> str:
    """The backend's own words for a refusal (``… HTTP 422 the refund exceeds …`` → ``the refund exceeds …``)."""
    _, marker, rest = problem.detail.partition(" HTTP ")
    words = rest.split(" ", 1)[1] if marker and " " in rest else problem.detail
    return words or problem.advice

"""The backend interface every backend satisfies (contract v1 client, sandbox, provider adapters)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate, ProviderRefund, Settlement
from terminal.core.problems import Problem, ProblemKind


class BackendError(Exception):
    """A backend call that did not work; ``problem`` says what kind of trouble, for the shopkeeper."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.kind}: {problem.detail}")
        self.problem = problem


def bad_reply(detail: str) -> BackendError:
    """The error for a reply the terminal cannot understand."""
    return BackendError(Problem(ProblemKind.BAD_REPLY, detail))


class Backend(Protocol):
    """Creates orders and reports their status. Every method may block (call it from a worker thread)
    and raises :class:`BackendError` on any failure — never a library exception."""

    #: True for the bundled sandbox (the screen then carries a SANDBOX mark).
    sandbox: bool

    def create_order(self, request: OrderRequest) -> Order:
        """Create the order for a sale. Retrying with the same request returns the same order."""
        ...

    def get_order(
        self, order_id: str, *, wait: float = 0, known: OrderStatus | None = None, known_payments: int | None = None
    ) -> OrderUpdate:
        """The order's status; with ``wait``, answer when it differs from ``known`` (or, contract v1.1, when the
        number of payments differs from ``known_payments``) or after ``wait`` s. Backends that cannot long-poll
        answer at once (the worker then polls)."""
        ...

    def cancel_order(self, order_id: str) -> OrderUpdate:
        """Cancel the order (idempotent). On an order already paid, return it as paid — money wins."""
        ...

    def refund(self, order_id: str, refund_id: str, amount: Amount, reason: str) -> ProviderRefund:
        """Refund ``amount`` of a paid order; ``refund_id`` is the Idempotency-Key (a retry makes no second one).
        A refusal (not paid, too large) raises BackendError with ProblemKind.REJECTED or CONFLICT."""
        ...

    def settlement(self, date: str) -> Settlement | None:
        """What the backend settled on ``date`` (YYYY-MM-DD), or None when it has no settlement report."""
        ...

    def history(self, since: datetime) -> list[tuple[str, OrderUpdate]]:
        """Orders created since ``since``, as (reference, status) — for reconciliation."""
        ...

    def connect_ahead(self) -> None:
        """Open the calling thread's connection before its first call (a head start; failures are only logged)."""
        ...

    def probe(self) -> None:
        """A cheap call that proves the backend answers and accepts the device token."""
        ...

    def close(self) -> None:
        """Release connections, ending the calls other threads have in flight (they raise BackendError):
        a stopping terminal must not wait for a long-poll. The backend stays usable afterwards."""
        ...

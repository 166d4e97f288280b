"""What the core asks the shell to do, in order. Journal effects always come first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from terminal.core.orders import OrderRequest
from terminal.core.sale import Sale


@dataclass(frozen=True, slots=True)
class JournalSale:
    """Commit the sale's current row and one journal event (``cause``) before anything shows it."""

    sale: Sale
    previous: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class JournalSecurity:
    """Commit a security event (a refused QR) for the integrator to investigate."""

    sale_id: str
    message: str
    payload: str


@dataclass(frozen=True, slots=True)
class CreateOrder:
    """Ask the backend for an order (the sale id is the Idempotency-Key)."""

    request: OrderRequest


@dataclass(frozen=True, slots=True)
class WatchOrder:
    """Follow the order's status (long-poll) until it is final."""

    sale_id: str
    order_id: str


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel the order at the backend; its reply comes back as an OrderUpdated."""

    sale_id: str
    order_id: str


@dataclass(frozen=True, slots=True)
class PrintReceipt:
    """Print the receipt of ``sale`` (journaled as a print job first; it prints when the printer can)."""

    sale: Sale
    reprint: bool = False


@dataclass(frozen=True, slots=True)
class FeedPaper:
    """Feed a few lines of paper (the shopkeeper tearing off or loading a roll)."""


@dataclass(frozen=True, slots=True)
class Reconcile:
    """Look for these offline sales' payments in the backend's history (since the oldest of them)."""

    since: datetime
    references: tuple[str, ...]


Effect = JournalSale | JournalSecurity | CreateOrder | WatchOrder | CancelOrder | PrintReceipt | FeedPaper | Reconcile

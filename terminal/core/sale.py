"""One sale: its amount, reference, status and what the backend said about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from terminal.core.matching import Match, match
from terminal.core.money import Amount
from terminal.core.orders import Order, Payment
from terminal.core.problems import Problem


class SaleStatus(StrEnum):
    """The life of a sale: creating → awaiting_payment → paid | underpaid | mismatch | failed | expired | cancelled.

    ``paid`` means at least the asked amount arrived in the sale's currency (more is flagged on the sale, see
    :mod:`terminal.core.matching`); ``underpaid`` and ``mismatch`` are money that arrived but not as asked."""

    CREATING = "creating"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    #: Less than the sale's amount arrived: the shopkeeper asks for the rest or refunds it.
    UNDERPAID = "underpaid"
    #: A payment in another currency, or of an amount no journal can hold: shown, never counted as paid.
    MISMATCH = "mismatch"
    #: An offline sale the shopkeeper marked received after checking their bank app; the backend has not
    #: confirmed it yet (reconciliation does, when it is back).
    UNCONFIRMED = "unconfirmed"

    @property
    def is_final(self) -> bool:
        """True for paid, failed, expired, cancelled and unconfirmed."""
        return self not in (SaleStatus.CREATING, SaleStatus.AWAITING_PAYMENT)


class FailureKind(StrEnum):
    """Why a sale failed: the payment was declined, the backend could not make a QR, or we refused it."""

    DECLINED = "declined"
    BACKEND = "backend"
    QR_REFUSED = "qr_refused"


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed sale's cause and the words shown for it."""

    kind: FailureKind
    message: str
    problem: Problem | None = None


@dataclass(frozen=True, slots=True)
class Sale:
    """A sale as the terminal knows it.

    ``order_open`` stays true while the backend may still change the order (a cancel or expiry not yet
    confirmed): a payment reported then still wins.
    """

    id: str
    seq: int
    reference: str
    amount: Amount
    status: SaleStatus
    started_at: datetime
    deadline: float | None = None
    order: Order | None = None
    #: Every payment that arrived for the order, oldest first (contract v1.1 ``payments``).
    payments: tuple[Payment, ...] = ()
    failure: Failure | None = None
    order_open: bool = True
    #: Its QR was built by the terminal itself (offline); no backend order exists.
    local: bool = False
    #: The till's own reference, when a till started the sale.
    till_ref: str | None = None
    #: A payment the backend reported that could not be read (see ``OrderUpdate.unreadable_payment``).
    unreadable_payment: str | None = None

    @property
    def payment(self) -> Payment | None:
        """The first payment that arrived, or None."""
        return self.payments[0] if self.payments else None

    @property
    def matched(self) -> Match | None:
        """How the money that arrived compares with the amount (None while nothing arrived)."""
        if not self.payments and self.unreadable_payment is None:
            return None
        return match(self.amount, self.payments, self.unreadable_payment)

    @property
    def received(self) -> Amount:
        """What the customer paid: every payment summed (the backend's figures), else the sale's amount (an offline
        sale marked received, or a payment whose amount could not be read)."""
        found = self.matched
        return found.received if found is not None and found.received is not None else self.amount

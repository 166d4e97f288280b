"""One sale: its amount, reference, status and what the backend said about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from terminal.core.money import Amount
from terminal.core.orders import Order, Payment
from terminal.core.problems import Problem


class SaleStatus(StrEnum):
    """The life of a sale: creating → awaiting_payment → paid | failed | expired | cancelled."""

    CREATING = "creating"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
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
    payment: Payment | None = None
    failure: Failure | None = None
    order_open: bool = True
    #: Its QR was built by the terminal itself (offline); no backend order exists.
    local: bool = False
    #: The till's own reference, when a till started the sale.
    till_ref: str | None = None

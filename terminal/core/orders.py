"""What a backend says about an order, as plain data (parsed at the edge, in ``terminal.backends``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from terminal.core.money import Amount


class OrderStatus(StrEnum):
    """An order's status in backend contract v1."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"

    @property
    def is_final(self) -> bool:
        """True once the status can no longer change to paid."""
        return self is not OrderStatus.PENDING


@dataclass(frozen=True, slots=True)
class QrCode:
    """The payload to show, exactly as the backend sent it, and its scheme (upi, emv, epc, url)."""

    scheme: str
    payload: str


@dataclass(frozen=True, slots=True)
class Payee:
    """Whom the customer pays: a name for people and an id (VPA, Pix key, IBAN, …)."""

    name: str
    id: str


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the terminal asks a backend to create for one sale."""

    sale_id: str
    reference: str
    amount: Amount
    expires_in: int
    description: str
    #: When the sale was opened (journaled with it): a backend that writes a time into the create counts from
    #: this, so a retried create — the same sale after a restart, too — sends the very same body under its key.
    opened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """A created order: its QR, payee and expiry."""

    id: str
    status: OrderStatus
    reference: str
    amount: Amount
    qr: QrCode
    payee: Payee
    expires_at: datetime
    receipt_url: str | None = None
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class Payment:
    """Money that arrived for an order: one capture at the provider (contract v1.1 ``payments[]``, or v1's
    ``paid``). ``id`` is the backend's id for this payment when it gave one; ``receipt_url`` the provider's own
    receipt page for it, when there is one (Stripe's ``charge.receipt_url``)."""

    amount: Amount
    at: datetime | None = None
    payer: str | None = None
    provider_ref: str | None = None
    id: str | None = None
    receipt_url: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """A refund as the backend reports it: its id, status (pending, succeeded, failed) and amount."""

    id: str
    status: str
    amount: Amount
    message: str = ""


@dataclass(frozen=True, slots=True)
class Settlement:
    """What the backend settled for one day: how many payments, gross, fees and net, in minor units."""

    date: str
    currency: str
    count: int
    gross: int
    fees: int
    net: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order's status as last reported, with the payments or the failure when there is one, its refunds and
    (from the history) when it was created.

    ``payments`` is every payment the provider captured for the order (contract v1.1), oldest first; a v1
    backend's single ``paid`` object arrives as one entry. ``payment`` is the first of them, kept for readers that
    want "the" payment of a paid order."""

    order_id: str
    status: OrderStatus
    payments: tuple[Payment, ...] = ()
    failure_code: str | None = None
    failure_message: str | None = None
    refunds: tuple[ProviderRefund, ...] = ()
    created_at: datetime | None = None
    amount: Amount | None = None
    #: A payment the backend reported that the terminal could not read (a negative value, an unknown currency),
    #: in words: on a paid order this is a mismatch the shopkeeper must see, never a reply silently polled again.
    unreadable_payment: str | None = None

    @property
    def payment(self) -> Payment | None:
        """The first payment captured, or None."""
        return self.payments[0] if self.payments else None

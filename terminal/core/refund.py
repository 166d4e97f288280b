"""Refunds as plain data: what was asked back for a paid sale, and the rules that keep refunds honest
(only paid sales, never more than what remains of the payment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from terminal.core.i18n import N_, Text
from terminal.core.money import Amount
from terminal.core.sale import Sale, SaleStatus


class RefundStatus(StrEnum):
    """requested (journaled, not yet accepted by the backend) → pending → succeeded | failed."""

    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """True for succeeded and failed."""
        return self in (RefundStatus.SUCCEEDED, RefundStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Refund:
    """One refund of a sale. ``id`` is ours (``<sale id>-R<n>``) and is the backend's Idempotency-Key, so a
    refund re-sent after a power cut is never made twice; ``provider_id`` is the backend's id for it."""

    id: str
    sale_id: str
    reference: str
    order_id: str
    amount: Amount
    status: RefundStatus
    requested_at: datetime
    provider_id: str | None = None
    message: str = ""

    @property
    def slip_reference(self) -> str:
        """What the slip and the screen call it: the sale's reference and the refund's number."""
        return f"{self.reference}-{self.id.rsplit('-', 1)[-1]}"


#: A sale's status inside a refusal: the till reads the status's own name, a person its translation.
_STATUS = {
    SaleStatus.CREATING: N_("creating"),
    SaleStatus.AWAITING_PAYMENT: N_("awaiting_payment"),
    SaleStatus.UNCONFIRMED: N_("unconfirmed"),
    SaleStatus.FAILED: N_("failed"),
    SaleStatus.EXPIRED: N_("expired"),
    SaleStatus.CANCELLED: N_("cancelled"),
    SaleStatus.PAID: N_("paid"),
    SaleStatus.UNDERPAID: N_("underpaid"),
    SaleStatus.MISMATCH: N_("mismatch"),
}


def with_open(journaled: tuple[Refund, ...], open_now: tuple[Refund, ...], sale_id: str) -> tuple[Refund, ...]:
    """A sale's refunds as the journal had them, plus those made since it was read (none counted twice)."""
    known = {r.id for r in journaled}
    return journaled + tuple(r for r in open_now if r.sale_id == sale_id and r.id not in known)


def counted(refunds: tuple[Refund, ...]) -> int:
    """Minor units already refunded or on their way (every refund that has not failed)."""
    return sum(r.amount.minor for r in refunds if r.status is not RefundStatus.FAILED)


def remaining(sale: Sale, refunds: tuple[Refund, ...]) -> Amount:
    """What can still be refunded of ``sale``: what the customer paid (every payment) less refunds not failed."""
    found = sale.matched
    paid = found.countable if found is not None else None
    paid = paid or sale.amount
    return Amount(max(0, paid.minor - counted(refunds)), paid.currency)


def extra_left(sale: Sale, refunds: tuple[Refund, ...]) -> Amount | None:
    """What arrived beyond the amount asked (overpaid, paid twice) and is not refunded yet, or None."""
    found = sale.matched
    if found is None or found.extra is None:
        return None
    # Refunds made on such a sale go to the extra first: the customer paid the sale itself once.
    left = min(found.extra.minor - counted(refunds), remaining(sale, refunds).minor)
    return Amount(left, found.extra.currency) if left > 0 else None


def refusal(sale: Sale, refunds: tuple[Refund, ...], amount: Amount) -> Text | None:
    """Why ``amount`` cannot be refunded of ``sale`` (for the manager), or None when it can."""
    if sale.status is SaleStatus.MISMATCH:
        return Text("the payment does not match the sale: settle it with your payment provider")
    if sale.status not in (SaleStatus.PAID, SaleStatus.UNDERPAID) or sale.order is None or sale.local:
        return Text(
            "only paid sales confirmed by the backend can be refunded (this one is {status})",
            status=Text(_STATUS[sale.status]),
        )
    left = remaining(sale, refunds)
    if amount.currency != left.currency:
        return Text("the refund must be in {currency}", currency=left.currency)
    if amount.minor <= 0:
        return Text("type an amount above zero")
    if amount.minor > left.minor:
        return Text("at most {left} is left to refund", left=left)
    return None


def new_refund(sale: Sale, refunds: tuple[Refund, ...], amount: Amount, now: datetime) -> Refund:
    """The next refund of ``sale`` (numbered after every refund it already has, failed ones included)."""
    if sale.order is None:  # refusal() refuses such a sale first: only a paid order is refunded
        raise ValueError(f"sale {sale.reference} has no order to refund")
    number = len(refunds) + 1
    return Refund(
        id=f"{sale.id}-R{number}",
        sale_id=sale.id,
        reference=sale.reference,
        order_id=sale.order.id,
        amount=amount,
        status=RefundStatus.REQUESTED,
        requested_at=now,
    )

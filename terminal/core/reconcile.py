"""Reconciliation: the journal's sales of one day against the backend's orders and settlement, as mismatches a
shop owner (or their accountant) can act on. Pure: the shell reads both sides and passes them in."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate, Settlement
from terminal.core.refund import Refund, RefundStatus
from terminal.core.sale import Sale, SaleStatus

#: Backend statuses that mean money arrived (and may since have been partly or wholly refunded).
MONEY = (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement: which sale, what kind, and what each side says."""

    reference: str
    kind: str  # missing at backend | missing in journal | status | amount | refunds | settlement
    terminal: str
    backend: str

    def line(self) -> str:
        """One line for a screen, a slip or a terminal."""
        return f"{self.reference}: {self.kind} (terminal: {self.terminal}; backend: {self.backend})"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome for one day: how many sales were compared, and every mismatch."""

    date: str
    compared: int
    mismatches: tuple[Mismatch, ...]
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """A summary: a heading, notes, and one line per mismatch."""
        if not self.mismatches:
            return [f"Reconciliation {self.date}: {self.compared} sales, all match the backend", *self.notes]
        head = f"Reconciliation {self.date}: {len(self.mismatches)} mismatch(es) in {self.compared} sales"
        return [head, *self.notes, *(m.line() for m in self.mismatches)]


def compare(
    date: str,
    ours: list[tuple[Sale, tuple[Refund, ...]]],
    theirs: list[tuple[str, OrderUpdate]],
    *,
    settlement: Settlement | None = None,
    settled_ours: list[Amount] | None = None,
    notes: tuple[str, ...] = (),
) -> Reconciliation:
    """Compare the day's journaled sales (``ours``) with the backend's orders of that day (``theirs``, already
    limited to this terminal's references), and the backend's settlement with our payments settled that day
    (pass no settlement when it also covers other terminals: it could never match)."""
    found: list[Mismatch] = []
    backend: dict[str, list[OrderUpdate]] = {}
    for reference, update in theirs:
        backend.setdefault(reference, []).append(update)
    for sale, refunds in ours:
        if not sale.status.is_final:
            continue  # still running: nothing to compare yet
        found += _one(sale, refunds, _take(sale, backend.get(sale.reference, [])))
    for reference, left in sorted(backend.items()):
        for update in left:
            if update.status in MONEY or update.status is OrderStatus.PENDING:
                found.append(Mismatch(reference, "missing in journal", "no such sale", _said(update)))
    if settlement is not None and settled_ours is not None:
        found += _settlement(settlement, settled_ours)
    return Reconciliation(date, len(ours), tuple(found), notes)


def _take(sale: Sale, orders: list[OrderUpdate]) -> OrderUpdate | None:
    """The backend's order for ``sale``, taken out of ``orders`` (those with its reference). A reference can name
    several orders (a sale lost to a power cut before its QR was shown leaves its order behind, and the next start
    numbers a sale the same): a sale with a backend order is matched by that order's id, never by whichever order
    of its reference came last; a sale without one (offline) by its reference's only order."""
    if sale.order is not None and not sale.local:
        index = next((i for i, update in enumerate(orders) if update.order_id == sale.order.id), None)
    else:
        index = 0 if len(orders) == 1 else None
    return orders.pop(index) if index is not None else None


def _one(sale: Sale, refunds: tuple[Refund, ...], update: OrderUpdate | None) -> list[Mismatch]:
    ours_paid = sale.status in (SaleStatus.PAID, SaleStatus.UNDERPAID, SaleStatus.MISMATCH, SaleStatus.UNCONFIRMED)
    said = str(sale.status) if not sale.local else f"{sale.status} (offline QR)"
    if update is None:
        if ours_paid or (sale.order is not None and not sale.local):
            return [Mismatch(sale.reference, "missing at backend", said, "no such order")]
        return []  # the order was never made (failed to create, cancelled while creating)
    theirs_paid = update.status in MONEY
    if ours_paid != theirs_paid:
        return [Mismatch(sale.reference, "status", said, _said(update))]
    if not ours_paid:
        return []
    if sale.status is SaleStatus.MISMATCH:
        return [Mismatch(sale.reference, "payment mismatch", said, _said(update))]
    got = sale.received
    if len(update.payments) > max(1, len(sale.payments)):
        theirs = f"{len(update.payments)} payments, {_sum(update).format_code()}"
        return [
            Mismatch(sale.reference, "paid twice", f"{max(1, len(sale.payments))} payment, {got.format_code()}", theirs)
        ]
    their_amount = _sum(update) if update.payments else None
    if their_amount is not None and their_amount != got:
        return [Mismatch(sale.reference, "amount", got.format_code(), their_amount.format_code())]
    ours_refunded = sum(r.amount.minor for r in refunds if r.status is RefundStatus.SUCCEEDED)
    theirs_refunded = sum(r.amount.minor for r in update.refunds if r.status == "succeeded")
    if ours_refunded != theirs_refunded:
        currency = got.currency
        return [
            Mismatch(
                sale.reference,
                "refunds",
                f"refunded {Amount(ours_refunded, currency).format_code()}",
                f"refunded {Amount(theirs_refunded, currency).format_code()}",
            )
        ]
    return []


def _settlement(settlement: Settlement, ours: list[Amount]) -> list[Mismatch]:
    mine = [a for a in ours if a.currency == settlement.currency]
    gross = sum(a.minor for a in mine)
    if len(mine) == settlement.count and gross == settlement.gross:
        return []
    ours_text = f"{len(mine)} payments, {Amount(gross, settlement.currency).format_code()}"
    theirs_text = f"{settlement.count} payments, {Amount(settlement.gross, settlement.currency).format_code()}"
    return [Mismatch(f"settlement {settlement.date}", "settlement", ours_text, theirs_text)]


def _sum(update: OrderUpdate) -> Amount:
    """Every payment of the order summed (in the first payment's currency; another currency is left out)."""
    currency = update.payments[0].amount.currency
    return Amount(sum(p.amount.minor for p in update.payments if p.amount.currency == currency), currency)


def _said(update: OrderUpdate) -> str:
    if update.payments:
        return f"{update.status} {_sum(update).format_code()}"
    return str(update.status)

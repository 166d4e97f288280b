"""What can happen to the terminal: keys, timer ticks and backend results (posted by workers)."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.keys import Key
from terminal.core.money import Amount
from terminal.core.orders import Order, OrderUpdate
from terminal.core.problems import Problem
from terminal.core.refund import Refund, RefundStatus
from terminal.core.sale import Sale
from terminal.core.till import TillCancel, TillRefund, TillReport, TillSale, TillStatus


@dataclass(frozen=True, slots=True)
class KeyPressed:
    """A key on any keypad."""

    key: Key


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the loop sends one about every second): expiry, countdown, result timeout."""


@dataclass(frozen=True, slots=True)
class OrderCreated:
    """The backend created the order for sale ``sale_id``."""

    sale_id: str
    order: Order


@dataclass(frozen=True, slots=True)
class OrderNotCreated:
    """Creating the order for sale ``sale_id`` failed."""

    sale_id: str
    problem: Problem


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """The backend reported an order's status (from a poll or a cancel reply)."""

    sale_id: str
    update: OrderUpdate


@dataclass(frozen=True, slots=True)
class PrinterChanged:
    """The printer became unusable (``problem`` says why, for the shopkeeper) or usable again (None)."""

    problem: str | None


@dataclass(frozen=True, slots=True)
class ConnectivityChanged:
    """The backend became unreachable (``problem`` says why) or reachable again (None)."""

    problem: Problem | None


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The backend's history shows a payment with this reference (an offline sale's money arrived)."""

    reference: str
    update: OrderUpdate


@dataclass(frozen=True, slots=True)
class Resumed:
    """At start: the journal's sales that were not finished when the terminal stopped (power cut, crash), and
    the offline sales still waiting for the backend's confirmation."""

    sales: tuple[Sale, ...]
    unconfirmed: tuple[Sale, ...] = ()
    refunds: tuple[Refund, ...] = ()


@dataclass(frozen=True, slots=True)
class PinChecked:
    """The shell checked the PIN typed against the stored hash: right, wrong, or None when no PIN is set."""

    ok: bool | None


@dataclass(frozen=True, slots=True)
class SaleRecord:
    """A journaled sale as the manager's menu lists it: the sale, its refunds, and its time as the shop reads it."""

    sale: Sale
    refunds: tuple[Refund, ...]
    when: str


@dataclass(frozen=True, slots=True)
class RecentLoaded:
    """The journal's most recent sales, newest first (the answer to LoadRecent)."""

    records: tuple[SaleRecord, ...]


@dataclass(frozen=True, slots=True)
class ReportReady:
    """An X or Z report's lines (the answer to MakeReport); a Z report has closed its period already."""

    kind: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportAddendum:
    """More lines for the report on screen: the reconciliation with the backend, when it answered."""

    kind: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RefundUpdated:
    """The backend accepted, refused or settled a refund (``refund_id`` is ours)."""

    refund_id: str
    status: RefundStatus
    provider_id: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class TillCommanded:
    """The till sent a command (already parsed: a line that was not one got its ERR reply and changed nothing)."""

    command: TillSale | TillCancel | TillStatus | TillRefund | TillReport


@dataclass(frozen=True, slots=True)
class TillLinkChanged:
    """The till's line came up (None) or went away (``problem`` says which, for the shopkeeper)."""

    problem: str | None


@dataclass(frozen=True, slots=True)
class AmountOffered:
    """The till's pole display showed a total: type it in for the shopkeeper, who confirms it with Enter."""

    amount: Amount


@dataclass(frozen=True, slots=True)
class TillRefundFound:
    """The journal's answer to FindSaleForTill: the sale and its refunds, or None when there is no such sale."""

    reference: str
    record: SaleRecord | None
    amount: Amount | None


Event = (
    KeyPressed
    | Tick
    | OrderCreated
    | OrderNotCreated
    | OrderUpdated
    | PrinterChanged
    | ConnectivityChanged
    | Resumed
    | Reconciled
    | PinChecked
    | RecentLoaded
    | ReportReady
    | ReportAddendum
    | RefundUpdated
    | TillCommanded
    | TillLinkChanged
    | AmountOffered
    | TillRefundFound
)

"""What the core asks the shell to do, in order. Journal effects always come first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from terminal.core.money import Amount
from terminal.core.orders import OrderRequest
from terminal.core.pin import PinLock
from terminal.core.refund import Refund
from terminal.core.sale import Sale
from terminal.core.speech import Phrase


@dataclass(frozen=True, slots=True)
class JournalSale:
    """Commit the sale's current row and one journal event (``cause``) before anything shows it. ``again`` marks
    news about a sale whose status did not change (another payment arrived): the till is told all the same."""

    sale: Sale
    previous: str | None
    cause: str
    again: bool = False


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
    """Follow the order's status (long-poll) until it is final; once paid, keep following it for another payment
    until ``until`` (the QR's expiry: a customer may pay the same QR twice)."""

    sale_id: str
    order_id: str
    until: datetime | None = None


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


@dataclass(frozen=True, slots=True)
class CheckPin:
    """Check ``pin`` against the stored hash (slow on purpose); the answer comes back as PinChecked."""

    pin: str

    def __repr__(self) -> str:  # never in a log
        return "CheckPin(pin=<hidden>)"


@dataclass(frozen=True, slots=True)
class SavePinLock:
    """Commit the PIN lockout (wrong tries, locked until), so a restart does not reset it."""

    lock: PinLock


@dataclass(frozen=True, slots=True)
class LoadRecent:
    """Read the last ``limit`` sales from the journal; the answer comes back as RecentLoaded."""

    limit: int = 20


@dataclass(frozen=True, slots=True)
class MakeReport:
    """Build the X report, or close the period with a Z report; the answer comes back as ReportReady, and the
    reconciliation with the backend later as ReportAddendum."""

    kind: str


@dataclass(frozen=True, slots=True)
class PrintReport:
    """Print a report's lines."""

    kind: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JournalRefund:
    """Commit the refund's row and one journal event before the backend is asked or anything shows it."""

    refund: Refund
    cause: str


@dataclass(frozen=True, slots=True)
class RequestRefund:
    """Ask the backend for the refund (our refund id is the Idempotency-Key) and follow it until it is final."""

    refund: Refund


@dataclass(frozen=True, slots=True)
class PrintRefundSlip:
    """Print the slip of a refund that went through."""

    refund: Refund


@dataclass(frozen=True, slots=True)
class Announce:
    """Say ``phrase`` through the speaker (queued: never waits for audio)."""

    phrase: Phrase


@dataclass(frozen=True, slots=True)
class SaveVoice:
    """Keep the voice's on/off and volume, as set from the menu (the journal keeps them across restarts)."""

    on: bool
    volume: int


@dataclass(frozen=True, slots=True)
class TillReply:
    """Answer the till's command (``OK …``, ``ERR …`` or ``STATUS …``)."""

    line: str


@dataclass(frozen=True, slots=True)
class FindSaleForTill:
    """Read the sale ``reference`` and its refunds from the journal for the till's REFUND; answered by
    TillRefundFound."""

    reference: str
    amount: Amount | None


@dataclass(frozen=True, slots=True)
class TillReportLines:
    """Send the till the X report, one ``REPORT`` line each, then ``OK REPORT``."""


Effect = (
    JournalSale
    | JournalSecurity
    | CreateOrder
    | WatchOrder
    | CancelOrder
    | PrintReceipt
    | FeedPaper
    | Reconcile
    | CheckPin
    | SavePinLock
    | LoadRecent
    | MakeReport
    | PrintReport
    | JournalRefund
    | RequestRefund
    | PrintRefundSlip
    | Announce
    | SaveVoice
    | TillReply
    | FindSaleForTill
    | TillReportLines
)

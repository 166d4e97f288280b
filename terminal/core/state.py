"""The terminal's state as plain data: its settings, what the counter is doing, the sale on screen, the sales
followed in the background, and the manager's menu."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from terminal.core import guard
from terminal.core.entry import AmountEntry
from terminal.core.money import Amount
from terminal.core.offline import OfflineRules
from terminal.core.pin import PinLock
from terminal.core.problems import Problem
from terminal.core.refund import Refund
from terminal.core.sale import Sale
from terminal.core.speech import Phrase

if TYPE_CHECKING:
    from terminal.core.menu import Menu


@dataclass(frozen=True, slots=True)
class Settings:
    """The rules' parameters, from the config file."""

    terminal_id: str
    merchant_name: str
    currency: str
    maximum: Amount
    payee: guard.PayeeRules
    sale_ttl: int = 300
    result_seconds: int = 10
    create_timeout: float = 20.0
    #: Unique per start of the program: sale ids (the backend's idempotency keys) stay unique even if
    #: the journal is wiped and sequence numbers start again.
    id_prefix: str = "0"
    #: Receipts: whether a printer is fitted, and when to print on paid: always, ask (Enter prints) or never.
    printer: bool = False
    auto_print: str = "never"
    #: Offline sales with a locally built QR (None: offline.mode = "refuse").
    offline: OfflineRules | None = None
    #: Spoken confirmation: the language (None: no voice fitted), and whether failures are spoken too.
    voice_language: str | None = None
    voice_failures: bool = True
    #: The till may use the manager's commands (REFUND, REPORT): off unless [till] manager_commands = true.
    till_manager: bool = False
    #: The backend's smallest sale (a provider's minimum charge), refused on the keypad before any create; and
    #: whose minimum it is, for the message ("the smallest amount Stripe accepts").
    minimum: Amount | None = None
    minimum_reason: str = ""
    #: Why refunds cannot be made from this terminal (e.g. "PromptPay refunds are made in the Stripe
    #: Dashboard"): the menu and the till say so instead of asking the backend for a refund it would refuse.
    refunds_elsewhere: str = ""


class Phase(StrEnum):
    """What the counter is doing: nothing, taking an amount, or running the current sale."""

    IDLE = "idle"
    ENTERING = "entering"
    SALE = "sale"
    #: The manager's menu (PIN, recent sales, refunds, reports); only from an idle counter.
    MENU = "menu"


@dataclass(frozen=True, slots=True)
class TerminalState:
    """Everything the core knows. ``sale`` is the sale on screen; ``background`` holds ended sales whose
    orders are not yet confirmed closed by the backend."""

    settings: Settings
    entry: AmountEntry
    next_seq: int = 1
    phase: Phase = Phase.IDLE
    sale: Sale | None = None
    result_until: float | None = None
    background: tuple[Sale, ...] = field(default=())
    notice: str = ""
    #: The last paid sale (what the reprint key prints) and the printer's problem, if any.
    last_paid: Sale | None = None
    #: Sales money arrived for whose QR can still be paid (until it expires): another payment on them (paid
    #: twice, the rest of an underpayment) is matched again, whether or not they are still on the screen.
    followed: tuple[Sale, ...] = ()
    printer_problem: str | None = None
    #: Why the backend cannot be reached right now (None: online).
    offline: Problem | None = None
    #: Offline sales the shopkeeper marked received, waiting for the backend's confirmation.
    unconfirmed: tuple[Sale, ...] = ()
    #: When to look for unconfirmed sales' payments again (the bank may report them late).
    next_reconcile: float = 0.0
    #: The manager's menu while it is open, the PIN lockout (kept in the journal), refunds not yet final
    #: and the last refund that became final (what the refund screen shows).
    menu: Menu | None = None
    pin_lock: PinLock = field(default_factory=PinLock)
    refunds_open: tuple[Refund, ...] = ()
    last_refund: Refund | None = None
    #: The voice: on or off and its volume (0–100) as set from the menu, and what it said last (repeat key).
    voice_on: bool = True
    volume: int = 80
    last_phrase: Phrase | None = None
    #: Why the till's line is down (None: up, or no till).
    till_problem: str | None = None


def initial(
    settings: Settings,
    *,
    next_seq: int = 1,
    pin_lock: PinLock | None = None,
    voice: tuple[bool, int] = (True, 80),
) -> TerminalState:
    """The state at start: idle; sequence numbers, the PIN lockout and the voice's setting from the journal."""
    return TerminalState(
        settings=settings,
        entry=fresh_entry(settings),
        next_seq=next_seq,
        pin_lock=pin_lock or PinLock(),
        voice_on=voice[0],
        volume=voice[1],
    )


def fresh_entry(settings: Settings) -> AmountEntry:
    """An empty amount entry in the terminal's currency."""
    return AmountEntry(
        currency=settings.currency,
        maximum=settings.maximum,
        minimum=settings.minimum,
        minimum_reason=settings.minimum_reason,
    )

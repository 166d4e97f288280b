"""The manager's menu: the PIN prompt, recent sales, a sale's details (reprint, refund) and the X/Z reports.

Everything here is behind the manager PIN; the menu closes itself after two minutes without a key, so a menu
left open does not stay unlocked. Pure like the rest of the core: the journal and the PIN hash are reached
through effects (LoadRecent, CheckPin, MakeReport) whose answers come back as events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from terminal.core.clock import Now
from terminal.core.effects import (
    Announce,
    CheckPin,
    Effect,
    JournalRefund,
    LoadRecent,
    MakeReport,
    PrintReceipt,
    PrintReport,
    RequestRefund,
    SavePinLock,
    SaveVoice,
)
from terminal.core.entry import AmountEntry
from terminal.core.events import SaleRecord
from terminal.core.i18n import Text
from terminal.core.keys import Key
from terminal.core.money import Amount
from terminal.core.pin import MAX_TRIES, PIN_DIGITS, PinLock, clock_text
from terminal.core.refund import Refund, extra_left, new_refund, refusal, remaining, with_open
from terminal.core.sale import SaleStatus
from terminal.core.speech import SpeechError, received
from terminal.core.state import Phase, TerminalState, fresh_entry

#: Seconds without a key after which the menu closes (and must be unlocked again).
IDLE_CLOSE = 120.0
PAGE = 5
RECENT_LIMIT = 20


class View(StrEnum):
    """Which of the menu's screens is shown."""

    PIN = "pin"
    MAIN = "main"
    RECENT = "recent"
    DETAIL = "detail"
    REFUND_AMOUNT = "refund_amount"
    REFUND_CONFIRM = "refund_confirm"
    REFUND_STATUS = "refund_status"
    Z_CONFIRM = "z_confirm"
    REPORT = "report"
    VOICE = "voice"


@dataclass(frozen=True, slots=True)
class Menu:
    """The open menu. ``recent`` is None while the journal is read; ``report`` None while it is made."""

    view: View = View.PIN
    pin: str = ""
    checking: bool = False
    message: str = ""
    recent: tuple[SaleRecord, ...] | None = None
    page: int = 0
    chosen: SaleRecord | None = None
    entry: AmountEntry | None = None
    amount: Amount | None = None
    refund_id: str | None = None
    report_kind: str = ""
    report: tuple[str, ...] | None = None
    closes_at: float = 0.0


Step = tuple[TerminalState, list[Effect]]


def open_menu(state: TerminalState, now: Now) -> Step:
    """The menu key on an idle counter: the PIN prompt, unless wrong PINs locked it."""
    left = state.pin_lock.seconds_left(now.wall)
    if left:
        return replace(
            state,
            notice=Text(
                "Menu locked after {tries} wrong PINs: try again in {left}", tries=MAX_TRIES, left=clock_text(left)
            ),
        ), []
    menu = Menu(closes_at=now.mono + IDLE_CLOSE)
    return replace(state, phase=Phase.MENU, menu=menu, notice=""), []


def close_menu(state: TerminalState, notice: str = "") -> TerminalState:
    """Back to the idle counter."""
    return replace(state, phase=Phase.IDLE, menu=None, entry=fresh_entry(state.settings), notice=notice)


def key(state: TerminalState, pressed: Key, now: Now) -> Step:
    """A key while the menu is open."""
    menu = state.menu
    if menu is None:  # no menu open: the key is not the menu's
        return state, []
    menu = replace(menu, closes_at=now.mono + IDLE_CLOSE)
    state = replace(state, menu=menu)
    handler = _HANDLERS[menu.view]
    return handler(state, menu, pressed, now)


def tick(state: TerminalState, now: Now) -> Step:
    """Close a menu nobody touched for a while."""
    if state.menu is not None and now.mono >= state.menu.closes_at:
        return close_menu(state, Text("Menu closed after 2 minutes without a key")), []
    return state, []


# --- answers from the shell ------------------------------------------------------------------------


def pin_checked(state: TerminalState, ok: bool | None, now: Now) -> Step:
    """The PIN was right, wrong, or there is none to check against."""
    menu = state.menu
    if menu is None or menu.view is not View.PIN or not menu.checking:
        return state, []
    if ok is None:
        return close_menu(state, Text("No manager PIN is set: run 'qr-terminal set-pin' on the terminal")), []
    if ok:
        effects: list[Effect] = [SavePinLock(PinLock())] if state.pin_lock != PinLock() else []
        return replace(
            state, pin_lock=PinLock(), menu=replace(menu, view=View.MAIN, pin="", checking=False, message="")
        ), effects
    lock = state.pin_lock.failed(now.wall)
    state = replace(state, pin_lock=lock)
    if lock.locked_until is not None:
        left = clock_text(lock.seconds_left(now.wall))
        locked = Text("Wrong PIN {tries} times: the menu is locked for {left}", tries=MAX_TRIES, left=left)
        return close_menu(state, locked), [SavePinLock(lock)]
    if lock.tries_left == 1:
        message = Text("Wrong PIN: 1 try left before the menu locks")
    else:
        message = Text("Wrong PIN: {tries} tries left before the menu locks", tries=lock.tries_left)
    return replace(state, menu=replace(menu, pin="", checking=False, message=message)), [SavePinLock(lock)]


def recent_loaded(state: TerminalState, records: tuple[SaleRecord, ...]) -> Step:
    """The journal's recent sales arrived: list them, and refresh the sale being looked at."""
    menu = state.menu
    if menu is None:
        return state, []
    chosen = menu.chosen
    if chosen is not None:
        chosen = next((r for r in records if r.sale.id == chosen.sale.id), chosen)
    return replace(state, menu=replace(menu, recent=records, chosen=chosen)), []


def report_ready(state: TerminalState, kind: str, lines: tuple[str, ...], *, addendum: bool = False) -> Step:
    """The report (or its reconciliation part) arrived."""
    menu = state.menu
    if menu is None or menu.view is not View.REPORT or menu.report_kind != kind:
        return state, []
    shown = (*(menu.report or ()), *lines) if addendum else lines
    return replace(state, menu=replace(menu, report=shown)), []


def refund_changed(state: TerminalState, refund: Refund) -> TerminalState:
    """Keep the sale on the menu's screen in step with its refund."""
    menu = state.menu
    if menu is None or menu.chosen is None or menu.chosen.sale.id != refund.sale_id:
        return state
    refunds = tuple(refund if r.id == refund.id else r for r in menu.chosen.refunds)
    if all(r.id != refund.id for r in refunds):
        refunds = (*refunds, refund)
    return replace(state, menu=replace(menu, chosen=replace(menu.chosen, refunds=refunds)))


# --- one handler per view ------------------------------------------------------------------------


def _pin(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if menu.checking:
        return state, []
    if pressed is Key.CANCEL:
        return close_menu(state), []
    if pressed.is_digit:
        pin = (menu.pin + pressed.value)[: PIN_DIGITS[1]]
        return replace(state, menu=replace(menu, pin=pin, message="")), []
    if pressed is Key.BACKSPACE:
        return replace(state, menu=replace(menu, pin=menu.pin[:-1])), []
    if pressed is Key.CLEAR:
        return replace(state, menu=replace(menu, pin="")), []
    if pressed is Key.ENTER:
        if len(menu.pin) < PIN_DIGITS[0]:
            message = Text("The PIN has {fewest} to {most} digits", fewest=PIN_DIGITS[0], most=PIN_DIGITS[1])
            return replace(state, menu=replace(menu, message=message)), []
        return replace(state, menu=replace(menu, checking=True, message="")), [CheckPin(menu.pin)]
    return state, []


def _main(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed is Key.CANCEL:
        return close_menu(state), []
    if pressed is Key.D1:
        return _with(state, menu, view=View.RECENT, recent=None, page=0, chosen=None), [LoadRecent(RECENT_LIMIT)]
    if pressed is Key.D2:
        return _with(state, menu, view=View.REPORT, report_kind="x", report=None), [MakeReport("x")]
    if pressed is Key.D3:
        return _with(state, menu, view=View.Z_CONFIRM), []
    if pressed is Key.D4 and state.settings.voice_language is not None:
        return _with(state, menu, view=View.VOICE), []
    return state, []


#: Volume steps from the menu.
VOLUME_STEP = 10


def _voice(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed in (Key.CANCEL, Key.ENTER):
        return _with(state, menu, view=View.MAIN), []
    on, volume = state.voice_on, state.volume
    if pressed is Key.D1:
        on = not on
    elif pressed is Key.D2:
        volume = max(0, volume - VOLUME_STEP)
    elif pressed is Key.D3:
        volume = min(100, volume + VOLUME_STEP)
    elif pressed is Key.D0:
        language = state.settings.voice_language
        if language is None:  # no voice fitted: nothing to say
            return state, []
        try:
            sample = received(
                Amount(250 * 10 ** Amount(0, state.settings.currency).exponent, state.settings.currency), language
            )
        except SpeechError:
            return state, []
        return state, ([Announce(sample)] if on and volume else [])
    else:
        return state, []
    return replace(_with(state, menu), voice_on=on, volume=volume), [SaveVoice(on, volume)]


def _recent(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.MAIN), []
    records = menu.recent or ()
    pages = max(1, -(-len(records) // PAGE))
    if pressed in (Key.ENTER, Key.POINT):
        return _with(state, menu, page=(menu.page + 1) % pages), []
    if pressed is Key.BACKSPACE:
        return _with(state, menu, page=(menu.page - 1) % pages), []
    if pressed.is_digit and pressed is not Key.DOUBLE_ZERO and 1 <= int(pressed.value) <= PAGE:
        index = menu.page * PAGE + int(pressed.value) - 1
        if index < len(records):
            return _with(state, menu, view=View.DETAIL, chosen=records[index]), []
    return state, []


def _detail(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    record = menu.chosen
    if record is None:  # no sale chosen: back to the list
        return _with(state, menu, view=View.RECENT), []
    sale = record.sale
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.RECENT), []
    if pressed is Key.D1:
        if not state.settings.printer:
            return _with(state, menu, message=Text("No receipt printer is fitted")), []
        if sale.status is not SaleStatus.PAID:
            return _with(state, menu, message=Text("Only paid sales have a receipt")), []
        return _with(state, menu, message=Text("Reprinting the receipt of {reference}", reference=sale.reference)), [
            PrintReceipt(sale, reprint=True)
        ]
    if pressed is Key.D2:
        if state.settings.refunds_elsewhere:
            return _with(state, menu, message=Text("No refund here: {why}", why=state.settings.refunds_elsewhere)), []
        refunds = all_refunds(state, record)
        left = remaining(sale, refunds)
        why = refusal(sale, refunds, left)
        if why is not None:
            return _with(state, menu, message=Text("No refund: {why}", why=why)), []
        entry = AmountEntry(currency=left.currency, maximum=left)
        return _with(state, menu, view=View.REFUND_AMOUNT, entry=entry), []
    if pressed is Key.D3:
        # Overpaid or paid twice: one key refunds exactly the extra (confirmed on the next screen).
        extra = extra_left(sale, all_refunds(state, record))
        if extra is None:
            return _with(state, menu, message=Text("Nothing was paid beyond the sale's amount")), []
        return _with(state, menu, view=View.REFUND_CONFIRM, amount=extra), []
    return state, []


def _refund_amount(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    record, entry = menu.chosen, menu.entry
    if record is None or entry is None:  # nothing to refund from: back to the list
        return _with(state, menu, view=View.RECENT, entry=None), []
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.DETAIL, entry=None), []
    if pressed is not Key.ENTER:
        return _with(state, menu, entry=entry.press(pressed)), []
    refunds = all_refunds(state, record)
    amount = entry.amount if entry.text else remaining(record.sale, refunds)  # nothing typed: all that is left
    why = refusal(record.sale, refunds, amount)
    if why is not None:
        return _with(state, menu, entry=replace(entry, message=why)), []
    return _with(state, menu, view=View.REFUND_CONFIRM, amount=amount), []


def _refund_confirm(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    record, amount = menu.chosen, menu.amount
    if record is None or amount is None:  # nothing to confirm: back to the list
        return _with(state, menu, view=View.RECENT), []
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.REFUND_AMOUNT), []
    if pressed is not Key.ENTER:
        return state, []
    refunds = all_refunds(state, record)
    why = refusal(record.sale, refunds, amount)
    if why is not None:  # the list changed meanwhile (a refund from another path)
        return _with(state, menu, view=View.DETAIL, message=Text("No refund: {why}", why=why)), []
    refund = new_refund(record.sale, refunds, amount, now.wall)
    state = replace(state, refunds_open=(*state.refunds_open, refund))
    state = refund_changed(_with(state, menu, view=View.REFUND_STATUS, refund_id=refund.id), refund)
    return state, [JournalRefund(refund, "refund requested by the manager"), RequestRefund(refund)]


def _refund_status(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed in (Key.ENTER, Key.CANCEL):
        return _with(state, menu, view=View.DETAIL, message=""), [LoadRecent(RECENT_LIMIT)]
    return state, []


def _z_confirm(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.MAIN), []
    if pressed is Key.ENTER:
        return _with(state, menu, view=View.REPORT, report_kind="z", report=None), [MakeReport("z")]
    return state, []


def _report(state: TerminalState, menu: Menu, pressed: Key, now: Now) -> Step:
    if pressed is Key.CANCEL:
        return _with(state, menu, view=View.MAIN, report=None), []
    if pressed is Key.ENTER and menu.report is not None:
        if not state.settings.printer:
            return _with(state, menu, message=Text("No receipt printer is fitted")), []
        return _with(state, menu, message=Text("Printing the report")), [PrintReport(menu.report_kind, menu.report)]
    return state, []


def _with(state: TerminalState, menu: Menu, **changes: object) -> TerminalState:
    changes.setdefault("message", "")
    return replace(state, menu=replace(menu, **changes))  # type: ignore[arg-type]


def all_refunds(state: TerminalState, record: SaleRecord) -> tuple[Refund, ...]:
    """The sale's refunds from the journal and those made since it was read (so none is counted twice)."""
    return with_open(record.refunds, state.refunds_open, record.sale.id)


_HANDLERS = {
    View.PIN: _pin,
    View.MAIN: _main,
    View.RECENT: _recent,
    View.DETAIL: _detail,
    View.REFUND_AMOUNT: _refund_amount,
    View.REFUND_CONFIRM: _refund_confirm,
    View.REFUND_STATUS: _refund_status,
    View.Z_CONFIRM: _z_confirm,
    View.REPORT: _report,
    View.VOICE: _voice,
}

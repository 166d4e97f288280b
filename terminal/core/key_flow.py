"""The shopkeeper's keys at the counter: typing an amount, Enter to show its QR (a local one when offline),
Cancel, Enter on an offline QR to mark it received, the printer's keys (reprint, feed), the voice's repeat key,
and the menu key (only from a free counter). The menu's own keys are in :mod:`terminal.core.menu`."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import announcements, menu
from terminal.core.clock import Now
from terminal.core.effects import FeedPaper, PrintReceipt
from terminal.core.i18n import Text
from terminal.core.keys import Key
from terminal.core.money import Amount
from terminal.core.offline import OfflineRules, refusal
from terminal.core.offline_flow import go_local
from terminal.core.sale import Sale, SaleStatus
from terminal.core.sale_flow import Step, end, ended, finish, leave_sale, open_sale, start_sale
from terminal.core.state import Phase, TerminalState, fresh_entry

#: Keys that leave a sale's result for an idle counter.
LEAVE = (Key.ENTER, Key.CANCEL, Key.CLEAR, Key.BACKSPACE)


def key(state: TerminalState, pressed: Key, now: Now) -> Step:
    """A key from any keypad."""
    if state.phase is Phase.MENU:
        return menu.key(state, pressed, now)
    if pressed in (Key.REPRINT, Key.FEED):
        return _printer_key(state, pressed)
    if pressed is Key.REPEAT:
        return state, announcements.repeat(state)
    if pressed is Key.MENU:
        return _menu_key(state, now)
    if state.phase is Phase.IDLE:
        return (_start_entry(state, pressed) if _types(pressed) else state), []
    if state.phase is Phase.ENTERING:
        return _entering(state, pressed, now)
    if state.sale is None:
        return state, []  # a sale phase always has its sale: nothing to act on otherwise
    return _on_sale(state, state.sale, pressed, now)


def _start_entry(state: TerminalState, pressed: Key) -> TerminalState:
    """A fresh amount, typed from its first key."""
    entry = fresh_entry(state.settings).press(pressed)
    return replace(state, phase=Phase.ENTERING, entry=entry, notice="")


def _types(pressed: Key) -> bool:
    return pressed.is_digit or pressed is Key.POINT


def _menu_key(state: TerminalState, now: Now) -> Step:
    if state.phase is Phase.IDLE:
        return menu.open_menu(state, now)
    if state.phase is Phase.SALE and state.sale is not None and state.sale.status.is_final:
        return menu.open_menu(leave_sale(state), now)
    return state, []  # never while an amount is typed or a customer is paying


def _entering(state: TerminalState, pressed: Key, now: Now) -> Step:
    if pressed is Key.CANCEL:
        return replace(state, phase=Phase.IDLE, entry=fresh_entry(state.settings)), []
    if pressed is not Key.ENTER:
        return replace(state, entry=state.entry.press(pressed)), []
    entry, amount = state.entry.submit()
    if amount is None:
        return replace(state, entry=entry), []
    rules = state.settings.offline
    if state.offline is not None and rules is not None:
        return _start_local_sale(state, rules, amount, now)
    return start_sale(state, amount, now)


def _start_local_sale(state: TerminalState, rules: OfflineRules, amount: Amount, now: Now) -> Step:
    """Offline: the sale starts with a QR the terminal builds itself (when the caps allow it)."""
    why = refusal(rules, amount, state.unconfirmed, now.wall)
    if why is not None:
        return replace(state, entry=replace(state.entry, message=Text("Offline: {why}", why=why))), []
    started, sale = open_sale(state, amount, now)
    local = go_local(started, rules, sale, now, starting=True)
    if local is None:  # the payee's QR cannot be built (a payload error): nothing started, the reason shown
        message = Text("Offline: no QR can be made for this payee")
        return replace(state, entry=replace(state.entry, message=message)), []
    return local


def _on_sale(state: TerminalState, sale: Sale, pressed: Key, now: Now) -> Step:
    if sale.status is SaleStatus.CREATING and pressed is Key.CANCEL:
        return end(state, sale, SaleStatus.CANCELLED, "cancelled by the shopkeeper while the QR was made", now)
    if sale.status is SaleStatus.AWAITING_PAYMENT and pressed is Key.CANCEL:
        return end(state, sale, SaleStatus.CANCELLED, "cancelled by the shopkeeper", now)
    if sale.status is SaleStatus.AWAITING_PAYMENT and sale.local and pressed is Key.ENTER:
        cause = "marked received by the shopkeeper after checking their bank app: not confirmed by the backend"
        marked = ended(sale, SaleStatus.UNCONFIRMED)
        state, effects = finish(state, sale, marked, cause, now)
        return replace(state, unconfirmed=(*state.unconfirmed, marked)), effects
    if not sale.status.is_final:
        return state, []
    if pressed is Key.ENTER and _asks_to_print(state, sale):
        return leave_sale(state), [PrintReceipt(sale)]
    if _types(pressed):
        return _start_entry(leave_sale(state), pressed), []
    if pressed in LEAVE:
        return leave_sale(state), []
    return state, []


def _printer_key(state: TerminalState, pressed: Key) -> Step:
    if not state.settings.printer or state.phase is Phase.ENTERING:
        return state, []
    if state.phase is Phase.SALE and state.sale is not None and not state.sale.status.is_final:
        return state, []  # never while a customer is paying
    if pressed is Key.FEED:
        return state, [FeedPaper()]
    if state.last_paid is None:
        return replace(state, notice=Text("No receipt to reprint yet")), []
    return state, [PrintReceipt(state.last_paid, reprint=True)]


def _asks_to_print(state: TerminalState, sale: Sale) -> bool:
    s = state.settings
    return s.printer and s.auto_print == "ask" and sale.status is SaleStatus.PAID

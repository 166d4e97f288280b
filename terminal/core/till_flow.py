"""The till's commands (parsed and worded in :mod:`terminal.core.till`): the same rules as the keypad's — it is
another keypad, with words — answered ``OK …`` or ``ERR <code> …`` in the same step. Also the total a till's
pole display showed, typed in for the shopkeeper to confirm."""

from __future__ import annotations

from dataclasses import replace

from terminal.core.clock import Now
from terminal.core.effects import FindSaleForTill, JournalRefund, RequestRefund, TillReply, TillReportLines
from terminal.core.events import TillRefundFound
from terminal.core.i18n import Text
from terminal.core.money import Amount
from terminal.core.offline import refusal
from terminal.core.offline_flow import go_local
from terminal.core.refund import new_refund, remaining, with_open
from terminal.core.refund import refusal as refund_refusal
from terminal.core.sale import Sale, SaleStatus
from terminal.core.sale_flow import Step, ask_order, end, leave_sale, open_sale
from terminal.core.state import Phase, TerminalState, fresh_entry
from terminal.core.till import Command, TillCancel, TillRefund, TillReport, TillSale, TillStatus, status_line

#: What keeps the counter busy, as the till is told.
BUSY = {Phase.MENU: "the manager's menu is open", Phase.ENTERING: "the shopkeeper is typing an amount"}


def command(state: TerminalState, said: Command, now: Now) -> Step:
    """A till's command."""
    match said:
        case TillRefund() | TillReport():
            return _manager(state, said)
        case TillStatus():
            shown = state.sale if state.phase is Phase.SALE else None
            return state, [TillReply(status_line(shown, state.phase, state.offline is not None))]
        case TillCancel():
            return _cancel(state, now)
        case TillSale():
            return _sale(state, said, now)


def _running(state: TerminalState) -> Sale | None:
    """The sale a customer is paying (or whose QR is being made), if any."""
    sale = state.sale
    return sale if state.phase is Phase.SALE and sale is not None and not sale.status.is_final else None


def _manager(state: TerminalState, said: TillRefund | TillReport) -> Step:
    if not state.settings.till_manager:
        return state, [TillReply("ERR 403 the manager's commands are off: [till] manager_commands = true")]
    if isinstance(said, TillReport):
        return state, [TillReportLines()]
    return state, [FindSaleForTill(said.reference, said.amount)]


def _cancel(state: TerminalState, now: Now) -> Step:
    sale = _running(state)
    if sale is None:
        return state, [TillReply("ERR 409 no sale is running")]
    state, effects = end(state, sale, SaleStatus.CANCELLED, "cancelled by the till", now)
    return state, [*effects, TillReply(f"OK CANCEL {sale.reference}")]


def _sale(state: TerminalState, said: TillSale, now: Now) -> Step:
    running = _running(state)
    if state.phase is Phase.MENU or state.phase is Phase.ENTERING or running is not None:
        why = BUSY.get(state.phase) or f"sale {running.reference if running else ''} is waiting for payment"
        return state, [TillReply(f"ERR 409 busy: {why}")]
    if said.amount.minor > state.settings.maximum.minor:
        return state, [TillReply(f"ERR 422 above this terminal's maximum of {state.settings.maximum.decimal()}")]
    low = state.settings.minimum
    if low is not None and said.amount.minor < low.minor:
        return state, [TillReply(f"ERR 422 below the minimum of {low.decimal()}: {state.settings.minimum_reason}")]
    base = leave_sale(state) if state.phase is Phase.SALE else state
    opened, sale = open_sale(base, said.amount, now, said.till_ref)
    rules = state.settings.offline
    if state.offline is None or rules is None:
        return opened, [*ask_order(state.settings, sale), TillReply(f"OK SALE {sale.reference}")]
    capped = refusal(rules, said.amount, state.unconfirmed, now.wall)
    if capped is not None:
        return state, [TillReply(f"ERR 503 offline: {capped}")]
    local = go_local(opened, rules, sale, now, starting=True)
    if local is None:  # the payee's QR cannot be built: nothing started
        return state, [TillReply("ERR 503 offline: no QR can be made for this payee")]
    started, effects = local
    return started, [*effects, TillReply(f"OK SALE {sale.reference}")]


def refund_found(state: TerminalState, found: TillRefundFound, now: Now) -> Step:
    """The till's REFUND, once the journal said what the sale is: the menu's rules, the menu's refund."""
    if found.record is None:
        return state, [TillReply(f"ERR 404 no sale {found.reference}")]
    if state.settings.refunds_elsewhere:
        return state, [TillReply(f"ERR 422 {state.settings.refunds_elsewhere}")]
    sale = found.record.sale
    refunds = with_open(found.record.refunds, state.refunds_open, sale.id)
    amount = found.amount or remaining(sale, refunds)
    why = refund_refusal(sale, refunds, amount)
    if why is not None:
        left = remaining(sale, refunds)
        return state, [TillReply(f"ERR 422 {why.replace(left.format(), left.format_code())}")]  # ASCII on the wire
    refund = new_refund(sale, refunds, amount, now.wall)
    state = replace(state, refunds_open=(*state.refunds_open, refund))
    reply = TillReply(f"OK REFUND {refund.slip_reference} {amount.decimal()} {amount.currency}")
    return state, [JournalRefund(refund, "refund requested by the till"), RequestRefund(refund), reply]


def amount_offered(state: TerminalState, amount: Amount) -> TerminalState:
    """A total read off the till's pole display, typed in for the shopkeeper to confirm (only at a free counter)."""
    free = state.phase is Phase.IDLE or (
        state.phase is Phase.SALE and state.sale is not None and state.sale.status.is_final
    )
    if not free or amount.currency != state.settings.currency or amount.minor > state.settings.maximum.minor:
        return state
    base = leave_sale(state) if state.phase is Phase.SALE else state
    entry = replace(fresh_entry(state.settings), text=amount.decimal())
    return replace(base, phase=Phase.ENTERING, entry=entry, notice=Text("Total from the till: Enter shows the QR"))

"""The terminal's rules: ``step(state, event, now) → (state', effects)``. Pure; every rule is unit-tested.

Rules that are easy to get wrong, and where they live:
- money that arrived wins: a paid status after our own expiry or cancel still makes the sale paid (``_paid``);
- cancel while creating: the order, once it exists, is cancelled (``_order_created``);
- a status for another order, or a repeated one, changes nothing (``_order_updated``);
- the QR is shown only after the payload guard accepted it (``_order_created``);
- every change of a sale is journaled first: ``JournalSale`` precedes every other effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from terminal.core import guard, menu
from terminal.core.clock import Now
from terminal.core.effects import (
    Announce,
    CancelOrder,
    CreateOrder,
    Effect,
    FeedPaper,
    FindSaleForTill,
    JournalRefund,
    JournalSale,
    JournalSecurity,
    PrintReceipt,
    PrintRefundSlip,
    Reconcile,
    RequestRefund,
    TillReply,
    TillReportLines,
    WatchOrder,
)
from terminal.core.events import (
    AmountOffered,
    ConnectivityChanged,
    Event,
    KeyPressed,
    OrderCreated,
    OrderNotCreated,
    OrderUpdated,
    PinChecked,
    PrinterChanged,
    RecentLoaded,
    Reconciled,
    RefundUpdated,
    ReportAddendum,
    ReportReady,
    Resumed,
    Tick,
    TillCommanded,
    TillLinkChanged,
    TillRefundFound,
)
from terminal.core.i18n import Text
from terminal.core.keys import Key
from terminal.core.matching import Match, Verdict, distinct, match
from terminal.core.money import Amount
from terminal.core.offline import local_order, refusal
from terminal.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate
from terminal.core.payloads.errors import PayloadError
from terminal.core.problems import Problem, ProblemKind
from terminal.core.refund import RefundStatus, new_refund, remaining, with_open
from terminal.core.refund import refusal as refund_refusal
from terminal.core.sale import Failure, FailureKind, Sale, SaleStatus
from terminal.core.speech import Phrase, SpeechError, failure, received
from terminal.core.state import Phase, Settings, TerminalState, fresh_entry, initial
from terminal.core.till import TillCancel, TillRefund, TillReport, TillSale, TillStatus, status_line

__all__ = ["Phase", "Settings", "TerminalState", "initial", "paid_amount", "step"]

#: Seconds between looks at the backend's history while offline sales wait for confirmation.
RECONCILE_EVERY = 60.0
#: How many ended sales whose orders are still open we keep following for a late payment.
BACKGROUND_LIMIT = 20


Step = tuple[TerminalState, list[Effect]]


def step(state: TerminalState, event: Event, now: Now) -> Step:
    """Apply one event at time ``now``."""
    match event:
        case KeyPressed(key=key):
            return _key(state, key, now)
        case Tick():
            return _tick(state, now)
        case OrderCreated(sale_id=sale_id, order=order):
            return _order_created(state, sale_id, order, now)
        case OrderNotCreated(sale_id=sale_id, problem=problem):
            return _order_not_created(state, sale_id, problem, now)
        case OrderUpdated(sale_id=sale_id, update=update):
            return _order_updated(state, sale_id, update, now)
        case PrinterChanged(problem=problem):
            return replace(state, printer_problem=problem), []
        case ConnectivityChanged(problem=problem):
            back = problem is None and state.offline is not None
            state = replace(state, offline=problem)
            return state, (_reconcile(state) if back else [])
        case Resumed(sales=sales, unconfirmed=unconfirmed, refunds=refunds):
            state, effects = _resume(replace(state, unconfirmed=unconfirmed), sales, now)
            # Refunds a restart interrupted are asked for again with the same key: never made twice.
            state = replace(state, refunds_open=refunds)
            return state, effects + _reconcile(state) + [RequestRefund(r) for r in refunds]
        case Reconciled(reference=reference, update=update):
            return _reconciled(state, reference, update)
        case PinChecked(ok=ok):
            return menu.pin_checked(state, ok, now)
        case RecentLoaded(records=records):
            return menu.recent_loaded(state, records)
        case ReportReady(kind=kind, lines=lines):
            return menu.report_ready(state, kind, lines)
        case ReportAddendum(kind=kind, lines=lines):
            return menu.report_ready(state, kind, lines, addendum=True)
        case RefundUpdated():
            return _refund_updated(state, event)
        case TillCommanded(command=command):
            return _till(state, command, now)
        case TillLinkChanged(problem=problem):
            return replace(state, till_problem=problem), []
        case AmountOffered(amount=amount):
            return _offered(state, amount), []
        case TillRefundFound():
            return _till_refund(state, event, now)
    raise TypeError(f"unknown event {event!r}")


# --- keys ---------------------------------------------------------------------------------------


def _key(state: TerminalState, key: Key, now: Now) -> Step:
    if state.phase is Phase.MENU:
        return menu.key(state, key, now)
    if key in (Key.REPRINT, Key.FEED):
        return _printer_key(state, key)
    if key is Key.REPEAT:
        phrase = state.last_phrase
        return state, ([Announce(phrase)] if phrase is not None and _speaks(state) else [])
    if key is Key.MENU:
        if state.phase is Phase.IDLE:
            return menu.open_menu(state, now)
        if state.phase is Phase.SALE and state.sale is not None and state.sale.status.is_final:
            return menu.open_menu(_leave_sale(state), now)
        return state, []  # never while an amount is typed or a customer is paying
    if state.phase is Phase.IDLE:
        if key.is_digit or key is Key.POINT:
            return _start_entry(state, key), []
        return state, []
    if state.phase is Phase.ENTERING:
        if key is Key.CANCEL:
            return replace(state, phase=Phase.IDLE, entry=fresh_entry(state.settings)), []
        if key is Key.ENTER:
            entry, amount = state.entry.submit()
            if amount is None:
                return replace(state, entry=entry), []
            if state.offline is not None and state.settings.offline is not None:
                return _start_local_sale(state, amount, now)
            return _start_sale(state, amount, now)
        return replace(state, entry=state.entry.press(key)), []
    sale = state.sale
    assert sale is not None
    if sale.status is SaleStatus.CREATING and key is Key.CANCEL:
        return _end(state, sale, SaleStatus.CANCELLED, "cancelled by the shopkeeper while the QR was made", now)
    if sale.status is SaleStatus.AWAITING_PAYMENT and key is Key.CANCEL:
        return _end(state, sale, SaleStatus.CANCELLED, "cancelled by the shopkeeper", now)
    if sale.status is SaleStatus.AWAITING_PAYMENT and sale.local and key is Key.ENTER:
        cause = "marked received by the shopkeeper after checking their bank app: not confirmed by the backend"
        state, effects = _end(state, sale, SaleStatus.UNCONFIRMED, cause, now)
        assert state.sale is not None
        return replace(state, unconfirmed=(*state.unconfirmed, state.sale)), effects
    if sale.status.is_final:
        if key is Key.ENTER and _asks_to_print(state, sale):
            return _leave_sale(state), [PrintReceipt(sale)]
        if key.is_digit or key is Key.POINT:
            return _start_entry(_leave_sale(state), key), []
        if key in (Key.ENTER, Key.CANCEL, Key.CLEAR, Key.BACKSPACE):
            return _leave_sale(state), []
    return state, []


def _printer_key(state: TerminalState, key: Key) -> Step:
    if not state.settings.printer or state.phase is Phase.ENTERING:
        return state, []
    if state.phase is Phase.SALE and state.sale is not None and not state.sale.status.is_final:
        return state, []  # never while a customer is paying
    if key is Key.FEED:
        return state, [FeedPaper()]
    if state.last_paid is None:
        return replace(state, notice=Text("No receipt to reprint yet")), []
    return state, [PrintReceipt(state.last_paid, reprint=True)]


def _asks_to_print(state: TerminalState, sale: Sale) -> bool:
    s = state.settings
    return s.printer and s.auto_print == "ask" and sale.status is SaleStatus.PAID


def _start_entry(state: TerminalState, key: Key) -> TerminalState:
    entry = fresh_entry(state.settings).press(key)
    return replace(state, phase=Phase.ENTERING, entry=entry, notice="")


def _start_sale(state: TerminalState, amount: Amount, now: Now, till_ref: str | None = None) -> Step:
    s = state.settings
    seq = state.next_seq
    reference = f"{s.terminal_id}-{seq:06d}"
    sale = Sale(
        id=f"{s.terminal_id}-{s.id_prefix}-{seq:06d}",
        seq=seq,
        reference=reference,
        amount=amount,
        status=SaleStatus.CREATING,
        started_at=now.wall,
        deadline=now.mono + s.create_timeout,
        till_ref=till_ref,
    )
    request = _order_request(s, sale)
    new = replace(state, phase=Phase.SALE, sale=sale, next_seq=seq + 1, entry=fresh_entry(s), result_until=None)
    return new, [JournalSale(sale, None, "sale started"), CreateOrder(request)]


def _start_local_sale(state: TerminalState, amount: Amount, now: Now, till_ref: str | None = None) -> Step:
    """Offline: the sale starts with a QR the terminal builds itself (when the caps allow it)."""
    rules = state.settings.offline
    assert rules is not None
    why = refusal(rules, amount, state.unconfirmed, now.wall)
    if why is not None:
        return replace(state, entry=replace(state.entry, message=Text("Offline: {why}", why=why))), []
    started, effects = _start_sale(state, amount, now, till_ref)
    assert started.sale is not None
    local = _go_local(started, started.sale, now, journal_start=effects[0])
    if local is None:  # the payee's QR cannot be built (a payload error): nothing started, the reason shown
        message = Text("Offline: no QR can be made for this payee")
        return replace(state, entry=replace(state.entry, message=message)), []
    return local


def _go_local(state: TerminalState, sale: Sale, now: Now, journal_start: Effect | None = None) -> Step | None:
    """Show a locally built QR for ``sale`` (None when the caps or the payee do not allow it)."""
    rules = state.settings.offline
    assert rules is not None
    if refusal(rules, sale.amount, state.unconfirmed, now.wall) is not None:
        return None
    try:
        order = local_order(rules, sale, expires_in=state.settings.sale_ttl, now=now.wall)
    except PayloadError:
        return None
    if guard.check(order, reference=sale.reference, amount=sale.amount, rules=state.settings.payee) is not None:
        return None  # the offline payee must be one of the shop's too
    shown = replace(
        sale,
        status=SaleStatus.AWAITING_PAYMENT,
        order=order,
        local=True,
        order_open=False,
        deadline=now.mono + state.settings.sale_ttl,
    )
    effects: list[Effect] = [journal_start] if journal_start is not None else []
    effects.append(JournalSale(shown, sale.status, "offline: QR built by the terminal, not confirmed"))
    return _place(replace(state, phase=Phase.SALE, sale=shown), shown), effects


def _reconcile(state: TerminalState) -> list[Effect]:
    if not state.unconfirmed:
        return []
    oldest = min(s.started_at for s in state.unconfirmed)
    return [Reconcile(oldest, tuple(s.reference for s in state.unconfirmed))]


def _reconciled(state: TerminalState, reference: str, update: OrderUpdate) -> Step:
    sale = next((s for s in state.unconfirmed if s.reference == reference), None)
    if sale is None or update.status is not OrderStatus.PAID:
        return state, []
    found = match(sale.amount, update.payments, update.unreadable_payment)
    paid = replace(
        sale, status=_status_of(found), payments=update.payments, unreadable_payment=update.unreadable_payment
    )
    rest = tuple(s for s in state.unconfirmed if s.reference != reference)
    cause = _received_cause(found, sale.status, late=False, again=False)
    effects: list[Effect] = [
        JournalSale(paid, sale.status, f"confirmed by the backend's history (reconciled): {cause}")
    ]
    last_paid = paid if paid.status is SaleStatus.PAID else state.last_paid
    return replace(state, unconfirmed=rest, last_paid=last_paid), effects


def _order_request(s: Settings, sale: Sale) -> OrderRequest:
    """The create request of ``sale``: always the same for the same sale (its id is the idempotency key)."""
    return OrderRequest(
        sale_id=sale.id,
        reference=sale.reference,
        amount=sale.amount,
        expires_in=s.sale_ttl,
        description=f"{s.merchant_name} {sale.reference}",
    )


# --- after a restart ------------------------------------------------------------------------------


def _resume(state: TerminalState, sales: tuple[Sale, ...], now: Now) -> Step:
    """Pick up what a power cut or crash interrupted. Nothing stays pending: a QR still valid is shown again,
    one that ran out is expired and cancelled (a payment that arrived meanwhile still wins), an order we were
    creating is asked for again with the same idempotency key, an order still open is cancelled again."""
    effects: list[Effect] = []
    s = state.settings
    for sale in sales:
        if sale.status in RECEIVED:
            # Money arrived before the restart; its QR may still be paid again until it expires: follow it.
            if sale.order is not None and not sale.local and sale.order.expires_at > now.wall:
                state = replace(state, followed=_follow(state.followed, sale, now))
                effects.append(WatchOrder(sale.id, sale.order.id, sale.order.expires_at))
            continue
        if sale.status is SaleStatus.CREATING:
            if state.sale is None:
                again = replace(sale, deadline=now.mono + s.create_timeout)
                state = replace(state, phase=Phase.SALE, sale=again, result_until=None)
                effects += [
                    JournalSale(again, sale.status, "resumed after a restart: asking for the order again"),
                    CreateOrder(_order_request(s, again)),
                ]
                continue
            # Another sale is on screen: this one's order must not stay payable.
            sale = replace(sale, status=SaleStatus.CANCELLED)
            effects.append(JournalSale(sale, SaleStatus.CREATING, "cancelled after a restart"))
        if sale.status is SaleStatus.AWAITING_PAYMENT and sale.order is not None:
            left = min(float(s.sale_ttl), (sale.order.expires_at - now.wall).total_seconds())
            refused = guard.check(sale.order, reference=sale.reference, amount=sale.amount, rules=s.payee)
            if state.sale is None and left > 5 and refused is None:
                shown = replace(sale, deadline=now.mono + left)
                state = replace(state, phase=Phase.SALE, sale=shown, result_until=None)
                effects += [
                    JournalSale(shown, sale.status, "resumed after a restart: QR shown again"),
                    WatchOrder(sale.id, sale.order.id, sale.order.expires_at),
                ]
                continue
            ended = replace(sale, status=SaleStatus.EXPIRED, deadline=None)
            effects += [
                JournalSale(ended, sale.status, "expired while the terminal was off"),
                CancelOrder(sale.id, sale.order.id),
            ]
            state = replace(state, background=(*state.background, ended)[-BACKGROUND_LIMIT:])
            continue
        if sale.status.is_final and sale.order_open and sale.status is not SaleStatus.PAID:
            state = replace(state, background=(*state.background, sale)[-BACKGROUND_LIMIT:])
            if sale.order is not None:
                # Its cancel may never have reached the backend: send it again (idempotent; paid still wins).
                effects.append(CancelOrder(sale.id, sale.order.id))
            else:  # cancelled while its order was being made: learn the order (same key) so it gets cancelled
                effects.append(CreateOrder(_order_request(s, sale)))
    return state, effects


# --- time ---------------------------------------------------------------------------------------


def _tick(state: TerminalState, now: Now) -> Step:
    if state.phase is Phase.MENU:
        return menu.tick(state, now)
    later: list[Effect] = []
    if state.unconfirmed and state.offline is None:
        # Start-up and coming back online already asked; after that, ask again now and then (banks report late).
        if state.next_reconcile == 0.0:
            state = replace(state, next_reconcile=now.mono + RECONCILE_EVERY)
        elif now.mono >= state.next_reconcile:
            state = replace(state, next_reconcile=now.mono + RECONCILE_EVERY)
            later = _reconcile(state)
    state, effects = _sale_tick(state, now)
    return state, effects + later


def _sale_tick(state: TerminalState, now: Now) -> Step:
    sale = state.sale
    if state.phase is not Phase.SALE or sale is None:
        return state, []
    due = sale.deadline is not None and now.mono >= sale.deadline
    if sale.status is SaleStatus.CREATING and due:
        failure = Failure(
            FailureKind.BACKEND,
            Problem(ProblemKind.TIMEOUT).advice,
            Problem(ProblemKind.TIMEOUT, "no answer to create within the terminal's limit"),
        )
        return _end(state, sale, SaleStatus.FAILED, "no answer from the backend", now, failure=failure)
    if sale.status is SaleStatus.AWAITING_PAYMENT and due:
        return _end(state, sale, SaleStatus.EXPIRED, "QR expired on the terminal's timer", now)
    if sale.status.is_final and state.result_until is not None and now.mono >= state.result_until:
        return _leave_sale(state), []
    return state, []


# --- backend results ----------------------------------------------------------------------------


def _order_created(state: TerminalState, sale_id: str, order: Order, now: Now) -> Step:
    sale = _find(state, sale_id)
    if sale is None or sale.order is not None:
        return state, []
    if sale.status is not SaleStatus.CREATING:
        # Cancelled (or timed out) while the order was being made: make sure nobody can pay it.
        ended = replace(sale, order=order)
        journal = JournalSale(ended, sale.status, f"order {order.id} arrived after the sale ended: cancelling it")
        return _place(state, ended), [journal, CancelOrder(sale.id, order.id)]
    s = state.settings
    reason = guard.check(order, reference=sale.reference, amount=sale.amount, rules=s.payee)
    if reason is not None:
        failure = Failure(FailureKind.QR_REFUSED, Text("QR refused: {reason}", reason=reason))
        ended = replace(sale, order=order, status=SaleStatus.FAILED, failure=failure, deadline=None)
        effects: list[Effect] = [
            JournalSale(ended, sale.status, f"QR refused by the payload guard: {reason}"),
            JournalSecurity(sale.id, f"QR refused: {reason}", order.qr.payload),
            CancelOrder(sale.id, order.id),
        ]
        return _place(replace(state, result_until=now.mono + s.result_seconds), ended), effects
    shown = replace(sale, order=order, status=SaleStatus.AWAITING_PAYMENT, deadline=now.mono + s.sale_ttl)
    effects = [
        JournalSale(shown, sale.status, f"QR shown for order {order.id}"),
        WatchOrder(sale.id, order.id, order.expires_at),
    ]
    return _place(state, shown), effects


def _order_not_created(state: TerminalState, sale_id: str, problem: Problem, now: Now) -> Step:
    sale = _find(state, sale_id)
    if sale is None or sale.order is not None or not sale.order_open:
        return state, []
    offline_kind = problem.kind in (ProblemKind.UNREACHABLE, ProblemKind.TIMEOUT, ProblemKind.SERVER)
    if sale.status is SaleStatus.CREATING and offline_kind and state.settings.offline is not None:
        local = _go_local(state, sale, now)
        if local is not None:
            return local
    if sale.status is SaleStatus.CREATING:
        failure = Failure(FailureKind.BACKEND, problem.advice, problem)
        cause = f"order not created: {problem.kind}: {problem.detail}"
        return _end(state, sale, SaleStatus.FAILED, cause, now, failure=failure, order_open=False)
    closed = replace(sale, order_open=False)
    journal = JournalSale(closed, sale.status, f"order not created ({problem.kind}); nothing to cancel")
    return _place(state, closed), [journal]


def _order_updated(state: TerminalState, sale_id: str, update: OrderUpdate, now: Now) -> Step:
    sale = _find(state, sale_id) or next((s for s in state.followed if s.id == sale_id), None)
    if sale is None or sale.order is None or update.order_id != sale.order.id:
        return state, []
    status = update.status
    if status is OrderStatus.PENDING:
        return state, []
    if sale.status in RECEIVED:
        return _received(state, sale, update, now) if _news(sale, update) else (state, [])
    if status in PAID_STATUSES:
        return _received(state, sale, update, now)
    if status not in (OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        return state, []
    if update.payments or update.unreadable_payment:
        # The order says no money, its payments say money: never "No payment received" for money that was listed.
        listed = Text("the backend reports the order {status} but lists a payment", status=Text(status.value))
        return _received(state, sale, update, now, contradicts=listed)
    if sale.status is SaleStatus.AWAITING_PAYMENT:
        if status is OrderStatus.FAILED:
            message = update.failure_message or Text("The payment was declined.")
            failure = Failure(FailureKind.DECLINED, message)
            cause = f"backend reports failed: {update.failure_code or '-'} {message}"
            return _end(state, sale, SaleStatus.FAILED, cause, now, failure=failure, order_open=False)
        ended = SaleStatus.EXPIRED if status is OrderStatus.EXPIRED else SaleStatus.CANCELLED
        return _end(state, sale, ended, f"backend reports {status}", now, order_open=False)
    if not sale.order_open:
        return state, []
    closed = replace(sale, order_open=False)
    return _place(state, closed), [JournalSale(closed, sale.status, f"backend confirms the order is {status}")]


def _news(sale: Sale, update: OrderUpdate) -> bool:
    """True when a report about a sale money already arrived for says more: another payment (each backend id
    counted once), or one the terminal cannot read."""
    if update.status not in PAID_STATUSES:
        return False
    more = len(distinct(update.payments)) > len(distinct(sale.payments))
    return more or (update.unreadable_payment is not None and sale.unreadable_payment is None)


#: Sale statuses that mean money arrived (as asked or not): a later report can only add payments to them.
RECEIVED = (SaleStatus.PAID, SaleStatus.UNDERPAID, SaleStatus.MISMATCH)
#: Order statuses that carry the order's payments.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)


def _received(state: TerminalState, sale: Sale, update: OrderUpdate, now: Now, contradicts: str = "") -> Step:
    """Money arrived: match it with the sale's amount (see :mod:`terminal.core.matching`). Only money that
    arrived exactly as asked is green, beeps and is spoken; a payment after our own expiry or cancel still wins."""
    again = sale.status in RECEIVED
    got = replace(
        sale,
        payments=update.payments,
        unreadable_payment=update.unreadable_payment,
        failure=None,
        order_open=False,
        deadline=None,
    )
    found = match(sale.amount, update.payments, update.unreadable_payment)
    if contradicts:
        found = Match(Verdict.MISMATCH, found.received, reason=contradicts)
    status = _status_of(found)
    got = replace(got, status=status)
    late = sale.status not in (SaleStatus.AWAITING_PAYMENT, *RECEIVED)
    cause = _received_cause(found, sale.status, late=late, again=again)
    effects: list[Effect] = [JournalSale(got, sale.status, cause, again=again and status is sale.status)]
    if found.verdict is Verdict.MISMATCH:
        effects.append(JournalSecurity(sale.id, f"payment mismatch: {found.reason}", _payments_text(update)))
    exact = found.verdict is Verdict.PAID
    first_paid = found.verdict.is_paid and sale.status is not SaleStatus.PAID
    if first_paid and state.settings.printer and state.settings.auto_print == "always":
        effects.append(PrintReceipt(got))
    keep_paid = got if status is SaleStatus.PAID else state.last_paid
    state = replace(state, last_paid=keep_paid, followed=_follow(state.followed, got, now))
    if exact and first_paid:
        state, spoken = _announce(state, lambda language: received(paid_amount(got), language))
        effects += spoken
    until = now.mono + state.settings.result_seconds
    if state.sale is not None and state.sale.id == sale.id:
        return replace(state, sale=got, result_until=until), effects
    rest = tuple(s for s in state.background if s.id != sale.id)
    current_busy = state.phase is Phase.ENTERING or (
        state.phase is Phase.SALE and state.sale is not None and not state.sale.status.is_final
    )
    if current_busy or again:
        notice = _received_notice(got, found)
        return replace(state, background=rest, notice=notice), effects
    base = _leave_sale(replace(state, background=rest))
    return replace(base, phase=Phase.SALE, sale=got, result_until=until), effects


#: How many received sales are followed for another payment at most (the newest; each until its QR expires).
FOLLOW_LIMIT = 20


def _follow(followed: tuple[Sale, ...], sale: Sale, now: Now) -> tuple[Sale, ...]:
    """``followed`` with ``sale`` in it (replacing its older self), without those whose QR has expired."""
    keep = tuple(s for s in followed if s.id != sale.id and s.order is not None and s.order.expires_at > now.wall)
    if sale.order is not None and sale.order.expires_at > now.wall:
        keep = (*keep, sale)
    return keep[-FOLLOW_LIMIT:]


def _status_of(found: Match) -> SaleStatus:
    """paid (also overpaid and paid twice: the sale's amount is there), underpaid or mismatch."""
    if found.verdict.is_paid:
        return SaleStatus.PAID
    return SaleStatus.UNDERPAID if found.verdict is Verdict.UNDERPAID else SaleStatus.MISMATCH


def _received_cause(found: Match, was: SaleStatus, *, late: bool, again: bool) -> str:
    words = {
        Verdict.PAID: "paid",
        Verdict.OVERPAID: f"overpaid: received {_code(found.received)}, {_code(found.extra)} more than asked",
        Verdict.PAID_TWICE: f"paid twice: received {_code(found.received)}, {_code(found.extra)} more than asked",
        Verdict.UNDERPAID: f"underpaid: received {_code(found.received)}",
        Verdict.MISMATCH: f"payment mismatch: {found.reason}",
    }[found.verdict]
    if again:
        return f"another payment arrived: {words}"
    return f"{words} after the sale was {was}: money that arrived wins" if late else words


def _received_notice(sale: Sale, found: Match) -> Text:
    if found.verdict is Verdict.PAID_TWICE and found.extra is not None:
        return Text(
            "Sale {reference} was paid twice: refund {extra} from the menu", reference=sale.reference, extra=found.extra
        )
    if found.verdict is Verdict.OVERPAID and found.extra is not None:
        return Text(
            "Sale {reference} was overpaid: refund {extra} from the menu", reference=sale.reference, extra=found.extra
        )
    if found.verdict is Verdict.UNDERPAID and found.received is not None:
        return Text(
            "Sale {reference}: only {got} of {amount} received",
            reference=sale.reference,
            got=found.received,
            amount=sale.amount,
        )
    if found.verdict is Verdict.MISMATCH:
        return Text(
            "Sale {reference}: payment does not match ({reason})", reference=sale.reference, reason=found.reason
        )
    return Text("Earlier sale {reference} was paid ({amount})", reference=sale.reference, amount=paid_amount(sale))


def _code(amount: Amount | None) -> str:
    return amount.format_code() if amount is not None else "an unreadable amount"


def _payments_text(update: OrderUpdate) -> str:
    parts = [f"{p.amount.minor} {p.amount.currency} ref={p.provider_ref or '-'}" for p in update.payments]
    if update.unreadable_payment:
        parts.append(f"unreadable: {update.unreadable_payment}")
    return "; ".join(parts)


def paid_amount(sale: Sale) -> Amount:
    """What the customer actually paid: every payment summed (the backend's figures when it gave them), else the
    sale's amount (an offline sale marked received)."""
    return sale.received


# --- the till -----------------------------------------------------------------------------------


def _till(
    state: TerminalState, command: TillSale | TillCancel | TillStatus | TillRefund | TillReport, now: Now
) -> Step:
    """A till's command: the same rules as the keypad's (it is another keypad, with words)."""
    sale = state.sale
    if isinstance(command, TillRefund | TillReport):
        if not state.settings.till_manager:
            return state, [TillReply("ERR 403 the manager's commands are off: [till] manager_commands = true")]
        if isinstance(command, TillReport):
            return state, [TillReportLines()]
        return state, [FindSaleForTill(command.reference, command.amount)]
    running = state.phase is Phase.SALE and sale is not None and not sale.status.is_final
    if isinstance(command, TillStatus):
        offline = state.offline is not None
        return state, [TillReply(status_line(sale if state.phase is Phase.SALE else None, state.phase, offline))]
    if isinstance(command, TillCancel):
        if not running:
            return state, [TillReply("ERR 409 no sale is running")]
        assert sale is not None
        state, effects = _end(state, sale, SaleStatus.CANCELLED, "cancelled by the till", now)
        return state, [*effects, TillReply(f"OK CANCEL {sale.reference}")]
    if state.phase is Phase.MENU or state.phase is Phase.ENTERING or running:
        doing = {Phase.MENU: "the manager's menu is open", Phase.ENTERING: "the shopkeeper is typing an amount"}
        why = doing.get(state.phase) or f"sale {sale.reference if sale else ''} is waiting for payment"
        return state, [TillReply(f"ERR 409 busy: {why}")]
    if command.amount.minor > state.settings.maximum.minor:
        return state, [TillReply(f"ERR 422 above this terminal's maximum of {state.settings.maximum.decimal()}")]
    low = state.settings.minimum
    if low is not None and command.amount.minor < low.minor:
        return state, [TillReply(f"ERR 422 below the minimum of {low.decimal()}: {state.settings.minimum_reason}")]
    base = _leave_sale(state) if state.phase is Phase.SALE else state
    rules = state.settings.offline
    if state.offline is not None and rules is not None:
        capped = refusal(rules, command.amount, state.unconfirmed, now.wall)
        if capped is not None:
            return state, [TillReply(f"ERR 503 offline: {capped}")]
        started, effects = _start_local_sale(base, command.amount, now, command.till_ref)
    else:
        started, effects = _start_sale(base, command.amount, now, command.till_ref)
    assert started.sale is not None
    return started, [*effects, TillReply(f"OK SALE {started.sale.reference}")]


def _till_refund(state: TerminalState, found: TillRefundFound, now: Now) -> Step:
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


def _offered(state: TerminalState, amount: Amount) -> TerminalState:
    """A total read off the till's pole display, typed in for the shopkeeper to confirm (only at a free counter)."""
    free = state.phase is Phase.IDLE or (
        state.phase is Phase.SALE and state.sale is not None and state.sale.status.is_final
    )
    if not free or amount.currency != state.settings.currency or amount.minor > state.settings.maximum.minor:
        return state
    base = _leave_sale(state) if state.phase is Phase.SALE else state
    entry = replace(fresh_entry(state.settings), text=amount.decimal())
    return replace(base, phase=Phase.ENTERING, entry=entry, notice=Text("Total from the till: Enter shows the QR"))


# --- refunds ------------------------------------------------------------------------------------


def _refund_updated(state: TerminalState, event: RefundUpdated) -> Step:
    """A refund moved on: journal it; when final, print its slip (succeeded) and say so."""
    refund = next((r for r in state.refunds_open if r.id == event.refund_id), None)
    if refund is None:
        return state, []
    provider_id = event.provider_id or refund.provider_id
    if event.status is refund.status and provider_id == refund.provider_id and event.message == refund.message:
        return state, []
    updated = replace(refund, status=event.status, provider_id=provider_id, message=event.message)
    cause = f"backend: refund {event.status}" + (f": {event.message}" if event.message else "")
    effects: list[Effect] = [JournalRefund(updated, cause)]
    if not updated.status.is_final:
        opened = tuple(updated if r.id == refund.id else r for r in state.refunds_open)
        return menu.refund_changed(replace(state, refunds_open=opened), updated), effects
    state = replace(state, refunds_open=tuple(r for r in state.refunds_open if r.id != refund.id), last_refund=updated)
    if updated.status is RefundStatus.SUCCEEDED:
        if state.settings.printer:
            effects.append(PrintRefundSlip(updated))
        notice = Text("Refund {slip} of {amount} went through", slip=updated.slip_reference, amount=updated.amount)
    else:
        why = updated.message or Text("refused by the backend")
        notice = Text("Refund {slip} failed: {why}", slip=updated.slip_reference, why=why)
    watching = state.menu is not None and state.menu.refund_id == updated.id
    state = menu.refund_changed(state, updated)
    return (state if watching else replace(state, notice=notice)), effects


# --- helpers ------------------------------------------------------------------------------------


def _end(
    state: TerminalState,
    sale: Sale,
    status: SaleStatus,
    cause: str,
    now: Now,
    *,
    failure: Failure | None = None,
    order_open: bool | None = None,
) -> Step:
    ended = replace(
        sale,
        status=status,
        failure=failure,
        deadline=None,
        order_open=sale.order_open if order_open is None else order_open,
    )
    effects: list[Effect] = [JournalSale(ended, sale.status, cause)]
    if sale.status is SaleStatus.AWAITING_PAYMENT and ended.order_open and sale.order is not None:
        effects.append(CancelOrder(sale.id, sale.order.id))
    new = _place(state, ended)
    if new.sale is not None and new.sale.id == sale.id:
        new = replace(new, result_until=now.mono + state.settings.result_seconds)
        declined = failure is not None and failure.kind is FailureKind.DECLINED
        if state.settings.voice_failures and (status is SaleStatus.EXPIRED or declined):
            kind = "expired" if status is SaleStatus.EXPIRED else "failed"
            new, spoken = _announce(new, lambda language: _failure_phrase(kind, language))
            effects += spoken
    return new, effects


def _speaks(state: TerminalState) -> bool:
    return state.settings.voice_language is not None and state.voice_on and state.volume > 0


def _announce(state: TerminalState, make: Callable[[str], Phrase]) -> tuple[TerminalState, list[Effect]]:
    """Say the phrase ``make`` builds in the terminal's language, when a voice is fitted and on."""
    language = state.settings.voice_language
    if language is None or not _speaks(state):
        return state, []
    try:
        phrase = make(language)
    except SpeechError:
        return state, []  # an amount the language cannot say: the screen and the beep still tell
    return replace(state, last_phrase=phrase), [Announce(phrase)]


def _failure_phrase(kind: str, language: str) -> Phrase:
    return failure(kind, language)


def _find(state: TerminalState, sale_id: str) -> Sale | None:
    if state.sale is not None and state.sale.id == sale_id:
        return state.sale
    return next((s for s in state.background if s.id == sale_id), None)


def _place(state: TerminalState, sale: Sale) -> TerminalState:
    if state.sale is not None and state.sale.id == sale.id:
        return replace(state, sale=sale)
    keep = sale.order_open and sale.status is not SaleStatus.PAID
    background = tuple((sale if s.id == sale.id else s) for s in state.background if keep or s.id != sale.id)
    return replace(state, background=background)


def _leave_sale(state: TerminalState) -> TerminalState:
    """Back to idle; a sale whose order may still change is followed in the background."""
    sale = state.sale
    background = state.background
    if sale is not None and sale.order_open and sale.status is not SaleStatus.PAID:
        background = (*background, sale)[-BACKGROUND_LIMIT:]
    return replace(
        state,
        phase=Phase.IDLE,
        sale=None,
        result_until=None,
        background=background,
        entry=fresh_entry(state.settings),
    )

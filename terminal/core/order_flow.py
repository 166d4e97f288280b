"""What the backend says about a sale's order: created (shown only once the payload guard accepted its QR), not
created (offline: a local QR when allowed, else failed), and its status (money arrived: see
:mod:`terminal.core.payment_flow`; declined, expired, cancelled).

Rules that are easy to get wrong: cancel while creating cancels the order once it exists; a status for another
order, or a repeated one, changes nothing; money that arrived wins over our own expiry or cancel."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import guard
from terminal.core.clock import Now
from terminal.core.effects import CancelOrder, Effect, JournalSale, JournalSecurity, WatchOrder
from terminal.core.i18n import Text
from terminal.core.offline_flow import go_local
from terminal.core.orders import Order, OrderStatus, OrderUpdate
from terminal.core.payment_flow import PAID_STATUSES, RECEIVED, news, received
from terminal.core.problems import Problem, ProblemKind
from terminal.core.sale import Failure, FailureKind, Sale, SaleStatus
from terminal.core.sale_flow import Step, end, find, place
from terminal.core.state import TerminalState

#: Problems that mean the backend cannot be reached (an offline sale may start) rather than that it refused.
UNREACHABLE = (ProblemKind.UNREACHABLE, ProblemKind.TIMEOUT, ProblemKind.SERVER)
#: Order statuses that end a sale without money.
NO_MONEY = (OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED)


def order_created(state: TerminalState, sale_id: str, order: Order, now: Now) -> Step:
    """The order exists: its QR is shown once the payload guard accepted it; a sale that ended meanwhile has its
    order cancelled."""
    sale = find(state, sale_id)
    if sale is None or sale.order is not None:
        return state, []
    if sale.status is not SaleStatus.CREATING:
        # Cancelled (or timed out) while the order was being made: make sure nobody can pay it.
        ended = replace(sale, order=order)
        journal = JournalSale(ended, sale.status, f"order {order.id} arrived after the sale ended: cancelling it")
        return place(state, ended), [journal, CancelOrder(sale.id, order.id)]
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
        return place(replace(state, result_until=now.mono + s.result_seconds), ended), effects
    shown = replace(sale, order=order, status=SaleStatus.AWAITING_PAYMENT, deadline=now.mono + s.sale_ttl)
    effects = [
        JournalSale(shown, sale.status, f"QR shown for order {order.id}"),
        WatchOrder(sale.id, order.id, order.expires_at),
    ]
    return place(state, shown), effects


def order_not_created(state: TerminalState, sale_id: str, problem: Problem, now: Now) -> Step:
    """No order: a sale still creating goes offline (a local QR, when configured and allowed) or fails; a sale
    that ended meanwhile has nothing left to cancel."""
    sale = find(state, sale_id)
    if sale is None or sale.order is not None or not sale.order_open:
        return state, []
    rules = state.settings.offline
    if sale.status is SaleStatus.CREATING and problem.kind in UNREACHABLE and rules is not None:
        local = go_local(state, rules, sale, now)
        if local is not None:
            return local
    if sale.status is SaleStatus.CREATING:
        failure = Failure(FailureKind.BACKEND, problem.advice, problem)
        cause = f"order not created: {problem.kind}: {problem.detail}"
        return end(state, sale, SaleStatus.FAILED, cause, now, failure=failure, order_open=False)
    closed = replace(sale, order_open=False)
    journal = JournalSale(closed, sale.status, f"order not created ({problem.kind}); nothing to cancel")
    return place(state, closed), [journal]


def order_updated(state: TerminalState, sale_id: str, update: OrderUpdate, now: Now) -> Step:
    """The order's status, from a poll or a cancel reply: for this sale's order only, and only when it says
    something new."""
    sale = find(state, sale_id) or next((s for s in state.followed if s.id == sale_id), None)
    if sale is None or sale.order is None or update.order_id != sale.order.id:
        return state, []
    status = update.status
    if status is OrderStatus.PENDING:
        return state, []
    if sale.status in RECEIVED:
        return received(state, sale, update, now) if news(sale, update) else (state, [])
    if status in PAID_STATUSES:
        return received(state, sale, update, now)
    if status not in NO_MONEY:
        return state, []
    if update.payments or update.unreadable_payment:
        # The order says no money, its payments say money: never "No payment received" for money that was listed.
        listed = Text("the backend reports the order {status} but lists a payment", status=Text(status.value))
        return received(state, sale, update, now, contradicts=listed)
    return _no_money(state, sale, update, now)


def _no_money(state: TerminalState, sale: Sale, update: OrderUpdate, now: Now) -> Step:
    """The order failed, expired or was cancelled: the sale awaiting payment ends so; an ended one is closed."""
    status = update.status
    if sale.status is SaleStatus.AWAITING_PAYMENT:
        if status is OrderStatus.FAILED:
            message = update.failure_message or Text("The payment was declined.")
            failure = Failure(FailureKind.DECLINED, message)
            cause = f"backend reports failed: {update.failure_code or '-'} {message}"
            return end(state, sale, SaleStatus.FAILED, cause, now, failure=failure, order_open=False)
        ended = SaleStatus.EXPIRED if status is OrderStatus.EXPIRED else SaleStatus.CANCELLED
        return end(state, sale, ended, f"backend reports {status}", now, order_open=False)
    if not sale.order_open:
        return state, []
    closed = replace(sale, order_open=False)
    return place(state, closed), [JournalSale(closed, sale.status, f"backend confirms the order is {status}")]

"""After a restart (power cut, crash): the journal's unfinished sales picked up so that nothing stays pending. A
QR still valid is shown again, one that ran out is expired and cancelled (a payment that arrived meanwhile still
wins), an order we were creating is asked for again with the same idempotency key, an order still open is
cancelled again; refunds a restart interrupted are asked for again (same key: never made twice)."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import guard
from terminal.core.clock import Now
from terminal.core.effects import CancelOrder, CreateOrder, Effect, JournalSale, RequestRefund, WatchOrder
from terminal.core.events import Resumed
from terminal.core.offline_flow import reconcile
from terminal.core.orders import Order
from terminal.core.payment_flow import RECEIVED, follow
from terminal.core.sale import Sale, SaleStatus
from terminal.core.sale_flow import BACKGROUND_LIMIT, Step, order_request
from terminal.core.state import Phase, TerminalState


def resumed(state: TerminalState, event: Resumed, now: Now) -> Step:
    """Pick up the journal's unfinished sales, its unconfirmed offline sales and its open refunds."""
    state = replace(state, unconfirmed=event.unconfirmed)
    effects: list[Effect] = []
    for sale in event.sales:
        state, more = _one(state, sale, now)
        effects += more
    state = replace(state, refunds_open=event.refunds)
    return state, effects + reconcile(state) + [RequestRefund(r) for r in event.refunds]


def _one(state: TerminalState, sale: Sale, now: Now) -> Step:
    if sale.status in RECEIVED:
        return _received(state, sale, now)
    if sale.status is SaleStatus.CREATING:
        if state.sale is None:
            return _create_again(state, sale, now)
        # Another sale is on screen: this one's order must not stay payable.
        cancelled = replace(sale, status=SaleStatus.CANCELLED)
        state, effects = _ended(state, cancelled)
        return state, [JournalSale(cancelled, SaleStatus.CREATING, "cancelled after a restart"), *effects]
    if sale.status is SaleStatus.AWAITING_PAYMENT and sale.order is not None:
        return _awaiting(state, sale, sale.order, now)
    return _ended(state, sale)


def _received(state: TerminalState, sale: Sale, now: Now) -> Step:
    """Money arrived before the restart; its QR may still be paid again until it expires: follow it."""
    if sale.order is None or sale.local or sale.order.expires_at <= now.wall:
        return state, []
    state = replace(state, followed=follow(state.followed, sale, now))
    return state, [WatchOrder(sale.id, sale.order.id, sale.order.expires_at)]


def _create_again(state: TerminalState, sale: Sale, now: Now) -> Step:
    s = state.settings
    again = replace(sale, deadline=now.mono + s.create_timeout)
    state = replace(state, phase=Phase.SALE, sale=again, result_until=None)
    return state, [
        JournalSale(again, sale.status, "resumed after a restart: asking for the order again"),
        CreateOrder(order_request(s, again)),
    ]


def _awaiting(state: TerminalState, sale: Sale, order: Order, now: Now) -> Step:
    """``order``'s QR was shown: shown again while it has time left (and still passes the guard), else expired."""
    s = state.settings
    left = min(float(s.sale_ttl), (order.expires_at - now.wall).total_seconds())
    refused = guard.check(order, reference=sale.reference, amount=sale.amount, rules=s.payee)
    if state.sale is None and left > 5 and refused is None:
        shown = replace(sale, deadline=now.mono + left)
        state = replace(state, phase=Phase.SALE, sale=shown, result_until=None)
        return state, [
            JournalSale(shown, sale.status, "resumed after a restart: QR shown again"),
            WatchOrder(sale.id, order.id, order.expires_at),
        ]
    ended = replace(sale, status=SaleStatus.EXPIRED, deadline=None)
    effects: list[Effect] = [
        JournalSale(ended, sale.status, "expired while the terminal was off"),
        CancelOrder(sale.id, order.id),
    ]
    return replace(state, background=(*state.background, ended)[-BACKGROUND_LIMIT:]), effects


def _ended(state: TerminalState, sale: Sale) -> Step:
    """An ended sale whose order may still change: followed in the background, its order cancelled again."""
    if not (sale.status.is_final and sale.order_open and sale.status is not SaleStatus.PAID):
        return state, []
    state = replace(state, background=(*state.background, sale)[-BACKGROUND_LIMIT:])
    if sale.order is not None:
        # Its cancel may never have reached the backend: send it again (idempotent; paid still wins).
        return state, [CancelOrder(sale.id, sale.order.id)]
    # Cancelled while its order was being made: learn the order (same key) so it gets cancelled.
    return state, [CreateOrder(order_request(state.settings, sale))]

"""The terminal's rules: ``step(state, event, now) → (state', effects)``. Pure; every rule is unit-tested.

``step`` only dispatches: each kind of event has its handler in the module named for what it is about.

==================  ===========================================================================================
``key_flow``        the shopkeeper's keys at the counter (amount, Enter, Cancel, reprint, repeat, menu)
``sale_flow``       a sale's life: started, its order asked for, its timers, ended, the counter back to idle
``order_flow``      what the backend says about a sale's order: created, not created, its status
``payment_flow``    money that arrived, matched with the sale's amount (paid, overpaid, underpaid, mismatch)
``offline_flow``    offline sales: a QR the terminal builds itself, and the reconciliation that confirms them
``resume_flow``     after a restart: the journal's unfinished sales and refunds picked up
``till_flow``       the till's commands and the total its pole display showed
``refund_flow``     refunds moving on at the backend
``announcements``   what the voice says, and when
``menu``            the manager's menu (PIN, recent sales, refunds, reports, voice)
==================  ===========================================================================================

Rules that are easy to get wrong, and where they live:
- money that arrived wins: a paid status after our own expiry or cancel still makes the sale paid
  (``payment_flow.received``);
- cancel while creating: the order, once it exists, is cancelled (``order_flow.order_created``);
- a status for another order, or a repeated one, changes nothing (``order_flow.order_updated``);
- the QR is shown only after the payload guard accepted it (``order_flow.order_created``);
- every change of a sale is journaled first: ``JournalSale`` precedes every other effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from terminal.core import key_flow, menu, offline_flow, order_flow, refund_flow, resume_flow, till_flow
from terminal.core.clock import Now
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
from terminal.core.payment_flow import paid_amount
from terminal.core.sale_flow import Step, sale_tick
from terminal.core.state import Phase, Settings, TerminalState, initial

__all__ = ["HANDLERS", "Phase", "Settings", "TerminalState", "initial", "paid_amount", "step"]

E = TypeVar("E")
#: A handler: the state, its kind of event, the time → the new state and its effects.
Handler = Callable[[TerminalState, Any, Now], Step]


def step(state: TerminalState, event: Event, now: Now) -> Step:
    """Apply one event at time ``now``."""
    handler = HANDLERS.get(type(event))
    if handler is None:
        raise TypeError(f"unknown event {event!r}")
    return handler(state, event, now)


def _tick(state: TerminalState, now: Now) -> Step:
    """Time passed: the menu's timers, or the sale's (and, after them, the offline sales' reconciliation)."""
    if state.phase is Phase.MENU:
        return menu.tick(state, now)
    state, later = offline_flow.reconcile_due(state, now)
    state, effects = sale_tick(state, now)
    return state, effects + later


def _on(kind: type[E], handler: Callable[[TerminalState, E, Now], Step]) -> tuple[type, Handler]:
    """One row of the table (mypy checks that ``handler`` takes ``kind``)."""
    return kind, handler


#: Every kind of event, and its handler.
HANDLERS: dict[type, Handler] = dict(
    [
        _on(KeyPressed, lambda state, e, now: key_flow.key(state, e.key, now)),
        _on(Tick, lambda state, e, now: _tick(state, now)),
        _on(OrderCreated, lambda state, e, now: order_flow.order_created(state, e.sale_id, e.order, now)),
        _on(OrderNotCreated, lambda state, e, now: order_flow.order_not_created(state, e.sale_id, e.problem, now)),
        _on(OrderUpdated, lambda state, e, now: order_flow.order_updated(state, e.sale_id, e.update, now)),
        _on(PrinterChanged, lambda state, e, now: (replace(state, printer_problem=e.problem), [])),
        _on(ConnectivityChanged, lambda state, e, now: offline_flow.connectivity_changed(state, e.problem)),
        _on(Resumed, resume_flow.resumed),
        _on(Reconciled, lambda state, e, now: offline_flow.reconciled(state, e.reference, e.update)),
        _on(PinChecked, lambda state, e, now: menu.pin_checked(state, e.ok, now)),
        _on(RecentLoaded, lambda state, e, now: menu.recent_loaded(state, e.records)),
        _on(ReportReady, lambda state, e, now: menu.report_ready(state, e.kind, e.lines)),
        _on(ReportAddendum, lambda state, e, now: menu.report_ready(state, e.kind, e.lines, addendum=True)),
        _on(RefundUpdated, lambda state, e, now: refund_flow.refund_updated(state, e)),
        _on(TillCommanded, lambda state, e, now: till_flow.command(state, e.command, now)),
        _on(TillLinkChanged, lambda state, e, now: (replace(state, till_problem=e.problem), [])),
        _on(AmountOffered, lambda state, e, now: (till_flow.amount_offered(state, e.amount), [])),
        _on(TillRefundFound, till_flow.refund_found),
    ]
)

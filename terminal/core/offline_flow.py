"""Offline sales on the counter (the rules and caps are in :mod:`terminal.core.offline`): a QR the terminal
builds itself when the backend cannot be reached, and the reconciliation that later confirms the sales the
shopkeeper marked received — at start, when the backend is back, and every ``RECONCILE_EVERY`` seconds."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import guard
from terminal.core.clock import Now
from terminal.core.effects import Effect, JournalSale, Reconcile
from terminal.core.matching import match
from terminal.core.offline import OfflineRules, local_order, refusal
from terminal.core.orders import OrderStatus, OrderUpdate
from terminal.core.payloads.errors import PayloadError
from terminal.core.payment_flow import received_cause, status_of
from terminal.core.problems import Problem
from terminal.core.sale import Sale, SaleStatus
from terminal.core.sale_flow import Step, place, sale_started
from terminal.core.state import Phase, TerminalState

#: Seconds between looks at the backend's history while offline sales wait for confirmation.
RECONCILE_EVERY = 60.0


def go_local(state: TerminalState, rules: OfflineRules, sale: Sale, now: Now, *, starting: bool = False) -> Step | None:
    """Show a locally built QR for ``sale`` (None when the caps or the payee do not allow it); ``starting``: the
    sale was just opened (see :func:`terminal.core.sale_flow.open_sale`) and is journaled first."""
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
    effects: list[Effect] = [sale_started(sale)] if starting else []
    effects.append(JournalSale(shown, sale.status, "offline: QR built by the terminal, not confirmed"))
    return place(replace(state, phase=Phase.SALE, sale=shown), shown), effects


def connectivity_changed(state: TerminalState, problem: Problem | None) -> Step:
    """The backend became unreachable, or reachable again: then the offline sales are looked for at once."""
    back = problem is None and state.offline is not None
    state = replace(state, offline=problem)
    return state, (reconcile(state) if back else [])


def reconcile(state: TerminalState) -> list[Effect]:
    """Look for the unconfirmed offline sales' payments in the backend's history (nothing when there are none)."""
    if not state.unconfirmed:
        return []
    oldest = min(s.started_at for s in state.unconfirmed)
    return [Reconcile(oldest, tuple(s.reference for s in state.unconfirmed))]


def reconcile_due(state: TerminalState, now: Now) -> Step:
    """The reconciliation's timer: while online with sales to confirm, look again every ``RECONCILE_EVERY``."""
    if not state.unconfirmed or state.offline is not None:
        return state, []
    # Start-up and coming back online already asked; after that, ask again now and then (banks report late).
    if state.next_reconcile == 0.0:
        return replace(state, next_reconcile=now.mono + RECONCILE_EVERY), []
    if now.mono >= state.next_reconcile:
        state = replace(state, next_reconcile=now.mono + RECONCILE_EVERY)
        return state, reconcile(state)
    return state, []


def reconciled(state: TerminalState, reference: str, update: OrderUpdate) -> Step:
    """The backend's history shows an offline sale's order: paid confirms it (as matched), anything else waits."""
    sale = next((s for s in state.unconfirmed if s.reference == reference), None)
    if sale is None or update.status is not OrderStatus.PAID:
        return state, []
    found = match(sale.amount, update.payments, update.unreadable_payment)
    paid = replace(
        sale, status=status_of(found), payments=update.payments, unreadable_payment=update.unreadable_payment
    )
    rest = tuple(s for s in state.unconfirmed if s.reference != reference)
    cause = received_cause(found, sale.status, late=False, again=False)
    effects: list[Effect] = [
        JournalSale(paid, sale.status, f"confirmed by the backend's history (reconciled): {cause}")
    ]
    last_paid = paid if paid.status is SaleStatus.PAID else state.last_paid
    return replace(state, unconfirmed=rest, last_paid=last_paid), effects

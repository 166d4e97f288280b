"""The sale's life on the counter: a sale opened for an amount, its order asked for, its timers (create
timeout, QR expiry, how long the result stays on screen), its end, and the counter back to idle. The backend's
answers are in :mod:`terminal.core.order_flow`, money arriving in :mod:`terminal.core.payment_flow`.

A sale that ended while its order may still change (a cancel not yet confirmed) is followed in the background:
a payment reported for it still wins."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import announcements
from terminal.core.clock import Now
from terminal.core.effects import CancelOrder, CreateOrder, Effect, JournalSale
from terminal.core.money import Amount
from terminal.core.orders import OrderRequest
from terminal.core.problems import Problem, ProblemKind
from terminal.core.sale import Failure, FailureKind, Sale, SaleStatus
from terminal.core.state import Phase, Settings, TerminalState, fresh_entry

Step = tuple[TerminalState, list[Effect]]

#: How many ended sales whose orders are still open we keep following for a late payment.
BACKGROUND_LIMIT = 20


def open_sale(
    state: TerminalState, amount: Amount, now: Now, till_ref: str | None = None
) -> tuple[TerminalState, Sale]:
    """A new sale of ``amount`` on screen, creating its order (the caller journals it: see :func:`sale_started`)."""
    s = state.settings
    seq = state.next_seq
    sale = Sale(
        id=f"{s.terminal_id}-{s.id_prefix}-{seq:06d}",
        seq=seq,
        reference=f"{s.terminal_id}-{seq:06d}",
        amount=amount,
        status=SaleStatus.CREATING,
        started_at=now.wall,
        deadline=now.mono + s.create_timeout,
        till_ref=till_ref,
    )
    opened = replace(state, phase=Phase.SALE, sale=sale, next_seq=seq + 1, entry=fresh_entry(s), result_until=None)
    return opened, sale


def sale_started(sale: Sale) -> JournalSale:
    """The journal's first line of ``sale``."""
    return JournalSale(sale, None, "sale started")


def start_sale(state: TerminalState, amount: Amount, now: Now, till_ref: str | None = None) -> Step:
    """Start a sale of ``amount``: journaled, then its order asked for."""
    started, sale = open_sale(state, amount, now, till_ref)
    return started, ask_order(state.settings, sale)


def ask_order(s: Settings, sale: Sale) -> list[Effect]:
    """A new sale's first effects: journaled, then its order asked for."""
    return [sale_started(sale), CreateOrder(order_request(s, sale))]


def order_request(s: Settings, sale: Sale) -> OrderRequest:
    """The create request of ``sale``: always the same for the same sale (its id is the idempotency key)."""
    return OrderRequest(
        sale_id=sale.id,
        reference=sale.reference,
        amount=sale.amount,
        expires_in=s.sale_ttl,
        description=f"{s.merchant_name} {sale.reference}",
        opened_at=sale.started_at,
    )


def sale_tick(state: TerminalState, now: Now) -> Step:
    """The sale's timers: no answer to create in time (failed), the QR ran out (expired), the result shown long
    enough (back to idle)."""
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
        return end(state, sale, SaleStatus.FAILED, "no answer from the backend", now, failure=failure)
    if sale.status is SaleStatus.AWAITING_PAYMENT and due:
        return end(state, sale, SaleStatus.EXPIRED, "QR expired on the terminal's timer", now)
    if sale.status.is_final and state.result_until is not None and now.mono >= state.result_until:
        return leave_sale(state), []
    return state, []


def ended(sale: Sale, status: SaleStatus, *, failure: Failure | None = None, order_open: bool | None = None) -> Sale:
    """``sale`` ended with ``status`` (its order still open unless ``order_open`` says otherwise)."""
    return replace(
        sale,
        status=status,
        failure=failure,
        deadline=None,
        order_open=sale.order_open if order_open is None else order_open,
    )


def end(
    state: TerminalState,
    sale: Sale,
    status: SaleStatus,
    cause: str,
    now: Now,
    *,
    failure: Failure | None = None,
    order_open: bool | None = None,
) -> Step:
    """End ``sale`` with ``status``: see :func:`finish`."""
    return finish(state, sale, ended(sale, status, failure=failure, order_open=order_open), cause, now)


def finish(state: TerminalState, sale: Sale, done: Sale, cause: str, now: Now) -> Step:
    """``sale`` became ``done`` (see :func:`ended`): journaled first, its order cancelled while it may still be
    paid, the result shown for a while (and spoken, for a failure) when it is the sale on screen."""
    effects: list[Effect] = [JournalSale(done, sale.status, cause)]
    if sale.status is SaleStatus.AWAITING_PAYMENT and done.order_open and sale.order is not None:
        effects.append(CancelOrder(sale.id, sale.order.id))
    new = place(state, done)
    if new.sale is not None and new.sale.id == sale.id:
        new = replace(new, result_until=now.mono + state.settings.result_seconds)
        new, spoken = announcements.say_ended(new, done)
        effects += spoken
    return new, effects


def find(state: TerminalState, sale_id: str) -> Sale | None:
    """The sale ``sale_id``: on screen or followed in the background (None: neither)."""
    if state.sale is not None and state.sale.id == sale_id:
        return state.sale
    return next((s for s in state.background if s.id == sale_id), None)


def place(state: TerminalState, sale: Sale) -> TerminalState:
    """``sale``'s new self where it is: on screen, or in the background (dropped once its order is settled)."""
    if state.sale is not None and state.sale.id == sale.id:
        return replace(state, sale=sale)
    keep = sale.order_open and sale.status is not SaleStatus.PAID
    background = tuple((sale if s.id == sale.id else s) for s in state.background if keep or s.id != sale.id)
    return replace(state, background=background)


def leave_sale(state: TerminalState) -> TerminalState:
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

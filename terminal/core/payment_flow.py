"""Money arrived: the backend's payments matched with the sale's amount (see :mod:`terminal.core.matching`).

Only money that arrived exactly as asked is green, beeps and is spoken; overpaid, paid twice, underpaid and a
mismatch are shown for what they are. A payment reported after our own expiry or cancel still wins, and a sale
money arrived for is followed until its QR expires: the same QR paid again is seen."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import announcements
from terminal.core.clock import Now
from terminal.core.effects import Effect, JournalSale, JournalSecurity, PrintReceipt
from terminal.core.i18n import Text
from terminal.core.matching import Match, Verdict, distinct, match
from terminal.core.money import Amount
from terminal.core.orders import OrderStatus, OrderUpdate
from terminal.core.sale import Sale, SaleStatus
from terminal.core.sale_flow import Step, leave_sale
from terminal.core.state import Phase, TerminalState

#: Sale statuses that mean money arrived (as asked or not): a later report can only add payments to them.
RECEIVED = (SaleStatus.PAID, SaleStatus.UNDERPAID, SaleStatus.MISMATCH)
#: Order statuses that carry the order's payments.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)
#: How many received sales are followed for another payment at most (the newest; each until its QR expires).
FOLLOW_LIMIT = 20


def received(state: TerminalState, sale: Sale, update: OrderUpdate, now: Now, contradicts: str = "") -> Step:
    """Money arrived for ``sale`` (``contradicts``: why it is a mismatch whatever the amounts say)."""
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
    status = status_of(found)
    got = replace(got, status=status)
    late = sale.status not in (SaleStatus.AWAITING_PAYMENT, *RECEIVED)
    cause = received_cause(found, sale.status, late=late, again=again)
    effects: list[Effect] = [JournalSale(got, sale.status, cause, again=again and status is sale.status)]
    if found.verdict is Verdict.MISMATCH:
        effects.append(JournalSecurity(sale.id, f"payment mismatch: {found.reason}", _payments_text(update)))
    first_paid = found.verdict.is_paid and sale.status is not SaleStatus.PAID
    if first_paid and state.settings.printer and state.settings.auto_print == "always":
        effects.append(PrintReceipt(got))
    keep_paid = got if status is SaleStatus.PAID else state.last_paid
    state = replace(state, last_paid=keep_paid, followed=follow(state.followed, got, now))
    if found.verdict is Verdict.PAID and first_paid:
        state, spoken = announcements.say_received(state, got)
        effects += spoken
    return _shown(state, sale, got, found, now, again=again), effects


def _shown(state: TerminalState, sale: Sale, got: Sale, found: Match, now: Now, *, again: bool) -> TerminalState:
    """Where the news of ``got`` goes: the sale on screen; a notice while the counter is busy (or for another
    payment); else the ended sale back on screen."""
    until = now.mono + state.settings.result_seconds
    if state.sale is not None and state.sale.id == sale.id:
        return replace(state, sale=got, result_until=until)
    rest = tuple(s for s in state.background if s.id != sale.id)
    current_busy = state.phase is Phase.ENTERING or (
        state.phase is Phase.SALE and state.sale is not None and not state.sale.status.is_final
    )
    if current_busy or again:
        return replace(state, background=rest, notice=_received_notice(got, found))
    base = leave_sale(replace(state, background=rest))
    return replace(base, phase=Phase.SALE, sale=got, result_until=until)


def news(sale: Sale, update: OrderUpdate) -> bool:
    """True when a report about a sale money already arrived for says more: another payment (each backend id
    counted once), or one the terminal cannot read."""
    if update.status not in PAID_STATUSES:
        return False
    more = len(distinct(update.payments)) > len(distinct(sale.payments))
    return more or (update.unreadable_payment is not None and sale.unreadable_payment is None)


def follow(followed: tuple[Sale, ...], sale: Sale, now: Now) -> tuple[Sale, ...]:
    """``followed`` with ``sale`` in it (replacing its older self), without those whose QR has expired."""
    keep = tuple(s for s in followed if s.id != sale.id and s.order is not None and s.order.expires_at > now.wall)
    if sale.order is not None and sale.order.expires_at > now.wall:
        keep = (*keep, sale)
    return keep[-FOLLOW_LIMIT:]


def status_of(found: Match) -> SaleStatus:
    """paid (also overpaid and paid twice: the sale's amount is there), underpaid or mismatch."""
    if found.verdict.is_paid:
        return SaleStatus.PAID
    return SaleStatus.UNDERPAID if found.verdict is Verdict.UNDERPAID else SaleStatus.MISMATCH


def received_cause(found: Match, was: SaleStatus, *, late: bool, again: bool) -> str:
    """The journal's cause for money that arrived: the verdict, and whether it came late or again."""
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

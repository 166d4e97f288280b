"""What the screen shows while the manager's menu is open (plain data, like every screen)."""

from __future__ import annotations

from terminal.core.events import SaleRecord
from terminal.core.matching import Verdict
from terminal.core.menu import PAGE, Menu, View, all_refunds
from terminal.core.refund import Refund, RefundStatus, counted, extra_left, remaining
from terminal.core.sale import SaleStatus
from terminal.core.state import TerminalState

#: How a sale's status reads in the list.
STATUS_WORDS = {
    SaleStatus.PAID: "paid",
    SaleStatus.UNDERPAID: "underpaid",
    SaleStatus.MISMATCH: "mismatch",
    SaleStatus.UNCONFIRMED: "not confirmed",
    SaleStatus.FAILED: "failed",
    SaleStatus.EXPIRED: "expired",
    SaleStatus.CANCELLED: "cancelled",
    SaleStatus.CREATING: "starting",
    SaleStatus.AWAITING_PAYMENT: "waiting",
}
REFUND_WORDS = {
    RefundStatus.REQUESTED: "Sending the refund…",
    RefundStatus.PENDING: "Refund accepted: waiting for the bank…",
    RefundStatus.SUCCEEDED: "Refund done",
    RefundStatus.FAILED: "Refund failed",
}


def menu_screen(state: TerminalState, menu: Menu) -> tuple[str, str, dict[str, object]]:
    """(screen name, title, ScreenModel fields) of the open menu."""
    name = f"menu-{menu.view}"
    message: tuple[str, ...] = (menu.message,) if menu.message else ()
    if menu.view is View.PIN:
        lines: tuple[str, ...] = ("Checking…",) if menu.checking else message
        tone = "bad" if menu.message else "neutral"
        return name, "Manager PIN", {"amount": "•" * len(menu.pin) or "—", "lines": lines, "tone": tone,
                                     "hint": "Enter: unlock   Cancel: leave"}  # fmt: skip
    if menu.view is View.MAIN:
        main: tuple[str, ...] = ("1  Recent sales (reprint, refund)", "2  X report (today so far)",
                                 "3  Z report (close the day)")  # fmt: skip
        last = "3"
        if state.settings.voice_language is not None:
            main += (f"4  Voice: {_voice_state(state)}",)
            last = "4"
        return name, "Manager menu", {"lines": main + message, "hint": f"1–{last}: choose   Cancel: leave"}
    if menu.view is View.VOICE:
        lines = ("1  on / off", "2  quieter", "3  louder", "0  say a test amount")
        return name, f"Voice: {_voice_state(state)}", {"lines": lines, "hint": "Enter or Cancel: back"}
    if menu.view is View.RECENT:
        return name, "Recent sales", _recent(menu)
    if menu.view is View.DETAIL:
        assert menu.chosen is not None
        return name, f"Sale {menu.chosen.sale.reference}", _detail(state, menu.chosen, message)
    if menu.view is View.REFUND_AMOUNT:
        assert menu.chosen is not None and menu.entry is not None
        left = remaining(menu.chosen.sale, all_refunds(state, menu.chosen))
        entry = menu.entry
        typed: tuple[str, ...] = (f"Sale {menu.chosen.sale.reference}: up to {left.format()} can be refunded",)
        typed += (entry.message,) if entry.message else ()
        amount = entry.display() if entry.text else left.format()
        return name, "Refund amount", {"amount": amount, "lines": typed, "tone": "bad" if entry.message else "neutral",
                                       "hint": "Enter: next (nothing typed: all)   Cancel: back"}  # fmt: skip
    if menu.view is View.REFUND_CONFIRM:
        assert menu.chosen is not None and menu.amount is not None
        back = (f"back to the customer of sale {menu.chosen.sale.reference}",)
        return name, "Refund this amount?", {"amount": menu.amount.format(), "lines": back, "tone": "warn",
                                             "hint": "Enter: refund   Cancel: back"}  # fmt: skip
    if menu.view is View.REFUND_STATUS:
        return name, "Refund", _refund_status(state, menu)
    if menu.view is View.Z_CONFIRM:
        closing = ("The Z report closes the period: the next X report starts from zero.",)
        return (
            name,
            "Close the day?",
            {"lines": closing, "tone": "warn", "hint": "Enter: close and print   Cancel: back"},
        )
    title = "Z report" if menu.report_kind == "z" else "X report"
    report = menu.report[3:] if menu.report is not None else ("Counting…",)  # the title and period are above
    printer = "Enter: print   " if state.settings.printer else ""
    return name, title, {"lines": tuple(report) + message, "hint": f"{printer}Cancel: back"}


def _voice_state(state: TerminalState) -> str:
    return f"on, volume {state.volume}" if state.voice_on else "off"


def _recent(menu: Menu) -> dict[str, object]:
    if menu.recent is None:
        return {"lines": ("Reading the journal…",), "hint": "Cancel: back"}
    if not menu.recent:
        return {"lines": ("No sales yet",), "hint": "Cancel: back"}
    start = menu.page * PAGE
    shown = menu.recent[start : start + PAGE]
    lines = tuple(f"{i}  {_row(r)}" for i, r in enumerate(shown, 1))
    pages = -(-len(menu.recent) // PAGE)
    more = f"   Enter: more ({menu.page + 1}/{pages})" if pages > 1 else ""
    return {
        "lines": lines + ((menu.message,) if menu.message else ()),
        "hint": f"1–{len(shown)}: open{more}   Cancel: back",
    }


def _row(record: SaleRecord) -> str:
    sale = record.sale
    amount = (sale.payment.amount if sale.payment else sale.amount).format()
    refunded = counted(record.refunds)
    status = STATUS_WORDS.get(sale.status, str(sale.status))
    if refunded:
        status += ", refunded" if remaining(sale, record.refunds).minor == 0 else ", part refunded"
    return f"{record.when}  {amount}  {status}  {sale.reference}"


def _detail(state: TerminalState, record: SaleRecord, message: tuple[str, ...]) -> dict[str, object]:
    sale = record.sale
    lines = [record.when, f"Status: {STATUS_WORDS.get(sale.status, str(sale.status))}"]
    if sale.payment is not None:
        if sale.payment.provider_ref:
            lines.append(f"Payment ref {sale.payment.provider_ref}")
        if sale.payment.payer:
            lines.append(f"From {sale.payment.payer}")
    if sale.failure is not None:
        lines.append(sale.failure.message)
    refunds = all_refunds(state, record)
    found = sale.matched
    if found is not None and found.extra is not None:
        twice = "Paid twice" if found.verdict is Verdict.PAID_TWICE else "Overpaid"
        lines.append(f"{twice}: {found.extra.format()} more than the sale")
    elif found is not None and found.verdict is Verdict.UNDERPAID:
        lines.append(f"Underpaid: {sale.received.format()} of {sale.amount.format()}")
    elif found is not None and found.reason:
        lines.append(f"Mismatch: {found.reason}")
    for refund in refunds:
        lines.append(f"Refund {refund.slip_reference}: {refund.amount.format()} {refund.status}")
    hints = []
    if sale.status is SaleStatus.PAID and state.settings.printer:
        hints.append("1: reprint")
    if sale.status in (SaleStatus.PAID, SaleStatus.UNDERPAID):
        if remaining(sale, refunds).minor > 0 and sale.order is not None and not sale.local:
            hints.append("2: refund")
        if (extra := extra_left(sale, refunds)) is not None:
            hints.append(f"3: refund the extra {extra.format()}")
    hints.append("Cancel: back")
    amount = sale.received.format()
    tone = "bad" if message else "good" if sale.status is SaleStatus.PAID else "neutral"
    return {"amount": amount, "lines": tuple(lines) + message, "hint": "   ".join(hints), "tone": tone}


def _refund_status(state: TerminalState, menu: Menu) -> dict[str, object]:
    refund = _find_refund(state, menu.refund_id)
    if refund is None:
        return {"lines": ("Refund requested",), "hint": "Enter: back"}
    lines = [REFUND_WORDS[refund.status], f"Refund {refund.slip_reference}"]
    if refund.message:
        lines.append(refund.message)
    if refund.status is RefundStatus.SUCCEEDED and state.settings.printer:
        lines.append("The refund slip is printing")
    tone = {RefundStatus.SUCCEEDED: "good", RefundStatus.FAILED: "bad"}.get(refund.status, "neutral")
    return {"amount": refund.amount.format(), "lines": tuple(lines), "tone": tone, "hint": "Enter: back"}


def _find_refund(state: TerminalState, refund_id: str | None) -> Refund | None:
    found = next((r for r in state.refunds_open if r.id == refund_id), None)
    if found is None and state.last_refund is not None and state.last_refund.id == refund_id:
        found = state.last_refund
    return found

"""What the screen shows while the manager's menu is open (plain data, like every screen)."""

from __future__ import annotations

from terminal.core.events import SaleRecord
from terminal.core.i18n import N_, PLAIN, Words
from terminal.core.matching import Verdict
from terminal.core.menu import PAGE, Menu, View, all_refunds
from terminal.core.refund import Refund, RefundStatus, counted, extra_left, remaining
from terminal.core.sale import SaleStatus
from terminal.core.state import TerminalState

#: How a sale's status reads in the list.
STATUS_WORDS = {
    SaleStatus.PAID: N_("paid"),
    SaleStatus.UNDERPAID: N_("underpaid"),
    SaleStatus.MISMATCH: N_("mismatch"),
    SaleStatus.UNCONFIRMED: N_("not confirmed"),
    SaleStatus.FAILED: N_("failed"),
    SaleStatus.EXPIRED: N_("expired"),
    SaleStatus.CANCELLED: N_("cancelled"),
    SaleStatus.CREATING: N_("starting"),
    SaleStatus.AWAITING_PAYMENT: N_("waiting"),
}
REFUND_WORDS = {
    RefundStatus.REQUESTED: N_("Sending the refund…"),
    RefundStatus.PENDING: N_("Refund accepted: waiting for the bank…"),
    RefundStatus.SUCCEEDED: N_("Refund done"),
    RefundStatus.FAILED: N_("Refund failed"),
}
#: How a refund's status reads after its amount in a sale's details.
REFUND_STATUS_WORDS = {
    RefundStatus.REQUESTED: N_("requested"),
    RefundStatus.PENDING: N_("pending"),
    RefundStatus.SUCCEEDED: N_("succeeded"),
    RefundStatus.FAILED: N_("failed"),
}


def menu_screen(state: TerminalState, menu: Menu, words: Words = PLAIN) -> tuple[str, str, dict[str, object]]:
    """(screen name, title, ScreenModel fields) of the open menu, in ``words``' language."""
    _ = words
    name = f"menu-{menu.view}"
    message: tuple[str, ...] = (words.show(menu.message),) if menu.message else ()
    if menu.view is View.PIN:
        lines: tuple[str, ...] = (_("Checking…"),) if menu.checking else message
        tone = "bad" if menu.message else "neutral"
        return (
            name,
            _("Manager PIN"),
            {
                "amount": "•" * len(menu.pin) or "—",
                "lines": lines,
                "tone": tone,
                "hint": _("Enter: unlock   Cancel: leave"),
            },
        )
    if menu.view is View.MAIN:
        main: tuple[str, ...] = (
            "1  " + _("Recent sales (reprint, refund)"),
            "2  " + _("X report (today so far)"),
            "3  " + _("Z report (close the day)"),
        )
        last = "3"
        if state.settings.voice_language is not None:
            main += ("4  " + _("Voice: {state}", state=_voice_state(state, words)),)
            last = "4"
        return (
            name,
            _("Manager menu"),
            {"lines": main + message, "hint": _("1–{last}: choose   Cancel: leave", last=last)},
        )
    if menu.view is View.VOICE:
        lines = ("1  " + _("on / off"), "2  " + _("quieter"), "3  " + _("louder"), "0  " + _("say a test amount"))
        title = _("Voice: {state}", state=_voice_state(state, words))
        return name, title, {"lines": lines, "hint": _("Enter or Cancel: back")}
    about_a_sale = menu.view in (View.DETAIL, View.REFUND_AMOUNT, View.REFUND_CONFIRM)
    if menu.view is View.RECENT or (about_a_sale and menu.chosen is None):  # no sale chosen: the list
        return name, _("Recent sales"), _recent(menu, words)
    if menu.view is View.DETAIL and menu.chosen is not None:
        return (
            name,
            _("Sale {reference}", reference=menu.chosen.sale.reference),
            _detail(state, menu.chosen, message, words),
        )
    if menu.view is View.REFUND_AMOUNT and menu.chosen is not None and menu.entry is not None:
        left = remaining(menu.chosen.sale, all_refunds(state, menu.chosen))
        entry = menu.entry
        typed: tuple[str, ...] = (
            _(
                "Sale {reference}: up to {amount} can be refunded",
                reference=menu.chosen.sale.reference,
                amount=words.money(left),
            ),
        )
        typed += (words.show(entry.message),) if entry.message else ()
        amount = words.typed(entry.text, entry.currency) if entry.text else words.money(left)
        return (
            name,
            _("Refund amount"),
            {
                "amount": amount,
                "lines": typed,
                "tone": "bad" if entry.message else "neutral",
                "hint": _("Enter: next (nothing typed: all)   Cancel: back"),
            },
        )
    if menu.view is View.REFUND_CONFIRM and menu.chosen is not None and menu.amount is not None:
        back = (_("back to the customer of sale {reference}", reference=menu.chosen.sale.reference),)
        return (
            name,
            _("Refund this amount?"),
            {
                "amount": words.money(menu.amount),
                "lines": back,
                "tone": "warn",
                "hint": _("Enter: refund   Cancel: back"),
            },
        )
    if menu.view is View.REFUND_STATUS:
        return name, _("Refund"), _refund_status(state, menu, words)
    if menu.view is View.Z_CONFIRM:
        closing = (_("The Z report closes the period: the next X report starts from zero."),)
        return (
            name,
            _("Close the day?"),
            {"lines": closing, "tone": "warn", "hint": _("Enter: close and print   Cancel: back")},
        )
    title = _("Z report") if menu.report_kind == "z" else _("X report")
    report = menu.report[3:] if menu.report is not None else (_("Counting…"),)  # the title and period are above
    printer = _("Enter: print") + "   " if state.settings.printer else ""
    return name, title, {"lines": tuple(report) + message, "hint": printer + _("Cancel: back")}


def _voice_state(state: TerminalState, words: Words) -> str:
    _ = words
    return _("on, volume {volume}", volume=state.volume) if state.voice_on else _("off")


def _recent(menu: Menu, words: Words) -> dict[str, object]:
    _ = words
    if menu.recent is None:
        return {"lines": (_("Reading the journal…"),), "hint": _("Cancel: back")}
    if not menu.recent:
        return {"lines": (_("No sales yet"),), "hint": _("Cancel: back")}
    start = menu.page * PAGE
    shown = menu.recent[start : start + PAGE]
    lines = tuple(f"{i}  {_row(r, words)}" for i, r in enumerate(shown, 1))
    pages = -(-len(menu.recent) // PAGE)
    more = "   " + _("Enter: more ({page}/{pages})", page=menu.page + 1, pages=pages) if pages > 1 else ""
    return {
        "lines": lines + ((words.show(menu.message),) if menu.message else ()),
        "hint": _("1–{last}: open", last=len(shown)) + more + "   " + _("Cancel: back"),
    }


def _row(record: SaleRecord, words: Words) -> str:
    _ = words
    sale = record.sale
    amount = words.money(sale.payment.amount if sale.payment else sale.amount)
    refunded = counted(record.refunds)
    status = _(STATUS_WORDS.get(sale.status, str(sale.status)))
    if refunded:
        status += ", " + (_("refunded") if remaining(sale, record.refunds).minor == 0 else _("part refunded"))
    return f"{record.when}  {amount}  {status}  {sale.reference}"


def _detail(state: TerminalState, record: SaleRecord, message: tuple[str, ...], words: Words) -> dict[str, object]:
    _ = words
    sale = record.sale
    lines = [record.when, _("Status: {status}", status=_(STATUS_WORDS.get(sale.status, str(sale.status))))]
    if sale.payment is not None:
        if sale.payment.provider_ref:
            lines.append(_("Payment ref {reference}", reference=sale.payment.provider_ref))
        if sale.payment.payer:
            lines.append(_("From {payer}", payer=sale.payment.payer))
    if sale.failure is not None:
        lines.append(words.show(sale.failure.message))
    refunds = all_refunds(state, record)
    found = sale.matched
    if found is not None and found.extra is not None:
        more = words.money(found.extra)
        twice = found.verdict is Verdict.PAID_TWICE
        lines.append(
            _("Paid twice: {extra} more than the sale", extra=more)
            if twice
            else _("Overpaid: {extra} more than the sale", extra=more)
        )
    elif found is not None and found.verdict is Verdict.UNDERPAID:
        lines.append(_("Underpaid: {got} of {amount}", got=words.money(sale.received), amount=words.money(sale.amount)))
    elif found is not None and found.reason:
        lines.append(_("Mismatch: {reason}", reason=found.reason))
    for refund in refunds:
        status = _(REFUND_STATUS_WORDS.get(refund.status, str(refund.status)))
        lines.append(
            _(
                "Refund {slip}: {amount} {status}",
                slip=refund.slip_reference,
                amount=words.money(refund.amount),
                status=status,
            )
        )
    hints = []
    if sale.status is SaleStatus.PAID and state.settings.printer:
        hints.append(_("1: reprint"))
    if sale.status in (SaleStatus.PAID, SaleStatus.UNDERPAID):
        if remaining(sale, refunds).minor > 0 and sale.order is not None and not sale.local:
            hints.append(_("2: refund"))
        if (extra := extra_left(sale, refunds)) is not None:
            hints.append(_("3: refund the extra {amount}", amount=words.money(extra)))
    hints.append(_("Cancel: back"))
    amount = words.money(sale.received)
    tone = "bad" if message else "good" if sale.status is SaleStatus.PAID else "neutral"
    return {"amount": amount, "lines": tuple(lines) + message, "hint": "   ".join(hints), "tone": tone}


def _refund_status(state: TerminalState, menu: Menu, words: Words) -> dict[str, object]:
    _ = words
    refund = _find_refund(state, menu.refund_id)
    if refund is None:
        return {"lines": (_("Refund requested"),), "hint": _("Enter: back")}
    lines = [_(REFUND_WORDS[refund.status]), _("Refund {slip}", slip=refund.slip_reference)]
    if refund.message:
        lines.append(refund.message)
    if refund.status is RefundStatus.SUCCEEDED and state.settings.printer:
        lines.append(_("The refund slip is printing"))
    tone = {RefundStatus.SUCCEEDED: "good", RefundStatus.FAILED: "bad"}.get(refund.status, "neutral")
    return {"amount": words.money(refund.amount), "lines": tuple(lines), "tone": tone, "hint": _("Enter: back")}


def _find_refund(state: TerminalState, refund_id: str | None) -> Refund | None:
    found = next((r for r in state.refunds_open if r.id == refund_id), None)
    if found is None and state.last_refund is not None and state.last_refund.id == refund_id:
        found = state.last_refund
    return found

"""What the screen shows, as plain data. The display adapter draws it; tests read it."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from terminal.core.clock import Now
from terminal.core.i18n import PLAIN, Words
from terminal.core.machine import Phase, TerminalState, paid_amount
from terminal.core.matching import Verdict
from terminal.core.menu_screen import menu_screen
from terminal.core.sale import FailureKind, Sale, SaleStatus


class Tone(StrEnum):
    """The colour of the screen's message: neutral, good (paid), bad (failed/error), warn (expired), attention
    (amber: the money needs the shopkeeper — underpaid, paid twice, a mismatch)."""

    NEUTRAL = "neutral"
    GOOD = "good"
    BAD = "bad"
    WARN = "warn"
    ATTENTION = "attention"


class Icon(StrEnum):
    """The large sign of a result screen, so the result reads without colour (and without reading the word)."""

    NONE = ""
    PAID = "check"  # ✓
    FAILED = "cross"  # ✗
    EXPIRED = "clock"
    CANCELLED = "cancelled"  # ⊘
    ATTENTION = "attention"  # ! — underpaid, paid twice, mismatch, not confirmed
    NO_QR = "no-qr"  # a QR crossed out: no QR could be made (not a decline)


@dataclass(frozen=True, slots=True)
class ScreenModel:
    """One screen. ``name`` is one of idle, entry, qr, paid, overpaid, underpaid, mismatch, failed, expired,
    cancelled, error, unconfirmed.

    A result screen carries an ``icon``: it fills the screen with its colour (by name, else by ``tone``) and
    shows the icon and the title as large as the amount. A new outcome asks for amber with
    ``tone=Tone.ATTENTION, icon=Icon.ATTENTION``."""

    name: str
    title: str
    merchant: str
    tone: Tone = Tone.NEUTRAL
    amount: str = ""
    lines: tuple[str, ...] = ()
    qr: str | None = None
    countdown: str = ""
    hint: str = ""
    notice: str = ""
    sandbox: bool = False
    warning: str = ""
    offline: str = ""
    icon: Icon = Icon.NONE
    #: Who is paid ("to Chai Point", also among ``lines``): the one line small screens keep beside the QR.
    payee: str = ""


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every screen carries: the merchant's name, a notice line and the SANDBOX mark."""

    merchant: str
    notice: str
    sandbox: bool
    warning: str = ""
    offline: str = ""

    def make(self, name: str, title: str, **fields: Any) -> ScreenModel:
        return ScreenModel(
            name,
            title,
            self.merchant,
            notice=self.notice,
            sandbox=self.sandbox,
            warning=self.warning,
            offline=self.offline,
            **fields,
        )


def screen_for(state: TerminalState, now: Now, *, sandbox: bool = False, words: Words = PLAIN) -> ScreenModel:
    """The screen for ``state`` at ``now`` (the countdown is the only part that moves with time), in ``words``'
    language and number format."""
    _ = words
    s = state.settings
    if state.sale is not None and state.sale.order is not None and state.sale.order.sandbox:
        sandbox = True
    problems = [_("Printer: {problem}", problem=state.printer_problem)] if state.printer_problem else []
    if state.till_problem:
        problems.append(state.till_problem[:1].upper() + state.till_problem[1:])
    warning = " · ".join(problems)
    offline = _("OFFLINE — {advice}", advice=words.show(state.offline.advice)) if state.offline is not None else ""
    base = _Frame(s.merchant_name, words.show(state.notice), sandbox, warning, offline)
    if state.phase is Phase.MENU and state.menu is not None:
        name, title, fields = menu_screen(state, state.menu, words)
        fields["tone"] = Tone(str(fields.get("tone", "neutral")))
        return base.make(name, title, **fields)
    if state.phase is Phase.IDLE:
        return base.make("idle", _("Ready"), lines=(_("Type the amount on the keypad"),))
    if state.phase is Phase.ENTERING or state.sale is None:
        entry = state.entry
        return base.make(
            "entry",
            _("Amount"),
            amount=words.typed(entry.text, entry.currency),
            lines=(words.show(entry.message),) if entry.message else (),
            tone=Tone.BAD if entry.message else Tone.NEUTRAL,
            hint=_("Enter: show QR   Cancel: clear"),
        )
    return _sale_screen(state, state.sale, now, base, words)


def _sale_screen(state: TerminalState, sale: Sale, now: Now, base: _Frame, words: Words) -> ScreenModel:
    _ = words
    amount = words.money(sale.amount)
    ref = _("Ref {reference}", reference=sale.reference)
    if sale.status is SaleStatus.CREATING:
        return base.make("entry", _("Preparing QR…"), amount=amount, hint=_("Cancel: stop"))
    if sale.status is SaleStatus.AWAITING_PAYMENT and sale.order is not None:  # a QR only once there is one
        # To the millisecond before rounding up: deadline − now in floats can be a trace over the whole second
        # (1000.003 + 300 − 1000.003 = 300.00000000000006), and a QR shown at once would say 5:01.
        left = max(0, math.ceil(round((sale.deadline or now.mono) - now.mono, 3)))
        payee = _("to {payee}", payee=state.settings.payee.name)
        if sale.local:
            base = replace(base, offline=_("OFFLINE — not confirmed: check your bank app before pressing Enter"))
        return base.make(
            "qr",
            _("Scan to pay"),
            amount=amount,
            qr=sale.order.qr.payload,
            lines=(payee, sale.order.payee.id, ref),
            payee=payee,
            countdown=f"{left // 60}:{left % 60:02d}",
            hint=_("Enter: received   Cancel: stop") if sale.local else _("Cancel: stop"),
        )
    if sale.status is SaleStatus.UNCONFIRMED:
        note = (_("Marked received by you; the bank has not confirmed it yet"), ref)
        return base.make(
            "unconfirmed", _("Recorded — not confirmed"), tone=Tone.WARN, amount=amount, lines=note, icon=Icon.ATTENTION
        )
    if sale.status in (SaleStatus.PAID, SaleStatus.UNDERPAID, SaleStatus.MISMATCH):
        return _received_screen(state, sale, base, words)
    if sale.status is SaleStatus.EXPIRED:
        lines = [_("No payment received"), ref]
        return base.make(
            "expired", _("QR expired"), tone=Tone.WARN, amount=amount, lines=tuple(lines), icon=Icon.EXPIRED
        )
    if sale.status is SaleStatus.CANCELLED:
        return base.make("cancelled", _("Sale cancelled"), amount=amount, lines=(ref,), icon=Icon.CANCELLED)
    failure = sale.failure
    message = words.show(failure.message) if failure is not None else _("The sale did not complete.")
    if failure is not None and failure.kind is FailureKind.DECLINED:
        return base.make(
            "failed", _("Payment failed"), tone=Tone.BAD, amount=amount, lines=(message, ref), icon=Icon.FAILED
        )
    title = _("QR refused") if failure is not None and failure.kind is FailureKind.QR_REFUSED else _("No QR")
    return base.make(
        "error", title, tone=Tone.BAD, amount=amount, lines=(message, ref), hint=_("Enter: continue"), icon=Icon.NO_QR
    )


def _received_screen(state: TerminalState, sale: Sale, base: _Frame, words: Words) -> ScreenModel:
    """Money arrived: green "Paid" only when exactly the amount asked arrived; amber when more (refund the extra)
    or less (ask for the rest); red when it cannot be the sale's money (another currency, an absurd amount)."""
    _ = words
    amount = words.money(sale.amount)
    ref = _("Ref {reference}", reference=sale.reference)
    found = sale.matched
    got = paid_amount(sale)
    payment_ref = (
        (_("Payment ref {reference}", reference=sale.payment.provider_ref),)
        if sale.payment and sale.payment.provider_ref
        else ()
    )
    if sale.status is SaleStatus.UNDERPAID:
        lines = (
            _("Received {got} of {amount} — ask for the rest or refund", got=words.money(got), amount=amount),
            ref,
            *payment_ref,
        )
        return base.make(
            "underpaid",
            _("Underpaid"),
            tone=Tone.ATTENTION,
            amount=words.money(got),
            lines=lines,
            hint=_("Enter: continue   Menu: refund"),
            icon=Icon.ATTENTION,
        )
    if sale.status is SaleStatus.MISMATCH:
        reason = words.show(found.reason) if found is not None else _("the payment does not match the sale")
        lines = (_("Not this sale's money: {reason}", reason=reason), _("Check the payment with your provider"), ref)
        return base.make(
            "mismatch",
            _("Payment mismatch"),
            tone=Tone.BAD,
            amount=amount,
            lines=lines,
            hint=_("Enter: continue"),
            icon=Icon.ATTENTION,
        )
    ask = state.settings.printer and state.settings.auto_print == "ask"
    hint = _("Enter: print receipt") if ask else ""
    if found is not None and found.extra is not None:
        twice = found.verdict is Verdict.PAID_TWICE
        lines = (
            _("Received {got} for a sale of {amount}", got=words.money(got), amount=amount),
            _("Refund the extra {extra} from the menu", extra=words.money(found.extra)),
            ref,
            *payment_ref,
        )
        title = _("Paid twice") if twice else _("Overpaid")
        return base.make(
            "overpaid", title, tone=Tone.ATTENTION, amount=amount, lines=lines, hint=hint, icon=Icon.ATTENTION
        )
    return base.make(
        "paid", _("Paid"), tone=Tone.GOOD, amount=words.money(got), lines=(ref, *payment_ref), hint=hint, icon=Icon.PAID
    )

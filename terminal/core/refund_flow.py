"""A refund moving on at the backend (its rules are in :mod:`terminal.core.refund`; asking for one is the
manager's menu or the till): journaled each time it changes; when final, its slip printed (it went through) and
the shopkeeper told."""

from __future__ import annotations

from dataclasses import replace

from terminal.core import menu
from terminal.core.effects import Effect, JournalRefund, PrintRefundSlip
from terminal.core.events import RefundUpdated
from terminal.core.i18n import Text
from terminal.core.refund import Refund, RefundStatus
from terminal.core.sale_flow import Step
from terminal.core.state import TerminalState


def refund_updated(state: TerminalState, event: RefundUpdated) -> Step:
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
    if updated.status is RefundStatus.SUCCEEDED and state.settings.printer:
        effects.append(PrintRefundSlip(updated))
    watching = state.menu is not None and state.menu.refund_id == updated.id
    state = menu.refund_changed(state, updated)
    return (state if watching else replace(state, notice=_final_notice(updated))), effects


def _final_notice(refund: Refund) -> Text:
    """What the shopkeeper is told of a refund that became final (unless the menu is showing it)."""
    if refund.status is RefundStatus.SUCCEEDED:
        return Text("Refund {slip} of {amount} went through", slip=refund.slip_reference, amount=refund.amount)
    why = refund.message or Text("refused by the backend")
    return Text("Refund {slip} failed: {why}", slip=refund.slip_reference, why=why)

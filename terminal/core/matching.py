"""Payment matching: what arrived for an order, compared with what the sale asked for.

A sale is *paid* only when the money that arrived, summed over every payment the provider captured (contract
v1.1 ``payments``), equals the sale's amount in the sale's currency. Everything else has its own verdict, so the
terminal never shows the green "Paid" (or beeps, or speaks) for money that did not arrive as asked:

- ``underpaid``: less arrived (ask for the rest, or refund);
- ``overpaid``: one payment of more than was asked (the sale is paid; the extra is to be refunded);
- ``paid_twice``: two or more payments that together exceed the amount (paid once; the extra is to be refunded);
- ``mismatch``: a payment in another currency, of zero or less, or of an amount no journal can hold (beyond
  ±10^15 minor units: a corrupt or hostile reply, but the money may have arrived, so the shopkeeper must see it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from terminal.core.i18n import Text
from terminal.core.money import Amount
from terminal.core.orders import Payment

#: The largest payment, in minor units, the terminal takes as real (SQLite integers hold ±9.2·10^18).
LIMIT = 10**15


class Verdict(StrEnum):
    """How the money that arrived compares with the sale's amount."""

    PAID = "paid"
    OVERPAID = "overpaid"
    PAID_TWICE = "paid_twice"
    UNDERPAID = "underpaid"
    MISMATCH = "mismatch"

    @property
    def is_paid(self) -> bool:
        """True when at least the sale's amount arrived in its currency (paid, overpaid, paid twice)."""
        return self in (Verdict.PAID, Verdict.OVERPAID, Verdict.PAID_TWICE)


@dataclass(frozen=True, slots=True)
class Match:
    """The verdict, what arrived (summed in the sale's currency, or the offending payment for a mismatch),
    what arrived beyond the asked amount (overpaid, paid twice), and for a mismatch the reason in words."""

    verdict: Verdict
    received: Amount | None
    extra: Amount | None = None
    reason: str = ""

    @property
    def countable(self) -> Amount | None:
        """What a journal and a report add up: ``received`` in the sale's currency and in range, else None."""
        got = self.received
        return got if got is not None and abs(got.minor) <= LIMIT and self.verdict is not Verdict.MISMATCH else None


def distinct(payments: Sequence[Payment]) -> tuple[Payment, ...]:
    """The payments with each backend id once: the same capture listed twice (a paging bug, a retried webhook)
    is one payment, never "paid twice". Payments without an id are all kept."""
    seen: set[str] = set()
    kept = []
    for payment in payments:
        if payment.id is not None:
            if payment.id in seen:
                continue
            seen.add(payment.id)
        kept.append(payment)
    return tuple(kept)


def _contradiction(payments: Sequence[Payment]) -> Text | None:
    """Why the list cannot be read one way: one id listed with two different amounts."""
    first: dict[str, Amount] = {}
    for payment in payments:
        if payment.id is not None and first.setdefault(payment.id, payment.amount) != payment.amount:
            return Text("payment {payment} is reported twice with different amounts", payment=payment.id)
    return None


def match(asked: Amount, payments: Sequence[Payment], unreadable: str | None = None) -> Match:
    """Compare the payments an order received with the sale's amount. ``unreadable`` is the backend's claim of
    a payment the terminal could not read (a negative value, an unknown currency): a mismatch, never ignored."""
    if unreadable is not None:
        unread = Text("the backend reports a payment this terminal cannot read: {payment}", payment=unreadable)
        return Match(Verdict.MISMATCH, None, reason=unread)
    if (why := _contradiction(payments)) is not None:
        return Match(Verdict.MISMATCH, None, reason=why)
    payments = distinct(payments)
    if not payments:
        return Match(Verdict.MISMATCH, None, reason=Text("the backend says paid but names no payment"))
    for payment in payments:
        got = payment.amount
        if abs(got.minor) > LIMIT:
            why = Text("the backend reports {minor} minor units, beyond any sale", minor=got.minor)
            return Match(Verdict.MISMATCH, got, reason=why)
        if got.currency != asked.currency:
            why = Text("paid in {currency}, the sale is in {asked}", currency=got.currency, asked=asked.currency)
            return Match(Verdict.MISMATCH, got, reason=why)
        if got.minor <= 0:
            return Match(Verdict.MISMATCH, got, reason=Text("a payment of {minor} minor units", minor=got.minor))
    total = Amount(sum(p.amount.minor for p in payments), asked.currency)
    if total.minor > LIMIT:
        reason = Text("the payments add up to {minor} minor units, beyond any sale", minor=total.minor)
        return Match(Verdict.MISMATCH, total, reason=reason)
    if total.minor == asked.minor:
        return Match(Verdict.PAID, total)
    if total.minor < asked.minor:
        return Match(Verdict.UNDERPAID, total)
    extra = Amount(total.minor - asked.minor, asked.currency)
    return Match(Verdict.PAID_TWICE if len(payments) > 1 else Verdict.OVERPAID, total, extra)

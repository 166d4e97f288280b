"""X and Z reports as plain data: per currency, how many sales ended in each status and for how much, refunds,
and what is left (net). Sales count by the time the terminal recorded their settlement (paid, or their final
status), refunds by the time they went through: a payment that arrives after midnight belongs to the next day's
report, and because a Z closes at a time of the same journal, no sale or refund ever falls between two Zs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from terminal.core.i18n import N_, Words
from terminal.core.money import Amount

STATUSES = ("paid", "underpaid", "mismatch", "unconfirmed", "failed", "expired", "cancelled", "later")
#: Statuses whose amount is money received (a mismatch is shown with the sale's amount but never counted);
#: "later" is money that arrived in this period for sales an earlier report counted (paid again, the rest).
RECEIVED = ("paid", "underpaid", "later")
#: How each status (and the extra, refunds and net rows) reads on a report for people.
ROW_WORDS = {
    "paid": N_("paid"),
    "underpaid": N_("underpaid"),
    "mismatch": N_("mismatch"),
    "unconfirmed": N_("not confirmed"),
    "failed": N_("failed"),
    "expired": N_("expired"),
    "cancelled": N_("cancelled"),
    "later": N_("paid later"),
    "extra paid": N_("extra paid"),
    "refunds": N_("refunds"),
    "net": N_("net"),
}


@dataclass(frozen=True, slots=True)
class Ended:
    """Sales as a report counts them (one sale, or ``count`` sales of one status and currency summed): their final
    status, the amount that counts (received, when money arrived), and what arrived beyond the amount asked
    (overpaid, paid twice: to be refunded) in minor units, over ``extra_count`` sales."""

    status: str
    amount: Amount
    extra: int = 0
    count: int = 1
    extra_count: int | None = None

    @property
    def extras(self) -> int:
        """How many of these sales received more than asked."""
        return self.extra_count if self.extra_count is not None else (1 if self.extra else 0)


@dataclass(frozen=True, slots=True)
class Refunded:
    """Refunds that went through, ``count`` of them summed in one amount."""

    amount: Amount
    count: int = 1


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """One currency's counts and totals per status; ``net`` is what was received less refunds."""

    currency: str
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    refunds: int = 0
    refund_count: int = 0
    #: Sales that received more than asked (overpaid, paid twice), and how much more in all.
    extra_count: int = 0
    extra: int = 0

    @property
    def net(self) -> int:
        """Received (paid, with any extra, and underpaid) less refunds, in minor units: negative on a day whose
        refunds exceed its takings."""
        return sum(self.totals.get(status, 0) for status in RECEIVED) - self.refunds

    def net_text(self, *, code: bool = True) -> str:
        """The net as ``INR 14.50`` (``-INR 2.00`` when negative), or as a decimal (``-2.00``) for CSV."""
        amount = Amount(abs(self.net), self.currency)
        sign = "-" if self.net < 0 else ""
        return sign + (amount.format_code() if code else amount.decimal())


@dataclass(frozen=True, slots=True)
class Report:
    """An X (running) or Z (closing) report for the period from ``since`` (ISO text, or "" for the beginning)."""

    kind: str
    since: str
    until: str
    currencies: tuple[CurrencyTotals, ...]
    number: int | None = None


def summarise(
    kind: str,
    since: str,
    until: str,
    ended: list[Ended],
    number: int | None = None,
    refunds: Sequence[Amount | Refunded] | None = None,
) -> Report:
    """Count ``ended`` sales per currency and status, and the ``refunds`` that went through (each an amount, or
    several summed)."""
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, dict[str, int]] = {}
    refunded: dict[str, int] = {}
    refund_counts: dict[str, int] = {}
    extras: dict[str, list[int]] = {}
    extra_counts: dict[str, int] = {}
    for sale in ended:
        currency = sale.amount.currency
        if sale.extra:
            extras.setdefault(currency, []).append(sale.extra)
            extra_counts[currency] = extra_counts.get(currency, 0) + sale.extras
        counts.setdefault(currency, {})[sale.status] = counts.get(currency, {}).get(sale.status, 0) + sale.count
        totals.setdefault(currency, {})[sale.status] = totals.get(currency, {}).get(sale.status, 0) + sale.amount.minor
    for refund in refunds or []:
        summed = refund if isinstance(refund, Refunded) else Refunded(refund)
        currency = summed.amount.currency
        refunded[currency] = refunded.get(currency, 0) + summed.amount.minor
        refund_counts[currency] = refund_counts.get(currency, 0) + summed.count
    currencies = sorted(set(counts) | set(refunded))
    made = tuple(
        CurrencyTotals(
            c,
            counts.get(c, {}),
            totals.get(c, {}),
            refunded.get(c, 0),
            refund_counts.get(c, 0),
            extra_counts.get(c, 0),
            sum(extras.get(c, [])),
        )
        for c in currencies
    )
    return Report(kind, since, until, made, number)


def as_lines(report: Report, words: Words | None = None) -> list[str]:
    """The report one line each: for the till and the command line (``words`` None: English, plain amounts that
    never change), or for the screen and paper in ``words``' language and number format."""
    if words is None:
        return _lines(report, lambda m, **v: m.format(**v), lambda a: a.format_code(), lambda s: s)
    return _lines(report, words, lambda a: words.money(a, code=True), lambda s: words(ROW_WORDS[s]))


def _lines(report: Report, _: Any, money: Callable[[Amount], str], row: Callable[[str], str]) -> list[str]:
    if report.kind == "z":
        title = _("Z report #{number}", number=report.number) if report.number else _("Z report")
    else:
        title = _("X report")
    since = report.since or _("the first sale")
    lines = [title, _("from {since}", since=since), _("to   {until}", until=report.until)]
    if not report.currencies:
        lines.append(_("no sales"))
    for totals in report.currencies:
        lines.append(f"-- {totals.currency}")
        for status in STATUSES:
            count = totals.counts.get(status, 0)
            if count:
                amount = money(Amount(totals.totals[status], totals.currency))
                lines.append(f"{_cell(row(status), 12)}{count:>5}  {amount}")
        if totals.extra_count:
            extra = money(Amount(totals.extra, totals.currency))
            refund_it = _("(refund it)")
            lines.append(f"{_cell(row('extra paid'), 12)}{totals.extra_count:>5}  {extra} {refund_it}")
        if totals.refund_count:
            refunds = money(Amount(totals.refunds, totals.currency))
            lines.append(f"{_cell(row('refunds'), 12)}{totals.refund_count:>5}  {refunds}")
        net = money(Amount(abs(totals.net), totals.currency))
        lines.append(f"{_cell(row('net'), 12)}{'':>5}  {'-' if totals.net < 0 else ''}{net}")
    return lines


def _cell(text: str, width: int) -> str:
    return text.ljust(width) if len(text) < width else text + " "


def as_csv_rows(report: Report) -> list[list[str]]:
    """``currency, status, count, total`` rows (totals as decimal strings), net last per currency."""
    rows = [["currency", "status", "count", "total"]]
    for totals in report.currencies:
        for status in STATUSES:
            if totals.counts.get(status):
                total = Amount(totals.totals[status], totals.currency).decimal()
                rows.append([totals.currency, status, str(totals.counts[status]), total])
        if totals.extra_count:
            extra = Amount(totals.extra, totals.currency).decimal()
            rows.append([totals.currency, "extra paid", str(totals.extra_count), extra])
        if totals.refund_count:
            refunds = Amount(totals.refunds, totals.currency).decimal()
            rows.append([totals.currency, "refunds", str(totals.refund_count), refunds])
        rows.append([totals.currency, "net", "", totals.net_text(code=False)])
    return rows

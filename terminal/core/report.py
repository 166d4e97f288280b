"""X and Z reports as plain data: per currency, how many sales ended in each status and for how much, counted
by the time they ended (a sale paid after midnight belongs to the next day's report)."""

from __future__ import annotations

from dataclasses import dataclass, field

from terminal.core.money import Amount

STATUSES = ("paid", "unconfirmed", "failed", "expired", "cancelled")


@dataclass(frozen=True, slots=True)
class Ended:
    """One sale as a report counts it: its final status and the amount that counts (received, if paid)."""

    status: str
    amount: Amount


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """One currency's counts and totals per status; ``net`` is what was received less refunds."""

    currency: str
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    refunds: int = 0

    @property
    def net(self) -> Amount:
        """Paid less refunds."""
        return Amount(self.totals.get("paid", 0) - self.refunds, self.currency)


@dataclass(frozen=True, slots=True)
class Report:
    """An X (running) or Z (closing) report for the period from ``since`` (ISO text, or "" for the beginning)."""

    kind: str
    since: str
    until: str
    currencies: tuple[CurrencyTotals, ...]
    number: int | None = None


def summarise(kind: str, since: str, until: str, ended: list[Ended], number: int | None = None) -> Report:
    """Count ``ended`` sales per currency and status."""
    by_currency: dict[str, CurrencyTotals] = {}
    for sale in ended:
        totals = by_currency.setdefault(sale.amount.currency, CurrencyTotals(sale.amount.currency))
        totals.counts[sale.status] = totals.counts.get(sale.status, 0) + 1
        totals.totals[sale.status] = totals.totals.get(sale.status, 0) + sale.amount.minor
    return Report(kind, since, until, tuple(by_currency[c] for c in sorted(by_currency)), number)


def as_lines(report: Report) -> list[str]:
    """The report for a screen, a receipt or a terminal: one line each."""
    title = "Z report" + (f" #{report.number}" if report.number else "") if report.kind == "z" else "X report"
    lines = [title, f"from {report.since or 'the first sale'}", f"to   {report.until}"]
    if not report.currencies:
        lines.append("no sales")
    for totals in report.currencies:
        lines.append(f"-- {totals.currency}")
        for status in STATUSES:
            count = totals.counts.get(status, 0)
            if count:
                amount = Amount(totals.totals[status], totals.currency).format_code()
                lines.append(f"{status:<12}{count:>5}  {amount}")
        lines.append(f"{'net':<12}{'':>5}  {totals.net.format_code()}")
    return lines


def as_csv_rows(report: Report) -> list[list[str]]:
    """``currency, status, count, total`` rows (totals as decimal strings), net last per currency."""
    rows = [["currency", "status", "count", "total"]]
    for totals in report.currencies:
        for status in STATUSES:
            if totals.counts.get(status):
                total = Amount(totals.totals[status], totals.currency).decimal()
                rows.append([totals.currency, status, str(totals.counts[status]), total])
        rows.append([totals.currency, "net", "", totals.net.decimal()])
    return rows

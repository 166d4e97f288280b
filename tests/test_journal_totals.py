"""The report totals the journal keeps as it is written (``period_totals``, #17 item 3) equal the full
recomputation from its rows (``terminal.reports.recount``, how reports were summed before), period after period:
sales of every final status, overpaid, paid twice, underpaid and then the rest, a payment in another currency,
a payment after the sale expired, money arriving after a Z closed the sale's period, refunds that go through or
fail, several currencies. A journal written before the totals were kept gets them once, in its migration."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from terminal.core.money import Amount
from terminal.core.orders import Order, OrderStatus, Payee, Payment, QrCode
from terminal.core.refund import Refund, RefundStatus
from terminal.core.report import Report
from terminal.core.sale import Sale, SaleStatus
from terminal.reports import build_report, recount
from terminal.store.journal import Journal

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Shop:
    """Writes a journal through its own API as the terminal would, the clock moving a minute per step."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.now = T
        self.seq = 0
        self.sales: dict[str, Sale] = {}

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def sale(self, minor: int, currency: str) -> Sale:
        """A sale started and its QR shown."""
        self.seq += 1
        amount = Amount(minor, currency)
        sale = Sale(f"T1-x-{self.seq:04d}", self.seq, f"T1-{self.seq:04d}", amount, SaleStatus.CREATING, self.tick())
        self.journal.record_sale(sale, None, "amount entered", self.now)
        order = Order(
            f"ord_{self.seq}", OrderStatus.PENDING, sale.reference, amount, QrCode("upi", "x"), Payee("Shop", "s@b"), T
        )
        return self.move(replace(sale, order=order), SaleStatus.AWAITING_PAYMENT)

    def move(self, sale: Sale, status: SaleStatus, *paid: Amount) -> Sale:
        """The sale in ``status`` with ``paid`` added to what arrived."""
        payments = sale.payments + tuple(
            Payment(
                a,
                self.now,
                "payer",
                f"UTR{sale.seq}-{len(sale.payments) + i}",
                f"pay_{sale.seq}_{len(sale.payments) + i}",
            )
            for i, a in enumerate(paid)
        )
        moved = replace(sale, status=status, payments=payments, order_open=not status.is_final)
        self.journal.record_sale(moved, str(sale.status), str(status), self.tick())
        self.sales[moved.id] = moved
        return moved

    def refund(self, sale: Sale, minor: int, *statuses: RefundStatus, number: int = 1) -> None:
        """A refund of the sale, journaled in each of ``statuses`` in turn."""
        refund = Refund(
            f"{sale.id}-R{number}",
            sale.id,
            sale.reference,
            "ord",
            Amount(minor, sale.amount.currency),
            RefundStatus.REQUESTED,
            self.now,
        )
        for status in statuses:
            self.journal.record_refund(replace(refund, status=status), "test", self.tick())

    def day(self, n: int) -> None:
        """A day of trading: every way a sale ends, in INR, JPY (no minor unit) and KWD (three)."""
        for currency, unit in (("INR", 100), ("JPY", 1), ("KWD", 1000)):
            a = 7 * unit + n
            self.move(self.sale(a, currency), SaleStatus.PAID, Amount(a, currency))
            self.move(self.sale(a, currency), SaleStatus.PAID, Amount(a + unit, currency))  # overpaid
            twice = self.move(self.sale(a, currency), SaleStatus.PAID, Amount(a, currency))
            self.move(twice, SaleStatus.PAID, Amount(a, currency))  # paid twice, while still this period's
            short = self.move(self.sale(a, currency), SaleStatus.UNDERPAID, Amount(a // 2, currency))
            self.move(short, SaleStatus.PAID, Amount(a - a // 2, currency))  # the rest, the same day
            self.move(self.sale(a, currency), SaleStatus.UNDERPAID, Amount(a // 3, currency))  # the rest after a Z
            other = "USD" if currency != "USD" else "EUR"
            self.move(self.sale(a, currency), SaleStatus.MISMATCH, Amount(a, other))
            late = self.move(self.sale(a, currency), SaleStatus.EXPIRED)
            self.move(late, SaleStatus.PAID, Amount(a, currency))  # money won after our timer
            for status in (SaleStatus.FAILED, SaleStatus.CANCELLED, SaleStatus.UNCONFIRMED):
                self.move(self.sale(a, currency), status)
            self.sale(a, currency)  # still waiting: counted nowhere
            refunded = self.move(self.sale(a * 3, currency), SaleStatus.PAID, Amount(a * 3, currency))
            self.refund(refunded, a, RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED)
            self.refund(self.move(self.sale(a, currency), SaleStatus.PAID, Amount(a, currency)), a, RefundStatus.FAILED)

    def after_the_z(self) -> None:
        """Money arriving for sales an earlier period counted: the rest of an underpayment, a second payment,
        and a refund of one of them."""
        for sale in list(self.sales.values()):
            if sale.status is SaleStatus.UNDERPAID:
                self.move(sale, SaleStatus.PAID, Amount(sale.amount.minor, sale.amount.currency))
            elif sale.status is SaleStatus.PAID and len(sale.payments) == 1 and sale.seq % 4 == 0:
                self.move(sale, SaleStatus.PAID, sale.amount)
                self.refund(sale, 1, RefundStatus.SUCCEEDED, number=2)


def recounted(journal: Journal, report: Report) -> Report:
    """The same period summed from the journal's rows (an X's period is open: to the end of the journal)."""
    until = report.until if report.kind == "z" else "~"
    return replace(recount(journal, report.kind, report.since, until, report.number), until=report.until)


def test_kept_totals_equal_the_recount_of_every_row_through_zs_and_money_arriving_later(journal):
    shop = Shop(journal)
    for n in range(3):
        shop.after_the_z()  # money for sales the last Z counted (none before the first)
        shop.day(n)
        x = build_report(journal, "x", shop.tick())
        assert x.currencies and x == recounted(journal, x)
        z = build_report(journal, "z", shop.tick())
        assert z.currencies == x.currencies and z == recounted(journal, z)
    shop.after_the_z()
    x = build_report(journal, "x", shop.tick())
    assert x == recounted(journal, x)
    # Only money arriving for sales the last Z counted, and their refunds: every currency has both.
    assert [(t.currency, set(t.counts), t.refund_count > 0) for t in x.currencies] == [
        (c, {"later"}, True) for c in ("INR", "JPY", "KWD")
    ]


def test_the_x_after_a_z_starts_from_nothing(journal):
    shop = Shop(journal)
    shop.day(0)
    build_report(journal, "z", shop.tick())
    assert build_report(journal, "x", shop.tick()).currencies == ()


def strip_kept_totals(path) -> None:
    """The journal as the version before kept totals left it (its schema and rows; no period_totals)."""
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE period_totals; DROP INDEX idx_z_reports_closed_at; ALTER TABLE sales DROP COLUMN period; "
            "ALTER TABLE refunds DROP COLUMN period; DELETE FROM _sqlite_migrations WHERE name = 'm013_period_totals'"
        )


def test_an_older_journal_gets_its_totals_from_its_rows_in_the_migration(tmp_path):
    path = tmp_path / "old.db"
    journal = Journal(path)
    shop = Shop(journal)
    shop.day(0)
    z = build_report(journal, "z", shop.tick())
    shop.after_the_z()
    shop.day(1)
    journal.close()
    strip_kept_totals(path)
    journal = Journal(path)
    assert journal.period_totals(z.number) == []  # a closed period's totals are its Z's, as it recorded them
    x = build_report(journal, "x", shop.tick())
    assert x.currencies and x == recounted(journal, x)
    assert build_report(journal, "z", shop.tick()).currencies == x.currencies
    journal.close()


def test_opening_a_current_journal_and_recording_a_sale_does_not_import_sqlite_utils(tmp_path):
    path = tmp_path / "j.db"
    Journal(path).close()  # created and migrated here (that needs sqlite-utils)
    script = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from terminal.core.money import Amount\n"
        "from terminal.core.sale import Sale, SaleStatus\n"
        "from terminal.reports import build_report\n"
        "from terminal.store.journal import Journal\n"
        "at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)\n"
        "journal = Journal(sys.argv[1])\n"
        "sale = Sale('T1-x-1', 1, 'T1-1', Amount(100, 'INR'), SaleStatus.CANCELLED, at)\n"
        "journal.record_sale(sale, None, 'cancelled', at)\n"
        "assert build_report(journal, 'x', at).currencies[0].counts == {'cancelled': 1}\n"
        "journal.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlite_utils'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

"""The journal's schema, as sqlite-utils migrations: add a new function ``mNNN_…``, never edit an applied one.

sqlite-utils is the schema tool only: importing this module does not import it (a terminal whose journal is
current never does, see :mod:`terminal.store.journal`); :func:`registry` does, when a migration is pending.
:func:`apply` applies every pending one in one transaction: a journal is at one version or the next, never between.

``python -m terminal.store.migrations JOURNAL --lock-fd N`` is the child process ``qr-terminal run`` starts when a
migration is pending (``Journal(migrate_in_child=True)``), so that sqlite-utils and what it imports (click,
dateutil, pluggy…) never load into the running terminal. It is handed the terminal's lock on the journal; on
failure it prints one sentence on stdout and exits with 1.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

#: The migration set's name in ``_sqlite_migrations``.
SET = "qr-terminal"


def m001_sales_and_events(db: Database) -> None:
    """sales: the current state of each sale; events: the append-only journal of every change."""
    db.table("sales").create(
        {
            "id": str,
            "seq": int,
            "reference": str,
            "amount_minor": int,
            "currency": str,
            "status": str,
            "started_at": str,
            "updated_at": str,
            "order_id": str,
            "qr_scheme": str,
            "qr_payload": str,
            "payee_id": str,
            "expires_at": str,
            "paid_minor": int,
            "paid_currency": str,
            "payer": str,
            "provider_ref": str,
            "failure_kind": str,
            "failure": str,
            "order_open": int,
        },
        pk="id",
        not_null={"seq", "reference", "amount_minor", "currency", "status", "started_at", "updated_at"},
    )
    db.table("sales").create_index(["seq"])
    db.table("sales").create_index(["reference"], unique=True)
    db.table("events").create(
        {
            "id": int,
            "at": str,
            "kind": str,
            "sale_id": str,
            "from_status": str,
            "to_status": str,
            "cause": str,
            "detail": str,
        },
        pk="id",
        not_null={"at", "kind", "cause"},
    )
    db.table("events").create_index(["sale_id"])


def m002_print_jobs(db: Database) -> None:
    """print_jobs: every receipt to print, kept until the printer took it (a fault never loses one)."""
    db.table("print_jobs").create(
        {
            "id": int,
            "sale_id": str,
            "reference": str,
            "created_at": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "printed_at": str,
            "receipt": str,
        },
        pk="id",
        not_null={"sale_id", "reference", "created_at", "status", "attempts", "receipt"},
    )
    db.table("print_jobs").create_index(["status"])


def m003_sale_payee_name_and_receipt_url(db: Database) -> None:
    """What a restart needs to show a sale's QR again exactly as before."""
    db.table("sales").add_column("payee_name", str)
    db.table("sales").add_column("receipt_url", str)


def m004_z_reports(db: Database) -> None:
    """z_reports: each closed period (Z report), so the next X report starts where the last Z ended."""
    db.table("z_reports").create(
        {"number": int, "closed_at": str, "since": str, "totals": str},
        pk="number",
        not_null={"closed_at", "since", "totals"},
    )


def m005_refunds_pin_lock_and_paid_at(db: Database) -> None:
    """refunds: each refund (also the outbox of refund calls: requested/pending ones are re-sent at start);
    pin_lock: the manager PIN's wrong tries and lock (one row); sales.paid_at: when the backend says it was paid."""
    db.table("refunds").create(
        {
            "id": str,
            "sale_id": str,
            "reference": str,
            "order_id": str,
            "amount_minor": int,
            "currency": str,
            "status": str,
            "requested_at": str,
            "updated_at": str,
            "settled_at": str,
            "provider_id": str,
            "message": str,
        },
        pk="id",
        not_null={"sale_id", "reference", "order_id", "amount_minor", "currency", "status", "requested_at"},
    )
    db.table("refunds").create_index(["sale_id"])
    db.table("refunds").create_index(["status"])
    db.table("pin_lock").create({"id": int, "failures": int, "locked_until": str}, pk="id", not_null={"failures"})
    db.table("sales").add_column("paid_at", str)


def m006_preferences(db: Database) -> None:
    """preferences: what the manager set on the terminal itself (the voice's on/off and volume)."""
    db.table("preferences").create({"key": str, "value": str, "updated_at": str}, pk="key", not_null={"value"})


def m007_sale_till_ref(db: Database) -> None:
    """sales.till_ref: the till's own reference for a sale a till started (told back in every event)."""
    db.table("sales").add_column("till_ref", str)


def m008_sale_payments(db: Database) -> None:
    """sales.payments: every payment that arrived (JSON, contract v1.1; amounts as decimal text so an absurd
    figure a backend reported is kept as it was said); sales.unreadable_payment: a payment that could not be read.
    paid_minor/paid_currency now hold what arrived summed, when it is countable money in the sale's currency."""
    db.table("sales").add_column("payments", str)
    db.table("sales").add_column("unreadable_payment", str)


def m009_indexes_for_reports_and_menus(db: Database) -> None:
    """sales.ended_at: when the sale last entered its final status (what X/Z reports count by), kept on the row so
    a report reads an index range instead of joining every event; indexes for what reports, menus and
    reconciliation filter on."""
    db.table("sales").add_column("ended_at", str)
    db.execute(
        "UPDATE sales SET ended_at = (SELECT MAX(e.at) FROM events e WHERE e.sale_id = sales.id AND e.kind = 'sale' "
        "AND e.to_status = sales.status) WHERE status NOT IN ('creating', 'awaiting_payment')"
    )
    # Covering: a report reads only this index, never the rows (what it sums is in the index).
    db.table("sales").create_index(
        ["ended_at", "status", "currency", "amount_minor", "paid_minor"], index_name="idx_sales_ended_at"
    )
    db.table("sales").create_index(["started_at"])
    db.table("sales").create_index(["status"])
    db.table("sales").create_index(["paid_at"])
    db.table("refunds").create_index(["settled_at"])


def m010_later_money(db: Database) -> None:
    """events.money_minor: money that arrived for a sale after it had ended (another payment, the rest of an
    underpayment), in the sale's currency: a report counts it in the period it arrived in, while the sale stays
    counted in the period it ended in (two Zs never count one payment twice)."""
    db.table("events").add_column("money_minor", int)
    db.table("events").create_index(["at"])


def m011_open_orders_index(db: Database) -> None:
    """A small index of the sales whose order the backend has not closed (what a restart picks up): the start
    reads it instead of every sale."""
    db.execute("CREATE INDEX idx_sales_order_open ON sales (seq) WHERE order_open = 1")


def m012_later_money_index(db: Database) -> None:
    """The few events that carry money arriving after a sale ended, by time: a report reads those instead of every
    event of its period."""
    db.execute("CREATE INDEX idx_events_money_at ON events (at) WHERE money_minor IS NOT NULL")


def m013_period_totals(db: Database) -> None:
    """period_totals: each period's report totals, kept as the sales and refunds are journaled (the journal's
    write API adds and takes away in the same transaction), so an X or Z report reads a few rows instead of
    summing the period. A period is numbered as the Z that closes it (the open one: the last Z's number + 1);
    kind is a sale's final status, "later" (money that arrived for a sale an earlier period counted) or
    "refunds". sales.period and refunds.period: the period a row is counted in (NULL: not counted). Filled here
    once from the journal's rows."""
    db.table("z_reports").create_index(["closed_at"])
    db.table("sales").add_column("period", int)
    db.table("refunds").add_column("period", int)
    db.table("period_totals").create(
        {
            "period": int,
            "currency": str,
            "kind": str,
            "count": int,
            "total": int,
            "extra": int,
            "extra_count": int,
        },
        pk=("period", "currency", "kind"),
        not_null={"count", "total", "extra", "extra_count"},
    )
    # A row ending at a Z's closing time belongs to that Z (a period is (since, closed]).
    period_of = (
        "COALESCE((SELECT number FROM z_reports WHERE closed_at >= {at} ORDER BY closed_at LIMIT 1), "
        "(SELECT COALESCE(MAX(number), 0) + 1 FROM z_reports))"
    )
    db.execute(f"UPDATE sales SET period = {period_of.format(at='sales.ended_at')} WHERE ended_at IS NOT NULL")
    db.execute(
        f"UPDATE refunds SET period = {period_of.format(at='refunds.settled_at')} "
        "WHERE status = 'succeeded' AND settled_at IS NOT NULL"
    )
    # The open period's totals, as the reports summed them until now (a closed period's are its Z's, as recorded
    # then: summed again today they would show money that arrived since).
    open_period = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM z_reports").fetchone()[0]
    db.execute(
        "INSERT INTO period_totals (period, currency, kind, count, total, extra, extra_count) "
        "SELECT period, currency, status, COUNT(*), "
        "SUM(CASE WHEN status IN ('paid', 'underpaid') AND paid_minor IS NOT NULL THEN paid_minor "
        "ELSE amount_minor END), "
        "SUM(CASE WHEN status = 'paid' AND paid_minor > amount_minor THEN paid_minor - amount_minor ELSE 0 END), "
        "SUM(CASE WHEN status = 'paid' AND paid_minor > amount_minor THEN 1 ELSE 0 END) "
        "FROM sales WHERE period = ? GROUP BY period, currency, status",
        [open_period],
    )
    db.execute(
        "INSERT INTO period_totals (period, currency, kind, count, total, extra, extra_count) "
        "SELECT period, currency, 'refunds', COUNT(*), SUM(amount_minor), 0, 0 FROM refunds "
        "WHERE period = ? GROUP BY period, currency",
        [open_period],
    )
    # Money that arrived for a sale after it ended counts in the period it arrived in, when an earlier period
    # counted the sale.
    db.execute(
        "INSERT INTO period_totals (period, currency, kind, count, total, extra, extra_count) "
        "SELECT arrived, currency, 'later', COUNT(*), SUM(money_minor), 0, 0 FROM ("
        f"SELECT {period_of.format(at='e.at')} AS arrived, s.currency, s.period AS counted, e.money_minor "
        "FROM events e JOIN sales s ON s.id = e.sale_id WHERE e.money_minor IS NOT NULL"
        ") WHERE arrived = ? AND counted < arrived GROUP BY arrived, currency",
        [open_period],
    )


#: Every migration this version knows, in the order they apply.
def m014_failure_words(db: Database) -> None:
    """sales.failure_words: why a sale failed as words to translate (a sentence's msgid and values, JSON; see
    terminal.core.i18n.text_data), so a sale read back — after a restart, in the recent-sales menu — says it in
    the shop's language. sales.failure keeps the English sentence for the tools and support."""
    db.table("sales").add_column("failure_words", str)


NAMES: tuple[str, ...] = tuple(sorted(name for name in globals() if re.fullmatch(r"m\d{3}_\w+", name)))


@functools.cache
def registry() -> Migrations:
    """The migrations as sqlite-utils applies them (imports sqlite-utils)."""
    from sqlite_utils import Migrations

    made = Migrations(SET)
    for name in NAMES:
        made(name=name)(_naming(name, globals()[name]))
    return made


class MigrationFailed(Exception):
    """A migration raised: the message names it and says why."""


def _naming(name: str, migration: Callable[[Database], None]) -> Callable[[Database], None]:
    """``migration``, raising :class:`MigrationFailed` (which names it) for whatever it raises."""

    @functools.wraps(migration)
    def applying(db: Database) -> None:
        try:
            migration(db)
        except Exception as exc:
            raise MigrationFailed(f"{name}: {exc}") from exc

    return applying


def apply(db: Database) -> None:
    """Apply every pending migration, all in one transaction (sqlite-utils runs each in a savepoint of it): if
    one fails, every one is rolled back and the journal is as it was."""
    with db.atomic():
        registry().apply(db)


def main(argv: list[str] | None = None) -> int:
    """The migration child: bring the journal up to date under the lock handed down (0), or say why not (1)."""
    import argparse  # here: the journal imports this module, and a reader of it needs no argparse

    parser = argparse.ArgumentParser(prog="python -m terminal.store.migrations", description=main.__doc__)
    parser.add_argument("journal")
    parser.add_argument("--lock-fd", type=int, required=True, help="the journal's lock, held by the parent")
    args = parser.parse_args(argv)
    for unused in ("numpy", "pandas"):  # sqlite-utils imports them for their column types when installed (30 ms)
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]  # None in sys.modules: "cannot be imported"
    from terminal.store.journal import Journal, JournalError

    try:
        Journal(args.journal, reserve=0, check=False, lock_fd=args.lock_fd).close()
    except JournalError as exc:
        print(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

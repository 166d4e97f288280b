"""The journal's schema, as sqlite-utils migrations: add a new function, never edit an applied one."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("qr-terminal")


def known_migrations() -> set[str]:
    """The names of every migration this version knows (all of them are pending on an empty database)."""
    return {m.name for m in migrations.pending(Database(memory=True))}


@migrations()
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


@migrations()
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


@migrations()
def m003_sale_payee_name_and_receipt_url(db: Database) -> None:
    """What a restart needs to show a sale's QR again exactly as before."""
    db.table("sales").add_column("payee_name", str)
    db.table("sales").add_column("receipt_url", str)


@migrations()
def m004_z_reports(db: Database) -> None:
    """z_reports: each closed period (Z report), so the next X report starts where the last Z ended."""
    db.table("z_reports").create(
        {"number": int, "closed_at": str, "since": str, "totals": str},
        pk="number",
        not_null={"closed_at", "since", "totals"},
    )


@migrations()
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


@migrations()
def m006_preferences(db: Database) -> None:
    """preferences: what the manager set on the terminal itself (the voice's on/off and volume)."""
    db.table("preferences").create({"key": str, "value": str, "updated_at": str}, pk="key", not_null={"value"})


@migrations()
def m007_sale_till_ref(db: Database) -> None:
    """sales.till_ref: the till's own reference for a sale a till started (told back in every event)."""
    db.table("sales").add_column("till_ref", str)


@migrations()
def m008_sale_payments(db: Database) -> None:
    """sales.payments: every payment that arrived (JSON, contract v1.1; amounts as decimal text so an absurd
    figure a backend reported is kept as it was said); sales.unreadable_payment: a payment that could not be read.
    paid_minor/paid_currency now hold what arrived summed, when it is countable money in the sale's currency."""
    db.table("sales").add_column("payments", str)
    db.table("sales").add_column("unreadable_payment", str)


@migrations()
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


@migrations()
def m010_later_money(db: Database) -> None:
    """events.money_minor: money that arrived for a sale after it had ended (another payment, the rest of an
    underpayment), in the sale's currency: a report counts it in the period it arrived in, while the sale stays
    counted in the period it ended in (two Zs never count one payment twice)."""
    db.table("events").add_column("money_minor", int)
    db.table("events").create_index(["at"])


@migrations()
def m011_open_orders_index(db: Database) -> None:
    """A small index of the sales whose order the backend has not closed (what a restart picks up): the start
    reads it instead of every sale."""
    db.execute("CREATE INDEX idx_sales_order_open ON sales (seq) WHERE order_open = 1")


@migrations()
def m012_later_money_index(db: Database) -> None:
    """The few events that carry money arriving after a sale ended, by time: a report reads those instead of every
    event of its period."""
    db.execute("CREATE INDEX idx_events_money_at ON events (at) WHERE money_minor IS NOT NULL")

"""The dashboard's tables, on the hub's own metadata (so one Alembic history covers both): people who log in,
and their sessions (only a token's SHA-256 is stored, like enrollment codes)."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, String, Table

from hub.db import metadata, payments, refunds

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(10), nullable=False),  # owner | staff
    Column("language", String(10)),  # a tag of terminal.i18n.LANGUAGES; None: the currency's home language
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

#: The money page lists refunds by date range: an index so a year's range reads only that range.
refunds_by_date = Index("ix_refunds_created_at", refunds.c.created_at)

#: When the hub recorded a payment (``at`` is the provider's time, which a late webhook or a reconciliation brings
#: long after): the live feed follows this. Filled by the database itself (a default on PostgreSQL, a trigger on
#: SQLite: migration 0002), so the ledger's inserts need not know of it.
payments.append_column(Column("recorded_at", Float))
payments_by_recording = Index("ix_payments_recorded_at", payments.c.recorded_at)

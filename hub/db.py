"""The hub's database: SQLAlchemy Core tables, the engine for a URL (SQLite by default, PostgreSQL for fleets),
Alembic migrations, and the one way to run a transaction.

Times are Unix seconds (float) in every table, so SQLite and PostgreSQL compare them alike; money is integer minor
units with its currency beside it. Idempotency lives in unique constraints, never in a replica's memory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.pool import ConnectionPoolEntry

metadata = MetaData()

terminals = Table(
    "terminals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("shop", String(100), nullable=False, server_default=""),
    Column("secret", String(100)),  # null until the terminal exchanged its enrollment code
    Column("created_at", Float, nullable=False),
    Column("enrolled_at", Float),
    Column("revoked_at", Float),
    Column("last_heartbeat_at", Float),
    Column("last_heartbeat", Text),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("terminal_id", String(40), ForeignKey("terminals.id"), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
)

nonces = Table(
    "nonces",
    metadata,
    Column("terminal_id", String(40), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("terminal_id", String(40), ForeignKey("terminals.id"), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("provider_id", String(100), unique=True),  # null until the provider answered the create
    Column("qr_scheme", String(10)),
    Column("qr_payload", Text),
    Column("payee_name", String(200)),
    Column("payee_id", String(200)),
    Column("failure_code", String(100)),
    Column("failure_message", String(500)),
    Column("created_at", Float, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("terminal_id", "idempotency_key", name="uq_orders_terminal_key"),
    # every second each replica looks for pending orders past their time, and for those to reconcile
    Index("ix_orders_status_expires_at", "status", "expires_at"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("provider", String(20), nullable=False),
    Column("provider_payment_id", String(100), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", Float, nullable=False, index=True),
    Column("payer", String(200)),
    Column("provider_ref", String(100)),
    UniqueConstraint("provider", "provider_payment_id", name="uq_payments_provider_id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("idempotency_key", String(200), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("provider_refund_id", String(100), unique=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("failure_message", String(500)),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("order_id", "idempotency_key", name="uq_refunds_order_key"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("outcome", String(200), nullable=False),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(40), ForeignKey("terminals.id"), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("body", Text, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Record:
    """A typed view of one SQLAlchemy Core row (whose columns read as ``Any``): a frozen dataclass whose fields
    are the columns it names, taken from the row as they are (no conversion)."""

    @classmethod
    def of(cls, row: Row[*tuple[Any, ...]]) -> Self:
        """The record of ``row`` (a ``select`` of the whole table, or of at least these columns)."""
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class OrderRow(Record):
    """One row of ``orders``."""

    id: str
    terminal_id: str
    idempotency_key: str
    body_hash: str
    reference: str
    amount: int
    currency: str
    description: str
    status: str
    provider: str
    provider_id: str | None
    qr_scheme: str | None
    qr_payload: str | None
    payee_name: str | None
    payee_id: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: float
    expires_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class PaymentRow(Record):
    """One row of ``payments``."""

    id: str
    order_id: str
    provider: str
    provider_payment_id: str
    amount: int
    currency: str
    at: float
    payer: str | None
    provider_ref: str | None


@dataclass(frozen=True, slots=True)
class RefundRow(Record):
    """One row of ``refunds``."""

    id: str
    order_id: str
    idempotency_key: str
    body_hash: str
    provider_refund_id: str | None
    amount: int
    currency: str
    status: str
    reason: str
    failure_message: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class TerminalRow(Record):
    """One row of ``terminals``."""

    id: str
    shop: str
    secret: str | None
    created_at: float
    enrolled_at: float | None
    revoked_at: float | None
    last_heartbeat_at: float | None
    last_heartbeat: str | None


@dataclass(frozen=True, slots=True)
class EnrollmentCodeRow(Record):
    """One row of ``enrollment_codes`` (the code itself is never stored, only its SHA-256)."""

    code_hash: str
    terminal_id: str
    expires_at: float
    used_at: float | None


@dataclass(frozen=True, slots=True)
class HeartbeatRow(Record):
    """One row of ``heartbeats`` (``body`` is the heartbeat's JSON)."""

    id: int
    terminal_id: str
    at: float
    body: str


#: The embedded default: one shop, one machine.
DEFAULT_PATH = "qr-hub.db"
DB_ENV = "QR_HUB_DB"


def default_url() -> str:
    """``QR_HUB_DB`` when set, else an SQLite file ``qr-hub.db`` in the current directory."""
    return os.environ.get(DB_ENV) or f"sqlite:///{Path(DEFAULT_PATH).resolve()}"


def engine_for(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql://…`` (psycopg 3 is used for PostgreSQL)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own is too late)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # writers queue here instead of failing on upgrade

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=10)


class Database:
    """The engine plus the transaction every store operation runs in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        # SQLite takes one writer at a time anyway; one lock keeps our threads from timing out on its lock.
        self._lock = threading.Lock() if not self.is_postgres else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed when the block ends without an exception."""
        if self._lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._lock, self.engine.begin() as conn:
            yield conn

    def notify(self, conn: Connection, key: str) -> None:
        """Tell every replica that ``key`` (``order:<id>``, ``terminal:<id>``) changed, when this transaction
        commits (PostgreSQL NOTIFY; one SQLite process wakes its own waiters)."""
        if self.is_postgres:
            conn.execute(text("SELECT pg_notify('qr_hub', :key)"), {"key": key})

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        from hub.migrations import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

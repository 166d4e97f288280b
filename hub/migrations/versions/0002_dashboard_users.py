"""The owner's dashboard: users (scrypt password hashes, owner or staff) and their sessions;
an index on refunds by date (the money page); when the hub recorded each payment (the live feed).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("language", sa.String(10)),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sessions_user_name", "sessions", ["user_name"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_index("ix_refunds_created_at", "refunds", ["created_at"])
    # when the hub recorded each payment (the live feed's order), filled by the database on every insert
    op.add_column("payments", sa.Column("recorded_at", sa.Float))
    op.execute("UPDATE payments SET recorded_at = at")
    op.create_index("ix_payments_recorded_at", "payments", ["recorded_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payments ALTER COLUMN recorded_at SET DEFAULT extract(epoch from clock_timestamp())")
    else:  # SQLite cannot add a column with a non-constant default
        op.execute(
            "CREATE TRIGGER payments_recorded_at AFTER INSERT ON payments WHEN NEW.recorded_at IS NULL BEGIN "
            "UPDATE payments SET recorded_at = (julianday('now') - 2440587.5) * 86400.0 WHERE rowid = NEW.rowid; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payments_recorded_at")
    op.drop_index("ix_payments_recorded_at", "payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("recorded_at")
    op.drop_index("ix_refunds_created_at", "refunds")
    op.drop_table("sessions")
    op.drop_table("users")

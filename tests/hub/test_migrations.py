"""The Alembic migrations build exactly the schema the code uses (no drift between hub/db.py and versions/), on
SQLite and on PostgreSQL, and running them twice changes nothing."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import hub.dashboard.tables  # noqa: F401  (the dashboard's tables are on the same metadata)
from hub.db import Database, metadata
from hub.migrations import current


def test_the_migrated_schema_is_the_codes_schema(db_url: str) -> None:
    database = Database(db_url)
    database.migrate()
    database.migrate()
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert current(database.engine) == "0002"
    database.close()

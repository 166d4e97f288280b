"""Alembic's environment: the engine comes from hub.migrations.config (no alembic.ini, no URL in a file)."""

from alembic import context

from hub.db import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

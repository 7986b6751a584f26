"""Alembic environment: runs on the connection the caller passes in; reads no settings."""

from alembic import context

from idstore.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite's ALTER TABLE is limited; batch mode rebuilds tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""What every command shares: the `--db` option and opening the store with a clear error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from idstore.config import DB_FORMS, database_url, default_db_url

if TYPE_CHECKING:
    from idstore.store import Store

DB_HELP = (
    "The database: a SQLite file path, sqlite:///FILE, or postgresql://USER@HOST/DB "
    "[default: $IDSTORE_DB, else ./idstore.db]"
)

db_option = click.option("--db", "db_url", metavar="PATH|URL", default=None, help=DB_HELP)


def resolve_db_url(db_url: str | None) -> str:
    """The database URL: `--db` (a plain path or a URL) if given, else `IDSTORE_DB`, else
    ./idstore.db; a ClickException listing the accepted forms for anything else."""
    try:
        return database_url(db_url) if db_url else default_db_url()
    except ValueError as error:
        raise click.ClickException(str(error)) from error


def open_db(db_url: str | None, *, lock_timeout: float | None = None) -> Store:
    """The store at `db_url` (or the default), migrated; a ClickException if it cannot open.
    Its waits for locks last `lock_timeout` seconds (default: the server's default)."""
    # Imported here so that `--help` does not pay for SQLAlchemy and alembic.
    from idstore.store import open_store

    url = resolve_db_url(db_url)
    try:
        if lock_timeout is None:
            return open_store(url)
        return open_store(url, lock_timeout=lock_timeout)
    except Exception as error:
        reason = str(error).split("\n(Background on this error")[0]  # SQLAlchemy's link
        raise click.ClickException(
            f"cannot open the database {url}: {reason}\n(the database is {DB_FORMS})"
        ) from error

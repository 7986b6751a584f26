"""What every command shares: the `--db` option and opening the store with a clear error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from idstore.config import default_db_url

if TYPE_CHECKING:
    from idstore.store import Store

DB_HELP = (
    "Database URL: sqlite:///FILE or postgresql://USER@HOST/DB "
    "[default: $IDSTORE_DB, else ./idstore.db]"
)

db_option = click.option("--db", "db_url", metavar="URL", default=None, help=DB_HELP)


def resolve_db_url(db_url: str | None) -> str:
    """`--db` if given, else `IDSTORE_DB`, else ./idstore.db."""
    return db_url or default_db_url()


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
        raise click.ClickException(f"cannot open the database {url}: {error}") from error

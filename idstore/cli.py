"""The `idstore` command line. Other tools rely on these names and outputs; keep them stable.

    idstore serve [--host 127.0.0.1] [--port 8765] [--db URL] [--workers N]
    idstore db upgrade [--db URL]         applies pending migrations, prints the revision
    idstore stores create [--db URL]      prints the new store id alone on the last line
    idstore stores list [--db URL]

The database is `--db`, else `IDSTORE_DB`, else `idstore.db` in the working directory.
Every command opens the store through `open_store`, which applies pending migrations.
Heavy imports (SQLAlchemy, alembic, the web server) happen inside the commands that need them.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click

from idstore import __version__
from idstore.config import DEFAULT_HOST, DEFAULT_PORT, Config, default_db_url
from idstore.model import now

if TYPE_CHECKING:
    from idstore.store import Store

DB_HELP = (
    "Database URL: sqlite:///FILE or postgresql://USER@HOST/DB "
    "[default: $IDSTORE_DB, else ./idstore.db]"
)


db_option = click.option("--db", "db_url", metavar="URL", default=None, help=DB_HELP)


def _open(db_url: str | None) -> Store:
    # Imported here so that `--help` does not pay for SQLAlchemy and alembic.
    from idstore.store import open_store

    url = db_url or default_db_url()
    try:
        return open_store(url)
    except Exception as error:
        raise click.ClickException(f"cannot open the database {url}: {error}") from error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idstore")
def main() -> None:
    """idstore: a self-hostable AWS Identity Store (identitystore API and SCIM)."""


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on."
)
@db_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (and the database).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(host: str, port: int, db_url: str | None, workers: int, log_level: str) -> None:
    """Run the server. Applies migrations; creates an identity store if there is none."""
    from idstore.app import create_app
    from idstore.app import serve as run

    logging.basicConfig(level=log_level.upper(), format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = Config.from_env(db_url=db_url)
    store = _open(config.db_url)
    stores = store.list_identity_stores(None, 1000).items
    if not stores:
        created = store.create_identity_store(now())
        click.echo(f"Created identity store {created.store_id}")
        stores = [created]
    for s in stores:
        click.echo(f"Identity store: {s.store_id}")
    app = create_app(config, store)
    url = f"http://{host}:{port}"

    def ready() -> None:
        click.echo(f"idstore {__version__} listening on {url} (database: {config.db_url})")
        sys.stdout.flush()

    run(app, host, port, workers=workers, log_level=log_level, on_ready=ready)


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Apply pending migrations (all servers may keep running); print the schema revision."""
    from idstore.store import migrate

    store = _open(db_url)  # opening applies the migrations, under a lock
    click.echo(f"Database schema is at revision {migrate.current(store.engine)}")
    store.close()


@main.group()
def stores() -> None:
    """Create and list identity stores."""


@stores.command("create")
@db_option
def stores_create(db_url: str | None) -> None:
    """Create an identity store; print its id alone on the last line."""
    created = _open(db_url).create_identity_store(now())
    click.echo(created.store_id)


@stores.command("list")
@db_option
def stores_list(db_url: str | None) -> None:
    """List identity stores with their numbers of users and groups."""
    store = _open(db_url)
    after = None
    click.echo(f"{'IDENTITY STORE':<14}  {'USERS':>8}  {'GROUPS':>8}  CREATED")
    while True:
        page = store.list_identity_stores(after, 100)
        for s in page.items:
            created = s.created_at.isoformat(timespec="seconds")
            click.echo(f"{s.store_id:<14}  {s.user_count:>8}  {s.group_count:>8}  {created}")
        if page.after is None:
            break
        after = page.after

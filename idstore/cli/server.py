"""Running the server, and managing the database schema."""

from __future__ import annotations

import logging
import sys

import click

from idstore import __version__
from idstore.cli.common import db_option, open_db
from idstore.config import DEFAULT_HOST, DEFAULT_PORT, Config
from idstore.model import now


@click.command()
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
    store = open_db(config.db_url)
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


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Apply pending migrations (all servers may keep running); print the schema revision."""
    from idstore.store import migrate

    store = open_db(db_url)  # opening applies the migrations, under a lock
    click.echo(f"Database schema is at revision {migrate.current(store.engine)}")
    store.close()

"""Identity stores: the AWS API has no call to create one, so the CLI does."""

from __future__ import annotations

import click

from idstore.cli.common import db_option, open_db
from idstore.model import IdFormat, now


@click.group()
def stores() -> None:
    """Create and list identity stores."""


@stores.command("create")
@db_option
@click.option(
    "--id-format",
    type=click.Choice([f.value for f in IdFormat]),
    default=IdFormat.UUID.value,
    show_default=True,
    help="The ids the store issues to users, groups and memberships: bare UUIDs, as current "
    "AWS stores issue them, or <10 hex>-<uuid>, as older ones do. Both are always accepted.",
)
def stores_create(db_url: str | None, id_format: str) -> None:
    """Create an identity store; print its id alone on the last line."""
    store = open_db(db_url)
    try:
        created = store.create_identity_store(now(), id_format=IdFormat(id_format))
    finally:
        store.close()
    click.echo(created.store_id)


@stores.command("list")
@db_option
def stores_list(db_url: str | None) -> None:
    """List identity stores with their numbers of users and groups and the ids they issue."""
    store = open_db(db_url)
    after = None
    click.echo(f"{'IDENTITY STORE':<14}  {'USERS':>8}  {'GROUPS':>8}  {'IDS':<8}  CREATED")
    try:
        while True:
            page = store.list_identity_stores(after, 100)
            for s in page.items:
                created = s.created_at.isoformat(timespec="seconds")
                click.echo(
                    f"{s.store_id:<14}  {s.user_count:>8}  {s.group_count:>8}  "
                    f"{s.id_format.value:<8}  {created}"
                )
            if page.after is None:
                break
            after = page.after
    finally:
        store.close()

"""SCIM bearer tokens: what an identity provider presents at `/<store id>/scim/v2/`.

    idstore scim-tokens create --store ID [--days N] [--db URL]   the token, alone on the last line
    idstore scim-tokens list --store ID [--db URL]
    idstore scim-tokens delete --store ID TOKEN_ID [--db URL]

A token is shown once, at creation; the database keeps only its digest. At most two tokens per
store are active at a time (rotate: create a second one, move the IdP to it, delete the first).
"""

from __future__ import annotations

from datetime import timedelta

import click

from idstore.cli.common import db_option, open_db
from idstore.errors import IdstoreError
from idstore.model import now

store_option = click.option(
    "--store", "store_id", metavar="ID", required=True, help="The identity store (d-...)."
)


@click.group("scim-tokens")
def scim_tokens() -> None:
    """Create, list and delete the SCIM bearer tokens of an identity store."""


@scim_tokens.command("create")
@store_option
@click.option(
    "--days",
    default=365,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="Days until the token expires.",
)
@db_option
def scim_tokens_create(store_id: str, days: int, db_url: str | None) -> None:
    """Create a token; print it alone on the last line (it is not shown again)."""
    from idstore.scim import tokens

    store = open_db(db_url)
    try:
        token, record = tokens.issue(store, store_id, at=now(), lifetime=timedelta(days=days))
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()
    click.echo(f"Token id: {record.token_id}")
    click.echo(f"Identity store: {store_id}")
    click.echo(f"Expires: {record.expires_at.isoformat(timespec='seconds')}")
    click.echo("The token is shown only now; it cannot be recovered, only replaced.")
    click.echo(token)


@scim_tokens.command("list")
@store_option
@db_option
def scim_tokens_list(store_id: str, db_url: str | None) -> None:
    """List a store's tokens (ids and dates; never the tokens themselves)."""
    store = open_db(db_url)
    try:
        found = store.list_scim_tokens(store_id)
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()
    at = now()
    click.echo(f"{'TOKEN ID':<36}  {'CREATED':<25}  {'EXPIRES':<25}  STATUS")
    for t in found:
        created = t.created_at.isoformat(timespec="seconds")
        expires = t.expires_at.isoformat(timespec="seconds")
        status = "active" if t.active(at) else "expired"
        click.echo(f"{t.token_id:<36}  {created:<25}  {expires:<25}  {status}")


@scim_tokens.command("delete")
@store_option
@click.argument("token_id")
@db_option
def scim_tokens_delete(store_id: str, token_id: str, db_url: str | None) -> None:
    """Delete a token; requests carrying it are refused at once."""
    store = open_db(db_url)
    try:
        deleted = store.delete_scim_token(store_id, token_id)
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()
    if not deleted:
        raise click.ClickException(f"identity store {store_id} has no SCIM token {token_id}")
    click.echo(f"Deleted SCIM token {token_id}")

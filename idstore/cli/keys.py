"""Access keys for SigV4: what AWS clients sign with when the server runs with `--auth sigv4`.

    idstore keys create (--store ID ... | --all-stores) --name NAME [--read-only]
                        [--profile P] [--credentials-file PATH] [--json]
    idstore keys list [--json]
    idstore keys delete ACCESS_KEY_ID

(each with `--db URL`; `create` also takes `--server-key-file PATH`). A key acts as the
principal `arn:aws:iam::<account>:user/<NAME>` (recorded in CreatedBy/UpdatedBy) on the
identity stores it names, read-write or read-only. Its secret is shown once, at creation; the
database keeps it encrypted with the server key, a file outside the database that `create`
generates on first use (and `serve --auth sigv4` too) and says where it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from idstore.cli.common import db_option, open_db
from idstore.cli.profiles import profile_lines, write_profile
from idstore.config import Config
from idstore.errors import IdstoreError
from idstore.model import now

if TYPE_CHECKING:
    from idstore.serverkey import LoadedKey
    from idstore.store import Store
    from idstore.store.credentials import AccessKey

# A credentials-file profile name: the characters of a key name (ini-safe), and not DEFAULT.
PROFILE_PATTERN = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)

server_key_option = click.option(
    "--server-key-file",
    metavar="PATH",
    default=None,
    help="The server key that encrypts secret access keys "
    "[default: $IDSTORE_SERVER_KEY, $IDSTORE_SERVER_KEY_FILE, else DBFILE.key beside a SQLite "
    "database, ./idstore-server.key for PostgreSQL]",
)


def open_server_key(store: Store, config: Config) -> LoadedKey:
    """The server key for `store`, generated on first use (saying so, on stderr)."""
    from idstore.serverkey import ServerKeyError  # imported here: `--help` skips cryptography

    try:
        loaded = store.open_server_key(config)
    except ServerKeyError as error:
        raise click.ClickException(str(error)) from error
    if loaded.created:
        click.echo(
            f"Generated a new server key in {loaded.path} (readable by its owner only).\n"
            "It encrypts the secret access keys stored in the database: without it no access "
            "key can be verified.\nBack it up, and keep the copy apart from the database's "
            "backups (together they would give the secrets away). Every server on this "
            "database needs the same key: --server-key-file, IDSTORE_SERVER_KEY_FILE, or its "
            "content in IDSTORE_SERVER_KEY.",
            err=True,
        )
    return loaded


def principal_arn(config: Config, name: str) -> str:
    return f"arn:aws:iam::{config.account_id}:user/{name}"


def _stores_text(key: AccessKey) -> str:
    return "all" if key.stores is None else ",".join(sorted(key.stores))


def _summary(key: AccessKey, config: Config) -> dict[str, object]:
    return {
        "AccessKeyId": key.access_key_id,
        "Name": key.name,
        "PrincipalArn": principal_arn(config, key.name),
        "IdentityStoreIds": None if key.stores is None else sorted(key.stores),
        "AllIdentityStores": key.stores is None,
        "ReadOnly": key.read_only,
        "CreatedAt": key.created_at.isoformat(timespec="seconds"),
    }


@click.group()
def keys() -> None:
    """Create, list and delete the access keys that SigV4 requests are signed with."""


@keys.command("create")
@click.option(
    "--store",
    "store_ids",
    metavar="ID",
    multiple=True,
    help="An identity store the key may use (repeat for several).",
)
@click.option("--all-stores", is_flag=True, help="Let the key use every identity store.")
@click.option(
    "--name",
    required=True,
    help="The principal name: requests act as arn:aws:iam::<account>:user/NAME.",
)
@click.option(
    "--read-only", is_flag=True, help="Allow only Describe*, Get*, List* and IsMemberInGroups."
)
@click.option(
    "--profile",
    metavar="PROFILE",
    help="The credentials-file profile name (default: idstore-NAME).",
)
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the profile into this AWS credentials file (e.g. ~/.aws/credentials), "
    "replacing a profile of the same name and keeping the rest of the file, instead of "
    "printing it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@server_key_option
@db_option
def keys_create(
    store_ids: tuple[str, ...],
    all_stores: bool,
    name: str,
    read_only: bool,
    profile: str | None,
    credentials_file: Path | None,
    as_json: bool,
    server_key_file: str | None,
    db_url: str | None,
) -> None:
    """Create an access key; print its secret (shown only this once)."""
    if bool(store_ids) == all_stores:
        raise click.UsageError("give the identity stores (--store ID, repeatable) or --all-stores")
    if profile is None:
        # Prefixed, so that appending never shadows a real AWS profile such as [default]; a
        # valid key name makes a valid profile name (the store checks the name).
        profile = f"idstore-{name}"
    elif not PROFILE_PATTERN.fullmatch(profile) or profile == "DEFAULT":
        # [DEFAULT] would lend its key to every other profile of the file.
        raise click.UsageError(
            f"--profile {profile!r}: use 1 to 64 letters, digits and +=,.@_- (not DEFAULT)"
        )
    try:
        config = Config.from_env(db_url=db_url, server_key_file=server_key_file)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    store = open_db(config.db_url)
    try:
        key, secret = store.create_access_key(
            name=name,
            stores=None if all_stores else store_ids,
            read_only=read_only,
            server_key=open_server_key(store, config).key,
            at=now(),
        )
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()
    lines = profile_lines(profile, key.access_key_id, secret)
    if credentials_file is not None:
        try:
            replaced = write_profile(credentials_file, profile, lines)
        except OSError as error:
            raise click.ClickException(
                f"created access key {key.access_key_id}, but could not write "
                f"{credentials_file}: {error}; delete the key (idstore keys delete) and retry"
            ) from error
    if as_json:
        summary = {**_summary(key, config), "SecretAccessKey": secret}
        click.echo(orjson.dumps(summary).decode())
        return
    # People read the summary on stderr; stdout is a credentials-file profile named after the
    # key, so that `idstore keys create ... >> ~/.aws/credentials` is the whole set-up (or the
    # profile goes into the file given with --credentials-file).
    rights = "read-only" if key.read_only else "read-write"
    click.echo(f"Created access key {key.access_key_id} ({rights})", err=True)
    click.echo(f"Principal:       {principal_arn(config, key.name)}", err=True)
    click.echo(f"Identity stores: {_stores_text(key)}", err=True)
    # A credentials file carries no region, and AWS clients need one: say how to give it.
    region = (
        f"Clients also need a region (any works): aws configure set region us-east-1 "
        f"--profile {profile}, or AWS_DEFAULT_REGION=us-east-1."
    )
    if credentials_file is not None:
        done = "Replaced" if replaced else "Wrote"
        click.echo(f"{done} profile [{profile}] in {credentials_file}. {region}", err=True)
        return
    click.echo(
        "The secret access key is shown only now; it cannot be recovered, only replaced.\n"
        f"Profile [{profile}] for ~/.aws/credentials (or set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY to these values). A profile name must appear only once in the "
        "file: a second [" + profile + "] breaks it for every AWS client (--credentials-file "
        "replaces it safely; --profile picks another name). " + region,
        err=True,
    )
    for line in lines:
        click.echo(line)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@db_option
def keys_list(as_json: bool, db_url: str | None) -> None:
    """List access keys: ids, principals, rights and stores (never the secrets)."""
    try:
        config = Config.from_env(db_url=db_url)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    store = open_db(config.db_url)
    try:
        found = store.list_access_keys()
    finally:
        store.close()
    if as_json:
        click.echo(orjson.dumps([_summary(k, config) for k in found]).decode())
        return
    click.echo(f"{'ACCESS KEY ID':<20}  {'NAME':<24}  {'RIGHTS':<10}  {'CREATED':<25}  STORES")
    for k in found:
        rights = "read-only" if k.read_only else "read-write"
        created = k.created_at.isoformat(timespec="seconds")
        click.echo(
            f"{k.access_key_id:<20}  {k.name:<24}  {rights:<10}  {created:<25}  {_stores_text(k)}"
        )


@keys.command("delete")
@click.argument("access_key_id")
@db_option
def keys_delete(access_key_id: str, db_url: str | None) -> None:
    """Delete an access key; running servers refuse it within a second."""
    store = open_db(db_url)
    try:
        deleted = store.delete_access_key(access_key_id)
    finally:
        store.close()
    if not deleted:
        raise click.ClickException(f"there is no access key {access_key_id}")
    click.echo(f"Deleted access key {access_key_id}")

"""Import and export an identity store as JSON Lines (the format is in `idstore/transfer.py`).

    idstore export --store ID [--db URL] [-o FILE]          the store, on stdout or in FILE
    idstore import --store ID [--db URL] [--create] FILE    all or nothing; again is a no-op

Both show a progress bar on stderr when stderr is a terminal, and nothing else there
otherwise, so they script cleanly. An import reports the first bad line as `FILE:LINE: error`
and leaves the store unchanged.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

import click

from idstore.cli.common import db_option, open_db
from idstore.config import Config
from idstore.errors import IdstoreError, NotFound
from idstore.model import IdentityStore, IdFormat, now

if TYPE_CHECKING:
    from idstore.store import Store

store_option = click.option(
    "--store", "store_id", metavar="ID", required=True, help="The identity store (d-...)."
)


@contextmanager
def progress(label: str, length: int | None) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing on stderr if it is a terminal (None otherwise)."""
    if not length or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


@click.command("export")
@store_option
@db_option
@click.option(
    "-o",
    "--output",
    type=click.File("wb"),
    default="-",
    show_default=True,
    help="Where to write the JSON Lines ('-' is stdout).",
)
def export(store_id: str, db_url: str | None, output: IO[bytes]) -> None:
    """Export users, groups and memberships (ExternalIds included) as JSON Lines."""
    from idstore.transfer import export_lines

    store = open_db(db_url)
    try:
        counts = store.count_records(store_id)
        total = counts.users + counts.groups + counts.memberships
        with progress("Exporting", total) as step:
            for number, line in enumerate(export_lines(store, store_id)):
                output.write(line)
                if step is not None and number:  # the first line is the header
                    step(1)
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        output.flush()
        store.close()


@click.command("import")
@store_option
@db_option
@click.option("--create", is_flag=True, help="Create the identity store if it does not exist.")
@click.option(
    "--atomic",
    is_flag=True,
    help="One transaction, all or nothing. It holds the database's write lock until done, so "
    "a live server's writes wait (and may time out) meanwhile.",
)
@click.argument("file", type=click.File("rb"))
def import_(store_id: str, db_url: str | None, create: bool, atomic: bool, file: IO[bytes]) -> None:
    """Import a JSON Lines file (as `idstore export` writes it) into an identity store.

    Users and groups are matched by id: new ones are added, existing ones replaced by the
    file's. Memberships are added unless the user already is in the group. The whole file is
    checked before anything is written. The records are then committed in batches of 10,000,
    so that a server using the database keeps serving writes; if the import fails midway, the
    batches before the failure stay in (run the fixed file again: importing is a merge).
    --atomic: all or nothing.
    """
    from idstore.transfer import ImportFailed, Reader, import_records

    name = getattr(file, "name", "-")
    try:
        config = Config.from_env(db_url=db_url)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    store = open_db(config.db_url)
    started = time.perf_counter()
    try:
        target = _existing_store(store, store_id, create=create)
        reader = Reader(
            store_id,
            actor=f"arn:aws:iam::{config.account_id}:root",
            at=now(),
            id_format=IdFormat.UUID if target is None else target.id_format,
        )
        with progress("Reading  ", _size(file)) as step:
            records = reader.read(file, step)
        total = len(records.users) + len(records.groups) + len(records.memberships)
        # A store to create is created once the file has been read, and removed again if
        # nothing of it could be imported: a failed import leaves no empty store behind.
        if target is None:
            store.create_identity_store(now(), store_id)
        try:
            with progress("Importing", total) as step:
                counts = import_records(store, store_id, records, progress=step, atomic=atomic)
        except ImportFailed as failed:
            if target is None and failed.done is None:
                store.delete_identity_store(store_id)
            raise
    except ImportFailed as failed:
        where = f"{name}:{failed.line}" if failed.line else name
        done = failed.done
        what = (
            "nothing was imported"
            if done is None
            else f"the {done.users} users, {done.groups} groups and {done.memberships} "
            "memberships before it were imported; importing the fixed file again completes it"
        )
        raise click.ClickException(f"{where}: {failed.message} ({what})") from None
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()
    seconds = time.perf_counter() - started
    click.echo(
        f"Imported {counts.users} users, {counts.groups} groups and {counts.memberships} "
        f"memberships into {store_id} in {seconds:.1f} s"
    )


def _existing_store(store: Store, store_id: str, *, create: bool) -> IdentityStore | None:
    """The store to import into, or None when `create` asks for it to be made (its id is
    checked first)."""
    try:
        return store.get_identity_store(store_id)
    except NotFound as missing:
        if not create:
            raise click.ClickException(
                f"{missing.message}; to create it with the file's data, add --create"
            ) from None
        from idstore.aws.spec import load_spec
        from idstore.aws.validate import Validator

        spec = load_spec()
        Validator(spec).check(spec.shape("IdentityStoreId"), store_id, "identityStoreId")
        if store_id.startswith("arn:"):
            raise click.ClickException("--store must be an identity store id, not an ARN") from None
        return None


def _size(file: IO[bytes]) -> int | None:
    try:
        return os.fstat(file.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):
        return None

"""Back up, check and restore a database (the format is in `idstore/store/backup.py`).

    idstore backup [--db URL] -o FILE        a consistent snapshot while servers run
    idstore backup --verify FILE             checks a backup and counts what it holds
    idstore restore [--db URL] [--replace] FILE
                                             into an empty database (or --replace its contents)

A progress bar is drawn on stderr when it is a terminal. The server key is not in a backup:
back it up apart (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import click

from idstore.cli.common import db_option, resolve_db_url
from idstore.cli.transfer import progress


def _progress(stack: ExitStack, label: str) -> Callable[[int], Callable[[int], None] | None]:
    """The store's progress hook: a bar on stderr (if a terminal) once the total is known."""
    return lambda total: stack.enter_context(progress(label, total))


@click.command("backup")
@db_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (a SQLite database; it must not exist).",
)
@click.option(
    "--verify",
    "verify_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check this backup file instead of writing one, and count what it holds.",
)
def backup(db_url: str | None, output: Path | None, verify_file: Path | None) -> None:
    """Write a consistent snapshot of the database (SQLite or PostgreSQL) to a file."""
    from idstore.store.backup import BackupError, verify
    from idstore.store.backup import backup as run_backup

    if (output is None) == (verify_file is None):
        raise click.UsageError("give either -o FILE (write a backup) or --verify FILE")
    try:
        if verify_file is not None:
            summary = verify(verify_file)
            click.echo(f"{verify_file}: ok, {summary.describe()}")
            return
        assert output is not None
        url = resolve_db_url(db_url)
        with ExitStack() as stack:
            summary = run_backup(url, output, progress=_progress(stack, "Backing up"))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {output}: {summary.describe()}")
    click.echo("The server key is not in the backup: keep a copy of it apart.", err=True)


@click.command("restore")
@db_option
@click.option(
    "--replace",
    is_flag=True,
    help="Delete what the database holds and restore over it (otherwise it must be empty).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore(db_url: str | None, replace: bool, file: Path) -> None:
    """Restore a backup (from `idstore backup`) into a database, in one transaction."""
    from idstore.store.backup import BackupError
    from idstore.store.backup import restore as run_restore

    url = resolve_db_url(db_url)
    try:
        with ExitStack() as stack:
            summary = run_restore(
                file, url, replace=replace, progress=_progress(stack, "Restoring")
            )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file} into {url}: {summary.describe()}")

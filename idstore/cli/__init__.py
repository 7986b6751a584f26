"""The `idstore` command line. Other tools rely on these names and outputs; keep them stable.

    idstore serve [--host 127.0.0.1] [--port 8765] [--db URL] [--workers N] [--auth none|sigv4]
    idstore db upgrade [--db URL]         applies pending migrations, prints the revision
    idstore stores create [--db URL]      prints the new store id alone on the last line
    idstore stores list [--db URL]
    idstore scim-tokens create --store ID [--db URL]   prints the token alone on the last line
    idstore scim-tokens list --store ID [--db URL]
    idstore scim-tokens delete --store ID TOKEN_ID [--db URL]
    idstore export --store ID [--db URL] [-o FILE]          JSON Lines on stdout (or FILE)
    idstore import --store ID [--db URL] [--create] FILE    all or nothing; prints a summary
    idstore users list|show, idstore groups list|show|members --store ID [--json]
    idstore keys create (--store ID ... | --all-stores) --name NAME [--read-only] [--json]
                        [--profile P] [--credentials-file PATH]
    idstore keys list [--json] [--db URL]
    idstore keys delete ACCESS_KEY_ID [--db URL]
    idstore backup [--db URL] -o FILE | --verify FILE    a consistent snapshot; checks one
    idstore restore [--db URL] [--replace] FILE          into an empty database

One module per command group; this one assembles them. The database is `--db`, else
`IDSTORE_DB`, else `idstore.db` in the working directory, each a file path or a URL
(`config.database_url`); every command opens the store through
`open_store`, which applies pending migrations. Heavy imports (SQLAlchemy, alembic, the web
server) happen inside the commands that need them, so `--help` is instant.
"""

from __future__ import annotations

import click

from idstore import __version__
from idstore.cli import backup, browse, keys, scim_tokens, server, stores, transfer


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idstore")
def main() -> None:
    """idstore: a self-hostable AWS Identity Store (identitystore API and SCIM)."""


main.add_command(server.serve)
main.add_command(server.db)
main.add_command(stores.stores)
main.add_command(scim_tokens.scim_tokens)
main.add_command(transfer.export)
main.add_command(transfer.import_)
main.add_command(browse.users)
main.add_command(browse.groups)
main.add_command(keys.keys)
main.add_command(backup.backup)
main.add_command(backup.restore)

__all__ = ["main"]

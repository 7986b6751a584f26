"""The `idstore` command line. Other tools rely on these names and outputs; keep them stable.

    idstore serve [--host 127.0.0.1] [--port 8765] [--db URL] [--workers N]
    idstore db upgrade [--db URL]         applies pending migrations, prints the revision
    idstore stores create [--db URL]      prints the new store id alone on the last line
    idstore stores list [--db URL]

One module per command group; this one assembles them. The database is `--db`, else
`IDSTORE_DB`, else `idstore.db` in the working directory; every command opens the store through
`open_store`, which applies pending migrations. Heavy imports (SQLAlchemy, alembic, the web
server) happen inside the commands that need them, so `--help` is instant.
"""

from __future__ import annotations

import click

from idstore import __version__
from idstore.cli import server, stores


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idstore")
def main() -> None:
    """idstore: a self-hostable AWS Identity Store (identitystore API and SCIM)."""


main.add_command(server.serve)
main.add_command(server.db)
main.add_command(stores.stores)

__all__ = ["main"]

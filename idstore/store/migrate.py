"""Schema migrations: alembic, run programmatically on a connection we hold a lock on.

Several servers may start at once on one database. Each takes a lock first (PostgreSQL: an
advisory transaction lock; SQLite: `BEGIN IMMEDIATE`), so exactly one applies the migrations
and the others then find the schema current. Migrations run inside that one transaction, so a
crash mid-upgrade leaves the previous schema (both dialects have transactional DDL).

Opening a database that is already current is the common case (every server start, every CLI
command), so it is checked first with one plain query against `HEAD`, and alembic, a tenth of a
second of imports, is loaded only when there is something to do. A test keeps `HEAD` equal to
alembic's head revision.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# The newest migration's revision id (tests/store/test_migrations.py checks it).
HEAD = "0005"

_LOCATION = str(Path(__file__).with_name("migrations"))
# An arbitrary constant that names idstore's migration lock among advisory locks.
_ADVISORY_LOCK = 0x1D5704E


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", _LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest migration's revision id, as alembic finds it."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def known_revisions() -> set[str]:
    """Every revision id this version of idstore has a migration for."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        try:
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no version table: an empty database
            rev = None
        conn.rollback()
        return None if rev is None else str(rev)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is current."""
    if current(engine) == HEAD:
        return
    from alembic import command

    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
            command.upgrade(alembic_config(conn), "head")

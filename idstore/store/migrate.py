"""Schema migrations: alembic, run programmatically on a connection we hold a lock on.

Several servers may start at once on one database. Each takes a lock first (PostgreSQL: an
advisory transaction lock; SQLite: `BEGIN IMMEDIATE`), so exactly one applies the migrations
and the others then find the schema current. Migrations run inside that one transaction, so a
crash mid-upgrade leaves the previous schema (both dialects have transactional DDL).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

_LOCATION = str(Path(__file__).with_name("migrations"))
# An arbitrary constant that names idstore's migration lock among advisory locks.
_ADVISORY_LOCK = 0x1D5704E


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", _LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest migration's revision id."""
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
        return rev


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is current."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
            command.upgrade(alembic_config(conn), "head")

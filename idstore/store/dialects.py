"""The only place that tells SQLite from PostgreSQL.

- `create_engine_for(url)`: the engine for a URL. `postgresql://` means psycopg 3. SQLite gets
  its file created 0600 (files.py), WAL, foreign keys, a busy timeout and `synchronous`
  (NORMAL by default: a committed write survives a crash of the process, which is what
  `kill -9` tests; `FULL` also survives power loss, at the price of an fsync per commit; set
  `IDSTORE_SQLITE_SYNCHRONOUS`). The driver's own transaction handling is switched off so
  that we can send `BEGIN IMMEDIATE` for writes: a writer takes the lock up front instead of
  failing to upgrade a read lock later.
- `constraint_of(error)`: which constraint a driver's IntegrityError names, on either dialect.
- `is_transient(error)`: whether the whole transaction may simply be run again (PostgreSQL
  serialization failures and deadlocks, SQLite's busy lock, a dropped connection).
- `insert_for(dialect)`: that dialect's `insert`, the one construct that can add `ON CONFLICT
  ...` (both dialects spell the clause alike; SQLAlchemy has a construct per dialect). Imported
  on first use: the PostgreSQL dialect's module is tens of milliseconds of start-up.
"""

from __future__ import annotations

import os
import re
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool

from idstore.store import files

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def insert_for(dialect: str) -> Any:
    """The dialect's own `insert` construct (it has `on_conflict_do_*`)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def is_memory(url: str) -> bool:
    u = make_url(url)
    return u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:")


def _sqlite_synchronous() -> str:
    value = os.environ.get("IDSTORE_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise ValueError(
            f"IDSTORE_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}"
        )
    return value


def create_engine_for(url: str) -> Engine:
    """An engine for `url`, configured for this dialect."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_size=32, max_overflow=32, pool_recycle=3600)
    if backend != "sqlite":
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://")
    if is_memory(url):
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _configure_sqlite(engine, synchronous="OFF", wal=False)
    else:
        path = files.database_file(url)
        if path is not None:
            files.create_private(path)  # before SQLite makes it world-readable (files.py)
        engine = create_engine(u, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, synchronous=_sqlite_synchronous(), wal=True)
    return engine


def _configure_sqlite(engine: Engine, *, synchronous: str, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Checkpoint every 10,000 pages rather than 1,000: each checkpoint is an fsync, and a
        # larger write-ahead log costs readers little.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        # Read pages through a memory map and keep more of them cached: at a million users the
        # indexes no longer fit the default 2 MiB cache, and a page read is then a system call.
        cursor.execute("PRAGMA mmap_size=4294967296")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


def constraint_of(error: BaseException, metadata: MetaData) -> str | None:
    """The name of the constraint a driver's IntegrityError reports, or `"foreign_key"` for
    SQLite's anonymous foreign-key failures. Accepts the driver's exception or SQLAlchemy's
    wrapper of it."""
    orig = getattr(error, "orig", None) or error
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        name = getattr(diag, "constraint_name", None)
        return str(name) if name else None
    text = str(orig)
    if "FOREIGN KEY constraint failed" in text:
        return "foreign_key"
    match = _SQLITE_UNIQUE.search(text)
    if not match:
        return None
    columns = [part.strip() for part in match.group(1).split(",")]
    return _sqlite_unique_names(metadata).get(tuple(columns))


_unique_cache: dict[int, dict[tuple[str, ...], str]] = {}


def _sqlite_unique_names(metadata: MetaData) -> dict[tuple[str, ...], str]:
    """Map SQLite's `table.column, ...` wording to our constraint names."""
    key = id(metadata)
    if key not in _unique_cache:
        names: dict[tuple[str, ...], str] = {}
        for table in metadata.tables.values():
            for constraint in table.constraints:
                cols = getattr(constraint, "columns", None)
                if (
                    constraint.name
                    and cols is not None
                    and type(constraint).__name__
                    in (
                        "UniqueConstraint",
                        "PrimaryKeyConstraint",
                    )
                ):
                    names[tuple(f"{table.name}.{c.name}" for c in cols)] = str(constraint.name)
        _unique_cache[key] = names
    return _unique_cache[key]


_TRANSIENT_SQLSTATES = {"40001", "40P01"}


def is_transient(error: BaseException, *, broken: bool = False) -> bool:
    """True when running the same transaction again may succeed: a serialization failure or
    deadlock (PostgreSQL), a busy database (SQLite), or a connection that broke."""
    if broken or getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", None) or error
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    text = str(orig)
    return "database is locked" in text or "database table is locked" in text

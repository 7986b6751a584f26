"""What differs between SQLite and PostgreSQL when connecting, and in their errors.

Most of the differences live here; the others sit where they are used, each small: the
in-memory template (`store/__init__.py`), the advisory lock around migrations (`migrate.py`),
the statement cache and SQLite's shared in-memory connection (`sql.py`), the integer type of
the `seq` columns (`schema.py` and the migrations), whether requests run on the event loop or in
a thread pool (`app.py`), and where the server key file is by default (`serverkey.py`).

This module reads one environment variable itself, IDSTORE_SQLITE_SYNCHRONOUS, each time it
creates a SQLite engine (it is a SQLite setting, of no use to the rest of the configuration).

- `create_engine_for(url)`: the engine for a URL. `postgresql://` means psycopg 3. SQLite gets
  its file created 0600 (files.py), WAL, foreign keys, a busy timeout and `synchronous`
  (NORMAL by default: a committed write survives a crash of the process, which is what
  `kill -9` tests; `FULL` also survives power loss, at the price of an fsync per commit; set
  `IDSTORE_SQLITE_SYNCHRONOUS`). The driver's own transaction handling is switched off so
  that we can send `BEGIN IMMEDIATE` for writes: a writer takes the lock up front instead of
  failing to upgrade a read lock later.
- `constraint_of(error)`: which constraint a driver's IntegrityError names, on either dialect.
- `failure(error)`: what a driver error means for the transaction that raised it: a lock
  wait ran out (`"lock"`: SQLite's busy timeout, PostgreSQL's `lock_timeout`), the database
  refused it but it may run again (`"retry"`: serialization failures, deadlocks), the
  connection broke (`"lost"`), or anything else.
- Waits are bounded by `lock_timeout` seconds (see docs/durability.md): SQLite's busy timeout,
  PostgreSQL's `lock_timeout` (set per transaction by the Store), its pool's checkout timeout
  and its connect timeout.
- `insert_for(dialect)`: that dialect's `insert`, the one construct that can add `ON CONFLICT
  ...` (both dialects spell the clause alike; SQLAlchemy has a construct per dialect). Imported
  on first use: the PostgreSQL dialect's module is tens of milliseconds of start-up.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, Literal

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool, StaticPool

from idstore.store import files

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
# How long a request may wait for a lock or a connection, by default (seconds).
DEFAULT_LOCK_TIMEOUT = 5.0

Failure = Literal["lock", "retry", "lost", "other"]


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


def create_engine_for(url: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Engine:
    """An engine for `url`, configured for this dialect; no wait lasts beyond `lock_timeout`
    seconds."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(
            u,
            pool_size=32,
            max_overflow=32,
            pool_recycle=3600,
            pool_timeout=lock_timeout,
            connect_args={
                # Whole seconds (libpq's unit), at least 2 (libpq's minimum).
                "connect_timeout": max(2, math.ceil(lock_timeout)),
                # Reads too: a table locked exclusively (LOCK TABLE, a migration elsewhere)
                # must not hold a thread forever. Writes set their own, per transaction.
                "options": f"-c lock_timeout={max(1, round(lock_timeout * 1000))}",
            },
        )
    if backend != "sqlite":
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://")
    busy_ms = max(1, round(lock_timeout * 1000))
    if is_memory(url):
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _configure_sqlite(engine, synchronous="OFF", wal=False, busy_ms=busy_ms)
    else:
        path = files.database_file(url)
        if path is not None:
            files.create_private(path)  # before SQLite makes it world-readable (files.py)
        # The Store keeps its own connections (sql.Pool): the engine only opens them.
        engine = create_engine(u, poolclass=NullPool, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, synchronous=_sqlite_synchronous(), wal=True, busy_ms=busy_ms)
    return engine


def _configure_sqlite(engine: Engine, *, synchronous: str, wal: bool, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
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
    """Map SQLite's `table.column, ...` wording to our constraint (and unique index) names."""
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
            for index in table.indexes:  # SQLite words a unique index's failure the same way
                if index.unique and index.name:
                    names[tuple(f"{table.name}.{c.name}" for c in index.columns)] = str(index.name)
        _unique_cache[key] = names
    return _unique_cache[key]


# PostgreSQL: serialization failure, deadlock; lock_not_available (lock_timeout), query_canceled
# (statement_timeout or a cancel).
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
_LOCK_SQLSTATES = frozenset({"55P03", "57014"})
# The server ended the session: admin_shutdown, crash_shutdown, cannot_connect_now (and class
# 08, connection exceptions).
_GONE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def failure(error: BaseException, *, broken: bool = False) -> Failure:
    """What a driver error (or SQLAlchemy's wrapper of one) means for its transaction.

    - `"lock"`: a wait for a lock ran out (SQLite's busy timeout: "database is locked";
      PostgreSQL's lock_timeout or statement_timeout). The wait was the caller's budget.
    - `"retry"`: PostgreSQL refused the transaction but running it again may succeed
      (serialization failure, deadlock). It did not commit.
    - `"lost"`: the connection broke (or could not be made). Whether a COMMIT sent on it took
      effect is unknown; anything before the COMMIT did not.
    - `"other"`: a bug or a constraint; not retried.
    """
    orig = getattr(error, "orig", None) or error
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return "retry"
    if sqlstate in _LOCK_SQLSTATES:
        return "lock"
    if broken or getattr(error, "connection_invalidated", False):
        return "lost"
    if sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _GONE_SQLSTATES):
        return "lost"
    text = str(orig)
    if "database is locked" in text or "database table is locked" in text:
        return "lock"
    if type(orig).__module__.startswith("psycopg") and type(orig).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        # A connection that cannot be made, or was closed under us, carries no SQLSTATE.
        # (SQLite's own OperationalErrors, other than the busy lock, are not waits.)
        return "lost"
    return "other"

"""Statements compiled once per dialect, run on pooled DBAPI connections.

Why. The Store's statements are SQLAlchemy Core constructs, compiled by SQLAlchemy for the
engine's dialect, on connections from SQLAlchemy's engine. What this module skips is
SQLAlchemy's per-execution machinery: measured on SQLite, a cached Core `select` costs about
120 µs per execution on a held connection (240 µs with a pool checkout), against 12 µs for the
same compiled SQL on the DBAPI cursor. At the request rates idstore aims for, that difference is
the whole budget, so statements are compiled once (`Compiled`) and executed here.

Connections run in autocommit mode; a write transaction is an explicit `BEGIN` (SQLite:
`BEGIN IMMEDIATE`, which takes the write lock up front) ... `COMMIT`. A read is a single
statement, consistent on its own, with no transaction round trips.

Each write transaction bounds its lock waits (SQLite's busy timeout, PostgreSQL's `SET LOCAL
lock_timeout`), and on PostgreSQL learns its transaction id in the same round trip as its
`BEGIN`: if the connection breaks while its COMMIT is in flight, `commit_status` asks the
server's commit log (`pg_xact_status`) on another connection whether it took effect.

The statements use only types that need no bind or result processing (integers, text), so the
values passed and returned are the driver's own.

Text no database can hold (a NUL, which PostgreSQL text refuses; a lone surrogate, which is not
UTF-8) can equal no stored value: the driver refuses it before anything is sent, and then a
read of it finds nothing and a delete deletes nothing, on both dialects alike, while a write
of it is InvalidInput. So odd input from any front end is never a driver error. (The check
runs only after the driver has refused: nothing is added to the normal path.)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Delete, Engine, Select
from sqlalchemy.sql import ClauseElement

from idstore.errors import InvalidInput
from idstore.model import storable

Row = tuple[Any, ...]
_CANNOT_STORE = "Text with a NUL character or a lone surrogate cannot be stored."


@dataclass(frozen=True)
class Compiled:
    """One statement's SQL for one dialect, and how to pass its parameters."""

    sql: str
    # Parameter names in placeholder order (qmark drivers), or None (named: pyformat).
    order: tuple[str, ...] | None
    defaults: Mapping[str, Any]

    def args(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.defaults:
            params = {**self.defaults, **params}
        if self.order is None:
            return params
        return [params[name] for name in self.order]


class Statements:
    """Compiles Core statements for one dialect, once each."""

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect
        # What the drivers raise for text they cannot send (see the module docstring).
        self.refused: tuple[type[Exception], ...] = (
            UnicodeEncodeError,
            engine.dialect.loaded_dbapi.DataError,
        )
        self._cache: dict[int, tuple[ClauseElement, Compiled]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, statement: ClauseElement) -> Compiled:
        found = self._cache.get(id(statement))
        if found is not None:
            return found[1]
        compiled = statement.compile(dialect=self._dialect)
        order = getattr(compiled, "positiontup", None)
        defaults = {name: value for name, value in compiled.params.items() if value is not None}
        result = Compiled(compiled.string, tuple(order) if order is not None else None, defaults)
        with self._lock:
            # Keep the statement alive with its entry, so that its id cannot be reused.
            self._cache[id(statement)] = (statement, result)
        return result


class Connection:
    """A DBAPI connection in autocommit mode, with the few calls the Store makes."""

    def __init__(
        self, fairy: Any, statements: Statements, *, sqlite: bool, busy_ms: int | None = None
    ) -> None:
        self._fairy = fairy  # SQLAlchemy's pooled wrapper; closing it returns the connection
        self._raw = fairy.driver_connection
        self._statements = statements
        self._sqlite = sqlite
        self._busy_ms: int | None = None  # SQLite: the busy timeout last set here
        self._failed = False
        if not sqlite:
            self._raw.autocommit = True
        elif busy_ms is not None:
            self._set_busy(busy_ms)

    def limit_waits(self, ms: int) -> None:
        """SQLite: wait at most `ms` milliseconds for a lock from now on (a write's BEGIN sets
        its own). PostgreSQL: nothing (reads take no locks)."""
        if self._sqlite:
            self._set_busy(max(1, ms))

    def _set_busy(self, ms: int) -> None:
        if ms != self._busy_ms:
            self._raw.execute(f"PRAGMA busy_timeout = {int(ms)}")
            self._busy_ms = ms

    def _cursor(self, statement: ClauseElement, params: Mapping[str, Any]) -> Any:
        compiled = self._statements[statement]
        # Both drivers' connections execute directly, with a cursor of their own.
        return self._raw.execute(compiled.sql, compiled.args(params))

    def one(self, statement: ClauseElement, **params: Any) -> Row | None:
        try:
            return self._cursor(statement, params).fetchone()  # type: ignore[no-any-return]
        except self._statements.refused:
            _refused(statement, params)
            return None

    def all(self, statement: ClauseElement, **params: Any) -> list[Row]:
        try:
            return self._cursor(statement, params).fetchall()  # type: ignore[no-any-return]
        except self._statements.refused:
            _refused(statement, params)
            return []

    def scalar(self, statement: ClauseElement, **params: Any) -> Any:
        row = self.one(statement, **params)
        return None if row is None else row[0]

    def run(self, statement: ClauseElement, **params: Any) -> int:
        """Execute a write; return the number of rows it affected."""
        try:
            cursor = self._cursor(statement, params)
        except self._statements.refused:
            _refused(statement, params)
            return 0
        count = cursor.rowcount
        cursor.close()
        return int(count)

    def run_many(self, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = self._statements[statement]
        cursor = self._raw.cursor()
        try:
            cursor.executemany(compiled.sql, [compiled.args(r) for r in rows])
        except self._statements.refused:
            if any(_unstorable(row) for row in rows):
                raise InvalidInput(_CANNOT_STORE) from None
            raise
        finally:
            cursor.close()

    def begin(self, lock_ms: int | None = None) -> str | None:
        """Begin a write transaction whose lock waits last at most `lock_ms` milliseconds
        (None: the connection's default). PostgreSQL: return its transaction id, in the same
        round trip."""
        if self._sqlite:
            if lock_ms is not None:
                self._set_busy(max(1, lock_ms))
            self._raw.execute("BEGIN IMMEDIATE")
            return None
        timeout = f"SET LOCAL lock_timeout = {max(1, int(lock_ms))}; " if lock_ms else ""
        cursor = self._raw.execute(f"BEGIN; {timeout}SELECT pg_current_xact_id()::text")
        while cursor.nextset():  # the last result is the id's
            pass
        return str(cursor.fetchone()[0])

    def commit_status(self, xid: str) -> str | None:
        """PostgreSQL: `committed`, `aborted` or `in progress` for a recent transaction id."""
        row = self._raw.execute("SELECT pg_xact_status(%s::xid8)", [xid]).fetchone()
        return None if row is None else row[0]

    def begin_snapshot(self) -> None:
        """A read-only transaction in which every statement sees the same snapshot (for a
        read that spans many statements, such as an export). It takes no write lock."""
        self._raw.execute(
            "BEGIN" if self._sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        )

    @contextmanager
    def large_cache(self, mib: int) -> Iterator[None]:
        """SQLite: a page cache of `mib` MiB while the block runs, for a transaction that
        touches many pages (with the default 2 MiB, a bulk load thrashes its indexes), then the
        default again. PostgreSQL: nothing (its cache is the server's)."""
        if not self._sqlite:
            yield
            return
        default = self._raw.execute("PRAGMA cache_size").fetchone()[0]
        self._raw.execute(f"PRAGMA cache_size = {-1024 * int(mib)}")
        try:
            yield
        finally:
            self._raw.execute(f"PRAGMA cache_size = {int(default)}")

    def commit(self) -> None:
        self._raw.execute("COMMIT")

    def rollback(self) -> None:
        self._raw.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection (as the driver knows it)."""
        if self._sqlite:
            return bool(self._raw.in_transaction)
        return bool(self._raw.info.transaction_status != 0)  # psycopg: 0 is IDLE

    def mark_broken(self) -> None:
        """Do not reuse this connection (its transaction state is unknown)."""
        self._failed = True

    @property
    def broken(self) -> bool:
        return self._failed or bool(
            getattr(self._raw, "broken", False) or getattr(self._raw, "closed", False)
        )

    def close(self) -> None:
        self._fairy.close()

    def invalidate(self) -> None:
        self._fairy.invalidate()


def _unstorable(params: Mapping[str, Any]) -> bool:
    """Whether a text parameter is one no database can hold (see the module docstring)."""
    return any(isinstance(v, str) and not storable(v) for v in params.values())


def _refused(statement: ClauseElement, params: Mapping[str, Any]) -> None:
    """In an `except` block for a refused statement: return if it only compares such text
    (a query or a delete: it matches nothing); InvalidInput if it would store it (an insert,
    an update); otherwise re-raise the driver's error."""
    if not _unstorable(params):
        raise  # the driver's error that the caller is handling
    if not isinstance(statement, Select | CompoundSelect | Delete):
        raise InvalidInput(_CANNOT_STORE) from None


class Pool:
    """Connections for the Store: reused most-recently-first, opened through the engine.

    An in-memory SQLite database is a single connection; callers take turns on it (`shared`).
    """

    def __init__(self, engine: Engine, *, shared: bool, busy_ms: int | None = None) -> None:
        self._engine = engine
        self._busy_ms = busy_ms  # SQLite: each connection's busy timeout, else the engine's
        self._statements = Statements(engine)
        self._sqlite = engine.dialect.name == "sqlite"
        # Idle connections; deque.append/pop are atomic, so no lock is needed on the hot path.
        self._idle: deque[Connection] = deque()
        self._all: list[Connection] = []
        self._lock = threading.Lock()
        self._turns: threading.RLock | None = threading.RLock() if shared else None
        self._shared: Connection | None = None

    def acquire(self) -> Connection:
        """A connection for the caller's sole use until `release` (or `discard`)."""
        if self._turns is not None:
            self._turns.acquire()
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        try:
            return self._idle.pop()
        except IndexError:
            return self._open()

    def release(self, conn: Connection) -> None:
        if self._turns is not None:
            self._turns.release()
        elif conn.broken:
            self._discard(conn)
        else:
            self._idle.append(conn)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        conn = self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    @property
    def in_use(self) -> int:
        """Connections handed out and not yet released (an estimate while others move)."""
        return max(0, len(self._all) - len(self._idle))

    def discard_idle(self) -> None:
        """Close the idle connections (after one broke: the server may have ended them all)."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            self._discard(conn)

    def _open(self) -> Connection:
        conn = Connection(
            self._engine.raw_connection(),
            self._statements,
            sqlite=self._sqlite,
            busy_ms=self._busy_ms,
        )
        with self._lock:
            self._all.append(conn)
        return conn

    def _discard(self, conn: Connection) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        with suppress(Exception):
            conn.invalidate()

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(Exception):
                conn.close()
        self._shared = None

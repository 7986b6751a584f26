"""Persistence: `open_store(url)` returns a migrated `Store` for a SQLite or PostgreSQL URL.

`sqlite://` (no file) is an in-memory database, used by the test mode. Migrating one from
scratch costs tens of milliseconds, so each process migrates a template once and copies it
into every new in-memory database with SQLite's backup API.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from idstore.store import dialects, migrate
from idstore.store.store import Store
from idstore.store.transactions import WouldBlock

__all__ = ["Store", "WouldBlock", "open_store"]

_template_lock = threading.Lock()
_template: list[Any] = []


def open_store(
    url: str, *, upgrade: bool = True, lock_timeout: float = dialects.DEFAULT_LOCK_TIMEOUT
) -> Store:
    """A Store on `url`. With `upgrade`, migrations are applied first. A request waits at most
    `lock_timeout` seconds for a lock or a connection (then: `errors.Unavailable`)."""
    engine = dialects.create_engine_for(url, lock_timeout=lock_timeout)
    if dialects.is_memory(url):
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            with _template_lock:
                _memory_template().backup(raw)
        return Store(engine, shared_connection=True, lock_timeout=lock_timeout)
    if upgrade:
        migrate.upgrade(engine)
    return Store(engine, lock_timeout=lock_timeout)


def _memory_template() -> sqlite3.Connection:
    """The migrated template database (call with `_template_lock` held)."""
    if not _template:
        engine = dialects.create_engine_for("sqlite://")
        migrate.upgrade(engine)
        conn = engine.connect()  # kept open: the template lives as long as the process
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        _template.append((engine, conn, raw))
    return _template[0][2]  # type: ignore[no-any-return]

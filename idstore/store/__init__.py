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

__all__ = ["Store", "open_store"]

_template_lock = threading.Lock()
_template: list[Any] = []


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """A Store on `url`. With `upgrade`, migrations are applied first."""
    engine = dialects.create_engine_for(url)
    if dialects.is_memory(url):
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            with _template_lock:
                _memory_template().backup(raw)
        return Store(engine, shared_connection=True)
    if upgrade:
        migrate.upgrade(engine)
    return Store(engine)


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

"""Another database session that takes the lock idstore's writes need, for as long as a test says.

- SQLite: a connection of its own on the file, in `BEGIN IMMEDIATE` (the write lock), as a
  second server, `idstore import` or any other writer would hold it.
- PostgreSQL: a session holding the identity store's row `FOR UPDATE`: every write that
  changes the number of users or groups locks that row first (see store/store.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import make_url


@contextmanager
def holding_write_lock(db_url: str, store_id: str) -> Iterator[None]:
    """Hold the lock while the block runs; release it (rolling back) on the way out."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        conn: Any = sqlite3.connect(str(url.database), isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
        conn.execute(
            "SELECT seq FROM identity_stores WHERE store_id = %s FOR UPDATE", [store_id]
        ).fetchall()
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@contextmanager
def lock_in_background(db_url: str, store_id: str, seconds: float) -> Iterator[threading.Event]:
    """Take the lock now and release it `seconds` later, from a thread; the event is set
    once it is released. Waits for the release on the way out."""
    taken = threading.Event()
    released = threading.Event()

    def hold() -> None:
        with holding_write_lock(db_url, store_id):
            taken.set()
            released.wait(seconds)
        released.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    taken.wait(30)
    try:
        yield released
    finally:
        thread.join(seconds + 30)


@contextmanager
def holding_exclusive_lock(db_url: str) -> Iterator[None]:
    """Lock out readers too, where the database can, while the block runs: PostgreSQL's `LOCK
    TABLE users IN ACCESS EXCLUSIVE MODE` (what some migrations take). SQLite in WAL mode
    cannot lock readers out: `BEGIN EXCLUSIVE` there is the write lock only."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        # In WAL mode no other connection can lock readers out while the server has the file
        # open (exclusive locking mode needs it alone): the most there is, is this.
        conn: Any = sqlite3.connect(str(url.database), isolation_level=None, timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE settings SET value = value")
    else:
        import psycopg

        conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
        conn.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()

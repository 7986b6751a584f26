"""How driver errors are read: what may be retried, what was a lock wait, what lost the
connection (store/dialects.py). A transaction is run again only when it certainly did not
commit; the Store decides that from these kinds and from where the error came."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors as pg

from idstore.store import dialects


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (sqlite3.OperationalError("database is locked"), "lock"),
        (sqlite3.OperationalError("database table is locked"), "lock"),
        (sqlite3.OperationalError("no such table: users"), "other"),
        (sqlite3.IntegrityError("UNIQUE constraint failed: users.user_id"), "other"),
        (pg.LockNotAvailable("canceling statement due to lock timeout"), "lock"),
        (pg.QueryCanceled("canceling statement due to statement timeout"), "lock"),
        (pg.SerializationFailure("could not serialize access"), "retry"),
        (pg.DeadlockDetected("deadlock detected"), "retry"),
        (pg.AdminShutdown("terminating connection due to administrator command"), "lost"),
        (pg.CannotConnectNow("the database system is starting up"), "lost"),
        (pg.ConnectionFailure("connection failure"), "lost"),
        (psycopg.OperationalError("server closed the connection unexpectedly"), "lost"),
        (psycopg.InterfaceError("the connection is closed"), "lost"),
        (pg.UniqueViolation("duplicate key value"), "other"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value,
)
def test_driver_errors_are_classified(error: Exception, kind: str) -> None:
    assert dialects.failure(error) == kind


def test_a_broken_connection_is_a_lost_one_whatever_the_error() -> None:
    assert dialects.failure(sqlite3.OperationalError("disk I/O error"), broken=True) == "lost"
    # ... except what the server answered before it went: those did not commit either way.
    assert dialects.failure(pg.SerializationFailure("x"), broken=True) == "retry"

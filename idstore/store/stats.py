"""Cheap reads for operations: whether the database is ready, and how big each store is.

`readiness(store)` is what `GET /ready` asks: the database answers, and its schema is the one
this idstore writes. `store_sizes(store)` is what a metrics scrape reads: the user and group
counters kept on each identity store row (O(1) per store), and one grouped count of
memberships over the index on their store id, for at most `limit` stores.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from idstore.store import migrate
from idstore.store.schema import identity_stores, memberships
from idstore.store.store import Store

__all__ = ["readiness", "store_sizes"]


def readiness(store: Store) -> str | None:
    """None when the database is reachable and current; otherwise why not, for the operator."""
    try:
        with store.engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            conn.rollback()
    except Exception as error:  # any driver error (the server migrated at start: not a schema)
        return f"database unreachable: {type(error).__name__}"
    if revision != migrate.HEAD:
        return f"database schema is {revision}, this server needs {migrate.HEAD}"
    return None


def store_sizes(store: Store, limit: int = 1000) -> list[tuple[str, int, int, int]]:
    """(store id, users, groups, memberships) for the first `limit` identity stores."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                identity_stores.c.store_id,
                identity_stores.c.user_count,
                identity_stores.c.group_count,
            )
            .order_by(identity_stores.c.seq)
            .limit(limit)
        ).all()
        counts: dict[str, int] = dict(
            conn.execute(
                select(memberships.c.store_id, func.count()).group_by(memberships.c.store_id)
            ).all()
        )
        conn.rollback()
    return [(sid, int(users), int(groups), int(counts.get(sid, 0))) for sid, users, groups in rows]

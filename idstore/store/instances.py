"""Identity Center instances: creating one (idempotently), finding a store by its instance
id, and instance names.

A mixin of `Store` (see `store.py` for the transaction contract). An identity store *is* an
instance. Its instance id is `model.instance_id(store_id)`, set when the row is inserted
(`statements.insert_store`) and kept in the store row's `instance_id` column under a unique
index, so sso-admin finds the store an InstanceArn names with one indexed read, whatever the
number of stores. A row without one (inserted by an older idstore on the same database during
a rolling upgrade) is filled in on the first look-up that misses; when there is none, a miss
costs one more indexed read. Renaming takes the store's row first (`FOR UPDATE`), so that
concurrent renames of one instance take turns.

CreateInstance's `ClientToken` is kept in the row of the store it created: a digest of the
caller and the token (`client_token`, under a unique index) and one of the request's other
parameters (`client_request`). So the token's first use wins, also between processes: a
concurrent call with the same token fails on the index and then finds the first call's store.
A later call gets that store back for as long as it exists, and the token goes with its row.

The optional `Name` of CreateInstance and UpdateInstance lives in the `settings` table, one row
per named store (`instance-name:<store id>`); the Store deletes the row with its store
(`DELETE_INSTANCE_NAME` runs in `delete_identity_store`'s transaction).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select, update

from idstore.errors import InternalError, NotFound, Unavailable
from idstore.model import IdentityStore, IdFormat, instance_id, new_store_id, to_ms
from idstore.store.host import StoreHost
from idstore.store.schema import identity_stores, settings
from idstore.store.sql import Connection
from idstore.store.statements import LOCK_STORE, insert_store
from idstore.store.statements import param as _p

_PREFIX = "instance-name:"
_FILL_BATCH = 1000

_NAME_OF = literal(_PREFIX) + _p("store_id")
DELETE_INSTANCE_NAME = delete(settings).where(settings.c.name == _NAME_OF)
_INSERT_NAME = insert(settings).values(name=_NAME_OF, value=_p("value"))
_STORE_OF_INSTANCE = select(identity_stores.c.store_id).where(
    identity_stores.c.instance_id == _p("instance_id")
)
_WITHOUT_INSTANCE_ID = (
    select(identity_stores.c.seq, identity_stores.c.store_id)
    .where(identity_stores.c.instance_id.is_(None))
    .limit(_FILL_BATCH)
)
_SET_INSTANCE_ID = (
    update(identity_stores).where(identity_stores.c.seq == _p("at")).values(instance_id=_p("value"))
)
_STORE_OF_TOKEN = select(identity_stores.c.store_id, identity_stores.c.client_request).where(
    identity_stores.c.client_token == _p("client_token")
)


@functools.cache  # statements are compiled once each: one per count (a page holds at most 100)
def _names_in(count: int) -> Any:
    wanted = [_p(f"n{i}") for i in range(count)]
    return select(settings.c.name, settings.c.value).where(settings.c.name.in_(wanted))


def _digest(*parts: str, length: int) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


class Instances:
    """Identity stores as Identity Center instances: created, found by instance id, named."""

    def create_instance(
        self: StoreHost, at: datetime, name: str | None, client_token: str | None, caller: str
    ) -> tuple[IdentityStore, bool]:
        """A new, empty identity store named `name`; or, if `caller` has used `client_token`
        before and its store still exists, that store. Returns the store, and whether the
        request that created it had this one's parameters (False: the token was reused with
        another name)."""
        token = None if client_token is None else _digest(caller, client_token, length=40)
        request = _digest(name or "", length=16)

        def earlier(conn: Connection) -> tuple[IdentityStore, bool] | None:
            row = conn.one(_STORE_OF_TOKEN, client_token=token)
            if row is None:
                return None
            return self._require_store(conn, str(row[0])), row[1] == request

        def work(conn: Connection) -> tuple[IdentityStore, bool]:
            if token is not None and (found := earlier(conn)) is not None:
                return found
            store_id = new_store_id()
            insert_store(conn, store_id, to_ms(at), IdFormat.UUID, token, request)
            if name:
                conn.run(_INSERT_NAME, store_id=store_id, value=name)
            return self._require_store(conn, store_id), True

        try:
            return self._write(work)
        except Unavailable:
            raise
        except InternalError:
            # A unique index failed: the token's, taken by a concurrent call that committed
            # first (PostgreSQL; SQLite's writers take turns, so `work` saw it). Its answer is
            # this call's too.
            found = None if token is None else self._read(earlier)
            if found is None:
                raise
            return found

    def store_of_instance(self: StoreHost, instance_id: str) -> str | None:
        """The id of the store whose instance id is `instance_id`, or None."""

        def find(conn: Connection) -> str | None:
            row = conn.one(_STORE_OF_INSTANCE, instance_id=instance_id)
            return None if row is None else str(row[0])

        found = self._read(find)
        if found is None and self._read(lambda conn: conn.one(_WITHOUT_INSTANCE_ID)):
            self._write(_fill_instance_ids)
            found = self._read(find)
        return found

    def instance_names(self: StoreHost, store_ids: Collection[str]) -> dict[str, str]:
        """The names of those of `store_ids` that have one, by store id."""
        unique = sorted(set(store_ids))
        if not unique:
            return {}
        keys = {f"n{i}": _PREFIX + sid for i, sid in enumerate(unique)}
        rows = self._read(lambda conn: conn.all(_names_in(len(keys)), **keys))
        return {str(name)[len(_PREFIX) :]: str(value) for name, value in rows}

    def set_instance_name(self: StoreHost, store_id: str, name: str | None) -> None:
        """Name a store's instance (None or "": no name). NotFound if the store is gone."""

        def work(conn: Connection) -> None:
            # The store's row first, so that two renames take turns (else, on PostgreSQL, both
            # delete the name's row and the second insert fails on its key).
            if conn.one(LOCK_STORE, store_id=store_id) is None:
                raise NotFound("IDENTITY_STORE", store_id)
            conn.run(DELETE_INSTANCE_NAME, store_id=store_id)
            if name:
                conn.run(_INSERT_NAME, store_id=store_id, value=name)

        self._write(work)


def _fill_instance_ids(conn: Connection) -> None:
    """Give every store row without an instance id its own, a batch at a time."""
    while rows := conn.all(_WITHOUT_INSTANCE_ID):
        conn.run_many(
            _SET_INSTANCE_ID, [{"at": seq, "value": instance_id(sid)} for seq, sid in rows]
        )

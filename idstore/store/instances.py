"""Identity Center instances: creating one (idempotently), finding a store by its instance
id, and instance names.

A mixin of `Store` (see `store.py` for the transaction contract). An identity store *is* an
instance: its instance id is `model.instance_id(store_id)`, set when the row is inserted
(`statements.insert_store`) and kept in the store row's `instance_id` column under a unique
index, so sso-admin finds the store an InstanceArn names with one indexed read, whatever the
number of stores.

The other state lives in the `settings` table, which needs no migration:
- the optional `Name` of CreateInstance and UpdateInstance, one row per named store
  (`instance-name:<store id>`);
- CreateInstance's `ClientToken`, one row per instance created with one
  (`instance-token:<hash of caller and token>` → `<store id> <name given>`), inserted in the
  transaction that creates the store. The row's primary key makes the token's first use win,
  also between processes: a concurrent call with the same token fails on it and then finds
  the first call's store. A later call with the same token gets that store back, with the name
  it was created with, for as long as the store exists.
The Store deletes both rows with their store (`DELETE_INSTANCE_ROWS` runs in
`delete_identity_store`'s transaction).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select

from idstore.errors import InternalError, NotFound, Unavailable
from idstore.model import IdentityStore, IdFormat, new_store_id, to_ms
from idstore.store.host import StoreHost
from idstore.store.schema import identity_stores, settings
from idstore.store.sql import Connection
from idstore.store.statements import insert_store
from idstore.store.statements import param as _p

_PREFIX = "instance-name:"
_TOKEN_PREFIX = "instance-token:"

_NAME_OF = literal(_PREFIX) + _p("store_id")
_INSERT_NAME = insert(settings).values(name=_NAME_OF, value=_p("value"))
_DELETE_NAME = delete(settings).where(settings.c.name == _NAME_OF)
# Store ids are `d-` and hex (validated before any store is named), so no LIKE wildcard.
_DELETE_TOKENS = delete(settings).where(
    settings.c.name.like(_TOKEN_PREFIX + "%"), settings.c.value.like(_p("store_id") + " %")
)
DELETE_INSTANCE_ROWS = (_DELETE_NAME, _DELETE_TOKENS)
_GET_SETTING = select(settings.c.value).where(settings.c.name == _p("name"))
_INSERT_SETTING = insert(settings).values(name=_p("name"), value=_p("value"))
_STORE_OF_INSTANCE = select(identity_stores.c.store_id).where(
    identity_stores.c.instance_id == _p("instance_id")
)


@functools.cache  # statements are compiled once each: one per count (a page holds at most 100)
def _names_in(count: int) -> Any:
    wanted = [_p(f"n{i}") for i in range(count)]
    return select(settings.c.name, settings.c.value).where(settings.c.name.in_(wanted))


def _token_row(caller: str, client_token: str) -> str:
    """The settings row of a ClientToken: each caller's tokens are its own, and the row's name
    has a fixed length whatever the token (the column holds 64 characters)."""
    digest = hashlib.sha256(f"{caller}\x00{client_token}".encode()).hexdigest()
    return _TOKEN_PREFIX + digest[:40]


class Instances:
    """Identity stores as Identity Center instances: created, found by instance id, named."""

    def create_instance(
        self: StoreHost, at: datetime, name: str | None, client_token: str | None, caller: str
    ) -> tuple[IdentityStore, str]:
        """A new, empty identity store named `name`, or, if `caller` has used `client_token`
        before and its store still exists, that store. Returns the store and the name it was
        created with ("" for none), for the caller to compare with `name`."""
        token = None if client_token is None else _token_row(caller, client_token)
        given = name or ""

        def earlier(conn: Connection) -> tuple[IdentityStore, str] | None:
            value = conn.scalar(_GET_SETTING, name=token)
            if value is None:
                return None
            store_id, _, original = str(value).partition(" ")
            try:
                return self._require_store(conn, store_id), original
            except NotFound:  # deleted (with the token's row) since the token was read
                return None

        def work(conn: Connection) -> tuple[IdentityStore, str]:
            if token is not None and (found := earlier(conn)) is not None:
                return found
            store_id = new_store_id()
            insert_store(conn, store_id, to_ms(at), IdFormat.UUID)
            if given:
                conn.run(_INSERT_NAME, store_id=store_id, value=given)
            if token is not None:
                conn.run(_INSERT_SETTING, name=token, value=f"{store_id} {given}")
            return self._require_store(conn, store_id), given

        try:
            return self._write(work)
        except Unavailable:
            raise
        except InternalError:
            # A constraint failed: the token's row, taken by a concurrent call that committed
            # first (PostgreSQL; SQLite's writers take turns, so `work` saw it). Its answer is
            # this call's too.
            found = None if token is None else self._read(earlier)
            if found is None:
                raise
            return found

    def store_of_instance(self: StoreHost, instance_id: str) -> str | None:
        """The id of the store whose instance id is `instance_id`, or None."""
        row = self._read(lambda conn: conn.one(_STORE_OF_INSTANCE, instance_id=instance_id))
        return None if row is None else str(row[0])

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
            self._require_store(conn, store_id)
            conn.run(_DELETE_NAME, store_id=store_id)
            if name:
                conn.run(_INSERT_NAME, store_id=store_id, value=name)

        self._write(work)

"""Identity Center instances: finding a store by its instance id, and instance names.

A mixin of `Store` (see `store.py` for the transaction contract). An identity store *is* an
instance: its instance id is `model.instance_id(store_id)`, set when the row is inserted and
kept in the store row's `instance_id` column under a unique index, so sso-admin finds the store
an InstanceArn names with one indexed read, whatever the number of stores.

The only other state is the optional `Name` of CreateInstance and UpdateInstance. It lives in
the `settings` table, one row per named store (`instance-name:<store id>`); the Store deletes
the row with its store (`DELETE_INSTANCE_NAME` runs in `delete_identity_store`'s transaction).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, insert, literal, select

from idstore.store.host import StoreHost
from idstore.store.schema import identity_stores, settings
from idstore.store.sql import Connection
from idstore.store.statements import param as _p

_PREFIX = "instance-name:"

_NAME_OF = literal(_PREFIX) + _p("store_id")
DELETE_INSTANCE_NAME = delete(settings).where(settings.c.name == _NAME_OF)
_INSERT_NAME = insert(settings).values(name=_NAME_OF, value=_p("value"))
_STORE_OF_INSTANCE = select(identity_stores.c.store_id).where(
    identity_stores.c.instance_id == _p("instance_id")
)


@functools.cache  # statements are compiled once each: one per count (a page holds at most 100)
def _names_in(count: int) -> Any:
    wanted = [_p(f"n{i}") for i in range(count)]
    return select(settings.c.name, settings.c.value).where(settings.c.name.in_(wanted))


class Instances:
    """Identity stores as Identity Center instances: by instance id, and their names."""

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
            conn.run(DELETE_INSTANCE_NAME, store_id=store_id)
            if name:
                conn.run(_INSERT_NAME, store_id=store_id, value=name)

        self._write(work)

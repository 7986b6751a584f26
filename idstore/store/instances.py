"""Identity Center instance names: the one thing sso-admin keeps about a store that the store
row does not hold.

A mixin of `Store` (see `store.py` for the transaction contract). An identity store *is* an
instance (aws/ssoadmin.py derives its ARN from the store id), so the only extra state is the
optional `Name` of CreateInstance and UpdateInstance. It lives in the `settings` table, one row
per named store (`instance-name:<store id>`), which needs no migration; the Store deletes the
row with its store (`DELETE_INSTANCE_NAME` runs in `delete_identity_store`'s transaction).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, insert, literal, select

from idstore.store.host import StoreHost
from idstore.store.schema import settings
from idstore.store.sql import Connection
from idstore.store.statements import param as _p

_PREFIX = "instance-name:"

_NAME_OF = literal(_PREFIX) + _p("store_id")
DELETE_INSTANCE_NAME = delete(settings).where(settings.c.name == _NAME_OF)
_INSERT_NAME = insert(settings).values(name=_NAME_OF, value=_p("value"))


@functools.cache  # statements are compiled once each: one per count (a page holds at most 100)
def _names_in(count: int) -> Any:
    wanted = [_p(f"n{i}") for i in range(count)]
    return select(settings.c.name, settings.c.value).where(settings.c.name.in_(wanted))


class InstanceNames:
    """The `Name` of each Identity Center instance (identity store) that has one."""

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

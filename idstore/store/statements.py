"""Statement pieces more than one part of the Store uses, defined once.

`param` names a bound parameter (statements are built once, at import, and executed with
keyword arguments: see sql.py). The audit and value column lists are those every write of a
user or group sets; the look-ups find a user or group id by a unique key, for the Store's
GetUserId/GetGroupId and for naming the record at fault after a failed import.
`id_format_of` reads the form of id a store issues, for the writers that create memberships.
`LOCK_STORE` takes a store's row, for writers that must take turns on one store.
`insert_store` is the one insert of a store's row, so that every store gets its instance id
(sso-admin's look-up key) however it is created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from idstore.model import IdFormat, instance_id
from idstore.store.schema import (
    group_external_ids,
    groups,
    identity_stores,
    user_external_ids,
    users,
)
from idstore.store.sql import Connection


def param(name: str) -> Any:
    return bindparam(name)


AUDIT = ["created_at", "created_by", "updated_at", "updated_by"]
USER_VALUES = [
    "user_name_key",
    "email_key",
    "revision",
    "status",
    "attributes",
    "extensions",
    *AUDIT,
]
GROUP_VALUES = ["display_name_key", "revision", "attributes", *AUDIT]

USER_BY_NAME = select(users.c.user_id).where(
    users.c.store_id == param("store_id"), users.c.user_name_key == param("key")
)
USER_BY_EMAIL = select(users.c.user_id).where(
    users.c.store_id == param("store_id"), users.c.email_key == param("key")
)
USER_BY_EXTERNAL_ID = (
    select(users.c.user_id)
    .join(user_external_ids, user_external_ids.c.owner_seq == users.c.seq)
    .where(
        user_external_ids.c.store_id == param("store_id"), user_external_ids.c.key == param("key")
    )
)
GROUP_BY_NAME = select(groups.c.group_id).where(
    groups.c.store_id == param("store_id"), groups.c.display_name_key == param("key")
)
GROUP_BY_EXTERNAL_ID = (
    select(groups.c.group_id)
    .join(group_external_ids, group_external_ids.c.owner_seq == groups.c.seq)
    .where(
        group_external_ids.c.store_id == param("store_id"),
        group_external_ids.c.key == param("key"),
    )
)

# Writers that must take turns on one store take its row first (PostgreSQL; SQLite's writers
# are serial): a SCIM token's count, an instance's rename.
LOCK_STORE = (
    select(identity_stores.c.seq)
    .where(identity_stores.c.store_id == param("store_id"))
    .with_for_update()
)

_ID_FORMAT = select(identity_stores.c.id_format).where(
    identity_stores.c.store_id == param("store_id")
)


def id_format_of(conn: Connection, store_id: str) -> IdFormat:
    """The form of the ids `store_id` issues (UUID for a store that does not exist: the caller
    reports the missing store)."""
    value = conn.scalar(_ID_FORMAT, store_id=store_id)
    return IdFormat.UUID if value is None else IdFormat(value)


_INSERT_STORE = identity_stores.insert().values(
    store_id=param("store_id"),
    instance_id=param("instance_id"),
    created_at=param("created_at"),
    id_format=param("id_format"),
    client_token=param("client_token"),
    client_request=param("client_request"),
)


def insert_store(
    conn: Connection,
    store_id: str,
    created_at: int,
    id_format: IdFormat,
    client_token: str | None = None,
    client_request: str | None = None,
) -> None:
    """Insert the row of a new identity store (`created_at` in epoch milliseconds; the client
    token and request digests of a CreateInstance, see store/instances.py)."""
    conn.run(
        _INSERT_STORE,
        store_id=store_id,
        instance_id=instance_id(store_id),
        created_at=created_at,
        id_format=id_format.value,
        client_token=client_token,
        client_request=client_request,
    )

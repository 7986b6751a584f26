"""One row shape per table: the columns every read of a table selects, and its one decoder.

Every path that reads identity stores, users, groups or memberships (the Store's API calls,
SCIM's group changes, bulk export) selects `SHAPE.columns` and turns the rows into records
with the shape's decoder, so a record is built in exactly one place per table. Decoders find
each field by its column name: the positions are looked up once, when this module is
imported, and bound into the decoder as closure variables, so decoding costs what indexing by
hand-written offsets did, with no offset to get wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Column, Select, Table, select

from idstore.model import (
    Audit,
    GroupRecord,
    IdentityStore,
    IdFormat,
    Membership,
    UserRecord,
    UserStatus,
    from_ms,
)
from idstore.store.schema import groups, identity_stores, memberships, users
from idstore.store.sql import Row
from idstore.store.statements import AUDIT


class Shape:
    """The columns read from one table, in the order they are selected."""

    def __init__(self, table: Table, *names: str) -> None:
        self.table = table
        self.names = names
        self.columns: tuple[Column[Any], ...] = tuple(table.c[n] for n in names)

    def at(self, name: str) -> int:
        """The position of column `name` in a row of this shape."""
        return self.names.index(name)

    def select(self) -> Select[Any]:
        return select(*self.columns)


STORE = Shape(
    identity_stores,
    "seq",
    "store_id",
    "created_at",
    "network_configuration",
    "user_count",
    "group_count",
    "id_format",
)
USER = Shape(
    users, "seq", "store_id", "user_id", "revision", "status", "attributes", "extensions", *AUDIT
)
GROUP = Shape(groups, "seq", "store_id", "group_id", "revision", "attributes", *AUDIT)
MEMBERSHIP = Shape(memberships, "seq", "store_id", "membership_id", "group_id", "user_id", *AUDIT)


def _audit_reader(shape: Shape) -> Callable[[Row], Audit]:
    created_at, created_by, updated_at, updated_by = (shape.at(n) for n in AUDIT)

    def audit(row: Row) -> Audit:
        return Audit(row[created_at], row[created_by], row[updated_at], row[updated_by])

    return audit


def _store_decoder() -> Callable[[Row], IdentityStore]:
    seq, store_id, created_at, config, user_count, group_count, id_format = map(
        STORE.at, STORE.names
    )

    def store_of(row: Row) -> IdentityStore:
        network = row[config]
        return IdentityStore(
            store_id=row[store_id],
            seq=row[seq],
            created_at=from_ms(row[created_at]),
            network_configuration=None if network is None else orjson.loads(network),
            user_count=row[user_count],
            group_count=row[group_count],
            id_format=IdFormat(row[id_format]),
        )

    return store_of


_STATUS = {status.value: status for status in UserStatus}


def _user_decoder() -> Callable[[Row], UserRecord]:
    seq, store_id, user_id, revision, status, attributes, extensions = map(
        USER.at, ("seq", "store_id", "user_id", "revision", "status", "attributes", "extensions")
    )
    audit = _audit_reader(USER)

    def user_of(row: Row) -> UserRecord:
        return UserRecord(
            store_id=row[store_id],
            user_id=row[user_id],
            seq=row[seq],
            revision=row[revision],
            status=_STATUS[row[status]],
            audit=audit(row),
            attributes_json=row[attributes],
            extensions_json=row[extensions],
        )

    return user_of


def _group_decoder() -> Callable[[Row], GroupRecord]:
    seq, store_id, group_id, revision, attributes = map(
        GROUP.at, ("seq", "store_id", "group_id", "revision", "attributes")
    )
    audit = _audit_reader(GROUP)

    def group_of(row: Row) -> GroupRecord:
        return GroupRecord(
            store_id=row[store_id],
            group_id=row[group_id],
            seq=row[seq],
            revision=row[revision],
            audit=audit(row),
            attributes_json=row[attributes],
        )

    return group_of


def _membership_decoder() -> Callable[[Row], Membership]:
    seq, store_id, membership_id, group_id, user_id = map(
        MEMBERSHIP.at, ("seq", "store_id", "membership_id", "group_id", "user_id")
    )
    audit = _audit_reader(MEMBERSHIP)

    def membership_of(row: Row) -> Membership:
        return Membership(
            store_id=row[store_id],
            membership_id=row[membership_id],
            seq=row[seq],
            group_id=row[group_id],
            user_id=row[user_id],
            audit=audit(row),
        )

    return membership_of


store_of = _store_decoder()
user_of = _user_decoder()
group_of = _group_decoder()
membership_of = _membership_decoder()

"""What the SCIM front end needs from the Store beyond the AWS API's calls.

A mixin of `Store` (see `store.py` for the transaction contract; `users_at` and `groups_at`
are two reads, as said below):

- **Offset pages with a true total.** SCIM pages by `startIndex`, the AWS API by keyset. An
  offset is turned into the keyset cursor of the row just before it (one indexed probe on
  `(store_id, seq)`), then the Store's own keyset listing reads the page; the total is the
  exact user or group counter kept on the identity store row, read just before the page (not in
  the same transaction: a write in between shows in one and not the other). Order is creation
  order.
- **A group's members**, as user ids in membership order, in one indexed range read.

Group changes with members (PUT, PATCH) are `change_group`, in groups.py: one write path for
both front ends.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from idstore.errors import NotFound, ResourceType
from idstore.model import (
    GroupRecord,
    IdentityStore,
    Page,
    UserRecord,
)
from idstore.store.host import StoreHost
from idstore.store.schema import groups, memberships, users
from idstore.store.sql import Connection
from idstore.store.statements import param as _p

T = TypeVar("T")


def _seq_at(table: Any) -> Any:
    return (
        select(table.c.seq)
        .where(table.c.store_id == _p("store_id"))
        .order_by(table.c.seq)
        .limit(1)
        .offset(_p("offset"))
    )


_USER_SEQ_AT = _seq_at(users)
_GROUP_SEQ_AT = _seq_at(groups)

_MEMBER_IDS = (
    select(memberships.c.user_id)
    .join(groups, groups.c.seq == memberships.c.group_seq)
    .where(groups.c.store_id == _p("store_id"), groups.c.group_id == _p("group_id"))
    .order_by(memberships.c.seq)
    .limit(_p("limit"))
)


class _Host(StoreHost, Protocol):
    """The parts of `Store` this mixin builds on."""

    def _missing(
        self, conn: Connection, store_id: str, kind: ResourceType, rid: str
    ) -> NotFound: ...

    def get_identity_store(self, store_id: str) -> IdentityStore: ...

    def list_users(
        self, store_id: str, after: int | None, limit: int, *, user_name: str | None = None
    ) -> Page[UserRecord]: ...

    def list_groups(
        self, store_id: str, after: int | None, limit: int, *, display_name: str | None = None
    ) -> Page[GroupRecord]: ...


class ScimQueries:
    """Store methods for SCIM listing."""

    def users_at(
        self: _Host, store_id: str, offset: int, count: int
    ) -> tuple[int, list[UserRecord]]:
        """The total number of users, and up to `count` of them from 0-based `offset`."""
        total = self.get_identity_store(store_id).user_count
        if count <= 0 or offset >= total:
            return total, []
        after = None
        if offset > 0:
            after = self._read(
                lambda c: c.scalar(_USER_SEQ_AT, store_id=store_id, offset=offset - 1)
            )
            if after is None:
                return total, []
        return total, self.list_users(store_id, after, count).items

    def groups_at(
        self: _Host, store_id: str, offset: int, count: int
    ) -> tuple[int, list[GroupRecord]]:
        """The total number of groups, and up to `count` of them from 0-based `offset`."""
        total = self.get_identity_store(store_id).group_count
        if count <= 0 or offset >= total:
            return total, []
        after = None
        if offset > 0:
            after = self._read(
                lambda c: c.scalar(_GROUP_SEQ_AT, store_id=store_id, offset=offset - 1)
            )
            if after is None:
                return total, []
        return total, self.list_groups(store_id, after, count).items

    def group_member_ids(
        self: _Host, store_id: str, group_id: str, limit: int | None = None
    ) -> list[str]:
        """The user ids of a group's members (the first `limit`, if given), in the order they
        were added."""

        def work(conn: Connection) -> list[str]:
            everyone = 2**62  # LIMIT NULL means "no limit" to PostgreSQL, an error to SQLite
            rows = conn.all(
                _MEMBER_IDS,
                store_id=store_id,
                group_id=group_id,
                limit=everyone if limit is None else limit,
            )
            return [str(r[0]) for r in rows]

        return self._read(work)

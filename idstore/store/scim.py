"""What the SCIM front end needs from the Store beyond the AWS API's calls.

A mixin of `Store` (see `store.py` for the transaction contract every method follows):

- **Offset pages with a true total.** SCIM pages by `startIndex`, the AWS API by keyset. An
  offset is turned into the keyset cursor of the row just before it (one indexed probe on
  `(store_id, seq)`), then the Store's own keyset listing reads the page; the total is the
  exact user or group counter kept on the identity store row. Order is creation order.
- **A group's members**, as user ids in membership order, in one indexed range read.
- **Membership changes applied as one transaction** with the group's attribute change, in the
  order the request gives them: add, remove, replace the whole set, or clear it. Adding a
  member twice or removing a non-member changes nothing; the number of memberships actually
  created or deleted is bounded (AWS allows 100 per PATCH) and checked before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import delete, insert, select, update

from idstore.errors import InvalidInput, NotFound, ResourceType
from idstore.model import (
    Audit,
    GroupData,
    GroupRecord,
    IdentityStore,
    IdFormat,
    Page,
    UserRecord,
    dump_json,
    external_id_key,
    new_resource_id,
    to_ms,
)
from idstore.store.host import StoreHost
from idstore.store.schema import group_external_ids, groups, memberships, users
from idstore.store.sql import Connection
from idstore.store.statements import id_format_of
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

_GROUP_FOR_UPDATE = (
    select(
        groups.c.seq,
        groups.c.revision,
        groups.c.attributes,
        groups.c.created_at,
        groups.c.created_by,
        groups.c.updated_at,
        groups.c.updated_by,
    )
    .where(groups.c.store_id == _p("store_id"), groups.c.group_id == _p("group_id"))
    .with_for_update()
)
_UPDATE_GROUP = (
    update(groups)
    .where(groups.c.seq == _p("seq_"))
    .values(
        display_name_key=_p("display_name_key"),
        revision=_p("revision"),
        attributes=_p("attributes"),
        updated_at=_p("updated_at"),
        updated_by=_p("updated_by"),
    )
)
_DELETE_EXTERNAL_IDS = delete(group_external_ids).where(
    group_external_ids.c.owner_seq == _p("owner_seq")
)
_INSERT_EXTERNAL_ID = insert(group_external_ids).values(
    store_id=_p("store_id"), owner_seq=_p("owner_seq"), key=_p("key")
)
_USER_SEQ = select(users.c.seq).where(
    users.c.store_id == _p("store_id"), users.c.user_id == _p("user_id")
)
_MEMBERS_OF = select(memberships.c.seq, memberships.c.user_id).where(
    memberships.c.group_seq == _p("group_seq")
)
_IS_MEMBER = select(memberships.c.seq).where(
    memberships.c.group_seq == _p("group_seq"), memberships.c.user_seq == _p("user_seq")
)
_INSERT_MEMBERSHIP = insert(memberships).values(
    store_id=_p("store_id"),
    membership_id=_p("membership_id"),
    group_seq=_p("group_seq"),
    user_seq=_p("user_seq"),
    group_id=_p("group_id"),
    user_id=_p("user_id"),
    created_at=_p("created_at"),
    created_by=_p("created_by"),
    updated_at=_p("updated_at"),
    updated_by=_p("updated_by"),
)
_DELETE_MEMBER = delete(memberships).where(
    memberships.c.group_seq == _p("group_seq"), memberships.c.user_seq == _p("user_seq")
)
_DELETE_MEMBERSHIP = delete(memberships).where(memberships.c.seq == _p("seq_"))
_CLEAR_MEMBERS = delete(memberships).where(memberships.c.group_seq == _p("group_seq"))


@dataclass(frozen=True, slots=True)
class MemberChange:
    """One step of a membership change, applied in request order."""

    kind: Literal["add", "remove", "replace", "clear"]
    user_ids: tuple[str, ...] = ()


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


class _Members:
    """Applies `MemberChange`s to one group inside a write transaction, counting changes."""

    def __init__(
        self, conn: Connection, store_id: str, group_id: str, group_seq: int, actor: str, at: int
    ) -> None:
        self._conn = conn
        self._store_id = store_id
        self._group_id = group_id
        self._group_seq = group_seq
        self._actor = actor
        self._at = at
        self._format: IdFormat | None = None
        self.changes = 0

    def _id_format(self) -> IdFormat:
        if self._format is None:
            self._format = id_format_of(self._conn, self._store_id)
        return self._format

    def apply(self, change: MemberChange) -> None:
        if change.kind == "add":
            for user_id in change.user_ids:
                self._add(user_id)
        elif change.kind == "remove":
            for user_id in change.user_ids:
                user_seq = self._conn.scalar(_USER_SEQ, store_id=self._store_id, user_id=user_id)
                if user_seq is not None:
                    self.changes += self._conn.run(
                        _DELETE_MEMBER, group_seq=self._group_seq, user_seq=user_seq
                    )
        elif change.kind == "clear":
            self.changes += self._conn.run(_CLEAR_MEMBERS, group_seq=self._group_seq)
        else:
            wanted = dict.fromkeys(change.user_ids)
            current = self._conn.all(_MEMBERS_OF, group_seq=self._group_seq)
            for seq, user_id in current:
                if user_id not in wanted:
                    self.changes += self._conn.run(_DELETE_MEMBERSHIP, seq_=seq)
            present = {user_id for _, user_id in current}
            for user_id in wanted:
                if user_id not in present:
                    self._add(user_id)

    def _add(self, user_id: str) -> None:
        user_seq = self._conn.scalar(_USER_SEQ, store_id=self._store_id, user_id=user_id)
        if user_seq is None:
            raise NotFound("USER", user_id)
        if self._conn.one(_IS_MEMBER, group_seq=self._group_seq, user_seq=user_seq) is not None:
            return
        self._conn.run(
            _INSERT_MEMBERSHIP,
            store_id=self._store_id,
            membership_id=new_resource_id(self._store_id, self._id_format()),
            group_seq=self._group_seq,
            user_seq=user_seq,
            group_id=self._group_id,
            user_id=user_id,
            created_at=self._at,
            created_by=self._actor,
            updated_at=self._at,
            updated_by=self._actor,
        )
        self.changes += 1


class ScimQueries:
    """Store methods for SCIM listing and group membership changes."""

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

    def change_group(
        self: _Host,
        store_id: str,
        group_id: str,
        change: Callable[[GroupRecord], GroupData | None],
        members: Sequence[MemberChange],
        *,
        actor: str,
        at: datetime,
        max_member_changes: int,
    ) -> GroupRecord:
        """Apply an attribute change (None: attributes unchanged) and membership changes to a
        group in one transaction. A member that is not a user of the store is NotFound USER;
        more than `max_member_changes` memberships created or deleted is InvalidInput."""

        def work(conn: Connection) -> GroupRecord:
            row = conn.one(_GROUP_FOR_UPDATE, store_id=store_id, group_id=group_id)
            if row is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            seq, revision, attributes = int(row[0]), int(row[1]), str(row[2])
            audit = Audit(row[3], row[4], row[5], row[6])
            current = GroupRecord(store_id, group_id, seq, revision, audit, attributes)
            data = change(current)
            if data is not None:
                revision += 1
                attributes = dump_json(data.attributes)
                audit = audit.touched(actor, at)
                conn.run(
                    _UPDATE_GROUP,
                    seq_=seq,
                    display_name_key=data.display_name_key,
                    revision=revision,
                    attributes=attributes,
                    updated_at=to_ms(at),
                    updated_by=actor,
                )
                if data.external_ids != current.data().external_ids:
                    conn.run(_DELETE_EXTERNAL_IDS, owner_seq=seq)
                    keys = sorted({external_id_key(e) for e in data.external_ids})
                    if keys:
                        conn.run_many(
                            _INSERT_EXTERNAL_ID,
                            [{"store_id": store_id, "owner_seq": seq, "key": k} for k in keys],
                        )
            applier = _Members(conn, store_id, group_id, seq, actor, to_ms(at))
            for step in members:
                applier.apply(step)
            if applier.changes > max_member_changes:
                raise InvalidInput(
                    f"The request changes {applier.changes} group memberships; at most "
                    f"{max_member_changes} may change in one request."
                )
            return GroupRecord(store_id, group_id, seq, revision, audit, attributes)

        # A user deleted concurrently (PostgreSQL) fails the membership's foreign key.
        return self._write(work, lambda: NotFound("USER", ""))

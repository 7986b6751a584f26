"""Changing a group: the one write path for a group's attributes, external ids and members.

A mixin of `Store` (see `store.py` for the transaction contract every method follows).
`change_group` serves the AWS API's UpdateGroup (attributes only, with an optional expected
Revision) and SCIM's PUT and PATCH (attributes and membership changes), so both front ends
change a group the same way, in one transaction. `Members` applies membership changes inside
a write transaction; `Store.create_group` uses it too, so that a group created with members
(SCIM POST) appears with them, or not at all.

Membership changes are applied in the order the request gives them: add, remove, replace the
whole set, or clear it. Adding a member twice or removing a non-member changes nothing; the
number of memberships actually created or deleted is bounded (AWS allows 100 per PATCH) and
checked before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import delete, insert, select, update

from idstore.errors import Conflict, InvalidInput, NotFound, ResourceType
from idstore.model import (
    GroupData,
    GroupRecord,
    IdFormat,
    dump_json,
    external_id_key,
    new_resource_id,
    to_ms,
)
from idstore.store.host import StoreHost
from idstore.store.rows import GROUP, group_of
from idstore.store.schema import group_external_ids, groups, memberships, users
from idstore.store.sql import Connection
from idstore.store.statements import id_format_of
from idstore.store.statements import param as _p

_GROUP_FOR_UPDATE = (
    GROUP.select()
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


def put_external_ids(conn: Connection, group: GroupRecord, data: GroupData) -> None:
    """Replace the group's external-id index rows, if its external ids changed."""
    if data.external_ids == group.data().external_ids:
        return
    conn.run(_DELETE_EXTERNAL_IDS, owner_seq=group.seq)
    keys = sorted({external_id_key(e) for e in data.external_ids})
    if keys:
        conn.run_many(
            _INSERT_EXTERNAL_ID,
            [{"store_id": group.store_id, "owner_seq": group.seq, "key": k} for k in keys],
        )


class Members:
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
        """The form of id the store issues (read once, when the first membership is made)."""
        if self._format is None:
            self._format = id_format_of(self._conn, self._store_id)
        return self._format

    def apply_all(self, changes: Sequence[MemberChange], limit: int) -> None:
        """Apply `changes` in order; InvalidInput if more than `limit` memberships change."""
        for change in changes:
            self.apply(change)
        if self.changes > limit:
            raise InvalidInput(
                f"The request changes {self.changes} group memberships; at most "
                f"{limit} may change in one request."
            )

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


def check_revision(current: int, expected: str | None) -> None:
    if expected is not None and expected != str(current):
        raise Conflict(
            "CONCURRENT_MODIFICATION",
            f"The resource was modified: its current Revision is {current}, not {expected}. "
            "Read it again and retry.",
        )


class _Host(StoreHost, Protocol):
    def _missing(
        self, conn: Connection, store_id: str, kind: ResourceType, rid: str
    ) -> NotFound: ...


class GroupChanges:
    """The Store method that changes a group."""

    def change_group(
        self: _Host,
        store_id: str,
        group_id: str,
        change: Callable[[GroupRecord], GroupData | None],
        members: Sequence[MemberChange] = (),
        *,
        actor: str,
        at: datetime,
        max_member_changes: int = 0,
        expected_revision: str | None = None,
    ) -> GroupRecord:
        """Apply an attribute change (None: attributes unchanged) and membership changes to a
        group in one transaction. A Revision other than `expected_revision` (when given) is a
        Conflict; a member that is not a user of the store is NotFound USER; more than
        `max_member_changes` memberships created or deleted is InvalidInput."""

        def work(conn: Connection) -> GroupRecord:
            row = conn.one(_GROUP_FOR_UPDATE, store_id=store_id, group_id=group_id)
            if row is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            group = current = group_of(row)
            check_revision(current.revision, expected_revision)
            data = change(current)
            if data is not None:
                group = GroupRecord(
                    store_id,
                    group_id,
                    current.seq,
                    current.revision + 1,
                    current.audit.touched(actor, at),
                    dump_json(data.attributes),
                )
                conn.run(
                    _UPDATE_GROUP,
                    seq_=group.seq,
                    display_name_key=data.display_name_key,
                    revision=group.revision,
                    attributes=group.attributes_json,
                    updated_at=group.audit.updated_ms,
                    updated_by=actor,
                )
                put_external_ids(conn, current, data)
            if members:
                applier = Members(conn, store_id, group_id, group.seq, actor, to_ms(at))
                applier.apply_all(members, max_member_changes)
            return group

        # A user deleted concurrently (PostgreSQL) fails the membership's foreign key.
        return self._write(work, lambda: NotFound("USER", ""))

"""What the admin console needs from the Store beyond the AWS API's calls: pages both ways.

A mixin of `Store` (see `store.py` for the transaction contract every method follows). The
console pages by keyset, like the API, but a person also goes back: a `Window` is one page
read forwards from a cursor (`after`, the seq of the row before it) or backwards from one
(`before`, the seq of the row after it), with the cursors of its neighbours. Each read is one
range read on an `(owner, seq)` index, whichever way it goes.

Beyond the API's listings: users whose user name starts with a prefix (and groups whose display
name does), matched on the same normalised key that backs uniqueness, so "ALI" finds "alice";
and a group's members or a user's groups together with the user or group each membership names,
in one join, so a page of 100 members is one statement rather than 101.

Signing out of the console ends every console session of that access key, on every server:
the time is kept in `settings` (one row per key that ever signed out, `console-signed-out:<id>`)
and a session issued before it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, insert, select, update

from idstore.errors import InternalError, NotFound
from idstore.model import GroupRecord, UserRecord, normalise_key
from idstore.store.host import StoreHost
from idstore.store.rows import GROUP, USER, group_of, user_of
from idstore.store.schema import groups, memberships, settings, users
from idstore.store.sql import Connection, Row
from idstore.store.statements import param as _p

T = TypeVar("T")

# Longer prefixes cannot match: a key longer than this is stored as a digest (model._bounded).
_MAX_PREFIX_BYTES = 256
_ESCAPE = "\\"


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page: `before` is the cursor of the page before it (None: nothing precedes), `after`
    that of the page after it (None: nothing follows)."""

    items: list[T]
    before: int | None
    after: int | None


@dataclass(frozen=True, slots=True)
class Member:
    """A membership of a group, with the user it names."""

    membership_id: str
    user: UserRecord


@dataclass(frozen=True, slots=True)
class GroupOf:
    """A membership of a user, with the group it names."""

    membership_id: str
    group: GroupRecord


def _both_ways(base: Any, seq: Any, *conditions: Any) -> tuple[Any, Any]:
    """`base` restricted by `conditions`, read forwards after `:bound` and backwards before it."""
    forwards = base.where(*conditions, seq > _p("bound")).order_by(seq.asc()).limit(_p("limit"))
    backwards = base.where(*conditions, seq < _p("bound")).order_by(seq.desc()).limit(_p("limit"))
    return forwards, backwards


def _starts_with(column: Any) -> Any:
    return column.like(_p("pattern"), escape=_ESCAPE)


_USERS = _both_ways(USER.select(), users.c.seq, users.c.store_id == _p("store_id"))
_USERS_PREFIX = _both_ways(
    USER.select(),
    users.c.seq,
    users.c.store_id == _p("store_id"),
    _starts_with(users.c.user_name_key),
)
_GROUPS = _both_ways(GROUP.select(), groups.c.seq, groups.c.store_id == _p("store_id"))
_GROUPS_PREFIX = _both_ways(
    GROUP.select(),
    groups.c.seq,
    groups.c.store_id == _p("store_id"),
    _starts_with(groups.c.display_name_key),
)
_MEMBERS = _both_ways(
    select(memberships.c.seq, memberships.c.membership_id, *USER.columns).join(
        users, users.c.seq == memberships.c.user_seq
    ),
    memberships.c.seq,
    memberships.c.group_seq == _p("owner"),
)
_GROUPS_OF = _both_ways(
    select(memberships.c.seq, memberships.c.membership_id, *GROUP.columns).join(
        groups, groups.c.seq == memberships.c.group_seq
    ),
    memberships.c.seq,
    memberships.c.user_seq == _p("owner"),
)


def _owner(table: Table, id_column: str) -> Any:
    return select(table.c.seq).where(
        table.c.store_id == _p("store_id"), table.c[id_column] == _p("owner_id")
    )


_GROUP_SEQ = _owner(groups, "group_id")
_USER_SEQ = _owner(users, "user_id")

_SIGNED_OUT = "console-signed-out:"
_GET_SETTING = select(settings.c.value).where(settings.c.name == _p("name"))
_SET_SETTING = update(settings).where(settings.c.name == _p("name")).values(value=_p("value"))
_ADD_SETTING = insert(settings).values(name=_p("name"), value=_p("value"))


# Where a row of each shape has its seq (the cursor of a window).
_USER_SEQ_AT = USER.at("seq")
_GROUP_SEQ_AT = GROUP.at("seq")


def like_prefix(text: str) -> str | None:
    """The LIKE pattern matching keys that start with `text`'s key (None: nothing can match)."""
    key = normalise_key(text)
    if len(key.encode()) > _MAX_PREFIX_BYTES or key.startswith("\x01"):
        return None
    for special in (_ESCAPE, "%", "_"):
        key = key.replace(special, _ESCAPE + special)
    return key + "%"


def _window(
    conn: Connection,
    statements: tuple[Any, Any],
    convert: Callable[[Row], T],
    seq_of: Callable[[Row], int],
    *,
    after: int | None,
    before: int | None,
    limit: int,
    **params: Any,
) -> Window[T]:
    forwards, backwards = statements
    if before is not None:
        rows = conn.all(backwards, bound=before, limit=limit + 1, **params)
        more = len(rows) > limit
        rows = rows[:limit][::-1]
        return Window(
            [convert(r) for r in rows],
            seq_of(rows[0]) if more else None,
            seq_of(rows[-1]) if rows else None,
        )
    rows = conn.all(forwards, bound=after or 0, limit=limit + 1, **params)
    more = len(rows) > limit
    rows = rows[:limit]
    return Window(
        [convert(r) for r in rows],
        seq_of(rows[0]) if rows and after else None,
        seq_of(rows[-1]) if more else None,
    )


class ConsoleQueries:
    """Store methods for the admin console's listings."""

    def user_window(
        self: StoreHost,
        store_id: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
        prefix: str | None = None,
    ) -> Window[UserRecord]:
        """A page of a store's users in creation order; with `prefix`, of those whose user name
        starts with it (case-insensitively)."""
        pattern = None if prefix is None else like_prefix(prefix)
        if prefix is not None and pattern is None:
            return Window([], None, None)

        def work(conn: Connection) -> Window[UserRecord]:
            statements = _USERS if pattern is None else _USERS_PREFIX
            extra = {} if pattern is None else {"pattern": pattern}
            found = _window(
                conn,
                statements,
                user_of,
                lambda r: int(r[_USER_SEQ_AT]),
                after=after,
                before=before,
                limit=limit,
                store_id=store_id,
                **extra,
            )
            if not found.items:
                self._require_store(conn, store_id)
            return found

        return self._read(work)

    def group_window(
        self: StoreHost,
        store_id: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
        prefix: str | None = None,
    ) -> Window[GroupRecord]:
        """A page of a store's groups in creation order; with `prefix`, of those whose display
        name starts with it (case-insensitively)."""
        pattern = None if prefix is None else like_prefix(prefix)
        if prefix is not None and pattern is None:
            return Window([], None, None)

        def work(conn: Connection) -> Window[GroupRecord]:
            statements = _GROUPS if pattern is None else _GROUPS_PREFIX
            extra = {} if pattern is None else {"pattern": pattern}
            found = _window(
                conn,
                statements,
                group_of,
                lambda r: int(r[_GROUP_SEQ_AT]),
                after=after,
                before=before,
                limit=limit,
                store_id=store_id,
                **extra,
            )
            if not found.items:
                self._require_store(conn, store_id)
            return found

        return self._read(work)

    def member_window(
        self: StoreHost,
        store_id: str,
        group_id: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
    ) -> Window[Member]:
        """A page of a group's members, in the order they were added."""

        def work(conn: Connection) -> Window[Member]:
            owner = conn.scalar(_GROUP_SEQ, store_id=store_id, owner_id=group_id)
            if owner is None:
                self._require_store(conn, store_id)
                raise NotFound("GROUP", group_id)
            return _window(
                conn,
                _MEMBERS,
                lambda r: Member(r[1], user_of(r[2:])),
                lambda r: int(r[0]),
                after=after,
                before=before,
                limit=limit,
                owner=owner,
            )

        return self._read(work)

    def groups_of_window(
        self: StoreHost,
        store_id: str,
        user_id: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
    ) -> Window[GroupOf]:
        """A page of the groups a user is a member of, in the order the user joined them."""

        def work(conn: Connection) -> Window[GroupOf]:
            owner = conn.scalar(_USER_SEQ, store_id=store_id, owner_id=user_id)
            if owner is None:
                self._require_store(conn, store_id)
                raise NotFound("USER", user_id)
            return _window(
                conn,
                _GROUPS_OF,
                lambda r: GroupOf(r[1], group_of(r[2:])),
                lambda r: int(r[0]),
                after=after,
                before=before,
                limit=limit,
                owner=owner,
            )

        return self._read(work)

    def console_signed_out(self: StoreHost, access_key_id: str) -> int:
        """When (ms since the epoch) this key last signed out of the console; 0: never."""
        name = _SIGNED_OUT + access_key_id
        value = self._read(lambda conn: conn.scalar(_GET_SETTING, name=name))
        return int(value) if value is not None else 0

    def console_sign_out(self: StoreHost, access_key_id: str, at_ms: int) -> None:
        """End every console session of this key issued up to `at_ms`."""
        name = _SIGNED_OUT + access_key_id

        def work(conn: Connection) -> None:
            if conn.run(_SET_SETTING, name=name, value=str(at_ms)) == 0:
                conn.run(_ADD_SETTING, name=name, value=str(at_ms))

        try:
            self._write(work)
        except InternalError:  # another server inserted the row first: write over it
            self._write(work)

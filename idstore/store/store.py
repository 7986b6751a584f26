"""The Store: every read and write idstore makes, for SQLite and PostgreSQL alike.

Contract, for every public method that reads or writes users, groups, memberships or stores
(the exceptions are named below):

- It is one database transaction (a read is one statement, or a few on its miss path). Writes
  begin with `BEGIN IMMEDIATE` on SQLite; on PostgreSQL they run at READ COMMITTED and lock
  what they read-modify-write (`FOR UPDATE`).
- Failures after which the transaction certainly did not commit (serialization failures,
  deadlocks, a connection dropped before COMMIT) are retried, a few times with a short random
  backoff; a COMMIT whose connection dropped is looked up, not rerun blindly; waits for locks
  and connections end at a deadline with `Unavailable` (see transactions.py). Callers never
  retry.
- Invariants are the database's: uniqueness violations surface as `Conflict`, missing referenced
  rows as `NotFound`, and nothing is half-written.
- Every query is scoped by `store_id`. A miss on a resource then checks whether the identity
  store itself exists, so the caller learns which one is missing (`IDENTITY_STORE` first).
- Writes that change the number of users or groups update the counters on the identity store
  row first. That row is the one lock every such writer takes, in the same order, so the quota
  check is exact and writers cannot deadlock each other.

Not single transactions: `setting` (a read, then an insert if the value is missing, then a read
again: concurrent first callers converge on one value, the first inserted) and, in the SCIM
mixin (`scim.py`), `users_at` and `groups_at` (the total from the store's counter, then the page:
a write between the two can make the total and the page disagree by that write, as SCIM's
paging allows). `counts` is a diagnostic read of several tables.

The statements below are SQLAlchemy Core, compiled once per dialect and run through `sql.Pool`
(see that module for why). Ids arrive normalised (no ARNs); keys arrive through `UserData` /
`GroupData`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, delete, func, insert, select, update

from idstore.errors import (
    Conflict,
    ConflictReason,
    InternalError,
    NotFound,
    QuotaExceeded,
    ResourceType,
    Unavailable,
)
from idstore.model import (
    Audit,
    ExternalId,
    GroupData,
    GroupRecord,
    IdentityStore,
    IdFormat,
    Json,
    Membership,
    Page,
    UserData,
    UserRecord,
    dump_json,
    external_id_key,
    new_resource_id,
    new_store_id,
    normalise_key,
    to_ms,
)
from idstore.store import dialects
from idstore.store.bulk import BulkTransfer
from idstore.store.console import ConsoleQueries
from idstore.store.credentials import AccessKeys
from idstore.store.groups import GroupChanges, MemberChange, Members, check_revision
from idstore.store.instances import DELETE_INSTANCE_NAME, Instances
from idstore.store.rows import (
    GROUP,
    MEMBERSHIP,
    STORE,
    USER,
    group_of,
    membership_of,
    store_of,
    user_of,
)
from idstore.store.schema import (
    group_external_ids,
    groups,
    identity_stores,
    memberships,
    metadata,
    settings,
    user_external_ids,
    users,
)
from idstore.store.scim import ScimQueries
from idstore.store.sql import Connection, Pool, Row
from idstore.store.statements import (
    AUDIT,
    GROUP_BY_EXTERNAL_ID,
    GROUP_BY_NAME,
    GROUP_VALUES,
    USER_BY_EMAIL,
    USER_BY_EXTERNAL_ID,
    USER_BY_NAME,
    USER_VALUES,
    id_format_of,
    insert_store,
)
from idstore.store.statements import param as _p
from idstore.store.tokens import ScimTokens
from idstore.store.transactions import Transactions, unexpected_constraint

T = TypeVar("T")

_UNIQUENESS: ConflictReason = "UNIQUENESS_CONSTRAINT_VIOLATION"

# What each constraint means to a client when a write breaks it: AWS's own wording where it is
# on record (tests/aws/test_messages.py cites the sources), a plain sentence otherwise.
_CONFLICTS = {
    "uq_users_store_id_user_name_key": "A user with this UserName already exists.",
    "uq_users_store_id_email_key": "A user with this email address already exists.",
    "uq_groups_store_id_display_name_key": "Duplicate GroupDisplayName",
    "uq_user_external_ids_store_id_key": "A user with this ExternalId already exists.",
    "uq_group_external_ids_store_id_key": "A group with this ExternalId already exists.",
    "uq_memberships_group_seq_user_seq": "The user is already a member of the group.",
    "uq_identity_stores_store_id": "An identity store with this id already exists.",
    # The instance id is the store id's hash: SQLite may report this index first.
    "ix_identity_stores_instance_id": "An identity store with this id already exists.",
}


# -- statements ------------------------------------------------------------------------------

_GET_STORE = STORE.select().where(identity_stores.c.store_id == _p("store_id"))
_LIST_STORES = (
    STORE.select()
    .where(identity_stores.c.seq > _p("after"))
    .order_by(identity_stores.c.seq)
    .limit(_p("limit"))
)
_UPDATE_NETWORK = (
    update(identity_stores)
    .where(identity_stores.c.store_id == _p("store_id"))
    .values(network_configuration=_p("network_configuration"))
)
_DELETE_STORE = delete(identity_stores).where(identity_stores.c.store_id == _p("store_id"))
_DELETE_STORE_ROWS = [
    delete(t).where(t.c.store_id == _p("store_id"))
    for t in (memberships, user_external_ids, group_external_ids, users, groups)
]


def _counter(column: str, delta: int, *, limited: bool) -> Any:
    col = identity_stores.c[column]
    query = update(identity_stores).where(identity_stores.c.store_id == _p("store_id"))
    if limited:
        # An increment is a create: it returns the store's id format for the new id, so that
        # a create costs no extra statement.
        query = query.where(col < _p("limit")).returning(identity_stores.c.id_format)
    return query.values({column: col + delta})


_COUNT = {
    ("user_count", 1): _counter("user_count", 1, limited=True),
    ("user_count", -1): _counter("user_count", -1, limited=False),
    ("group_count", 1): _counter("group_count", 1, limited=True),
    ("group_count", -1): _counter("group_count", -1, limited=False),
}

_GET_USER = USER.select().where(
    users.c.store_id == _p("store_id"), users.c.user_id == _p("user_id")
)
_GET_USER_FOR_UPDATE = _GET_USER.with_for_update()
_USER_SEQ = select(users.c.seq, users.c.revision).where(
    users.c.store_id == _p("store_id"), users.c.user_id == _p("user_id")
)
_LIST_USERS = (
    USER.select()
    .where(users.c.store_id == _p("store_id"), users.c.seq > _p("after"))
    .order_by(users.c.seq)
    .limit(_p("limit"))
)
_LIST_USERS_BY_NAME = (
    USER.select()
    .where(
        users.c.store_id == _p("store_id"),
        users.c.user_name_key == _p("key"),
        users.c.seq > _p("after"),
    )
    .order_by(users.c.seq)
    .limit(_p("limit"))
)
_INSERT_USER = (
    insert(users)
    .values({c: _p(c) for c in ["store_id", "user_id", *USER_VALUES]})
    .returning(users.c.seq)
)
_UPDATE_USER = (
    update(users)
    .where(users.c.seq == _p("seq_"))
    .values({c: _p(c) for c in USER_VALUES if c not in ("created_at", "created_by")})
)
_DELETE_USER = delete(users).where(users.c.seq == _p("seq_"))

_GET_GROUP = GROUP.select().where(
    groups.c.store_id == _p("store_id"), groups.c.group_id == _p("group_id")
)
_GROUP_SEQ = select(groups.c.seq, groups.c.revision).where(
    groups.c.store_id == _p("store_id"), groups.c.group_id == _p("group_id")
)
_LIST_GROUPS = (
    GROUP.select()
    .where(groups.c.store_id == _p("store_id"), groups.c.seq > _p("after"))
    .order_by(groups.c.seq)
    .limit(_p("limit"))
)
_LIST_GROUPS_BY_NAME = (
    GROUP.select()
    .where(
        groups.c.store_id == _p("store_id"),
        groups.c.display_name_key == _p("key"),
        groups.c.seq > _p("after"),
    )
    .order_by(groups.c.seq)
    .limit(_p("limit"))
)
_INSERT_GROUP = (
    insert(groups)
    .values({c: _p(c) for c in ["store_id", "group_id", *GROUP_VALUES]})
    .returning(groups.c.seq)
)
_DELETE_GROUP = delete(groups).where(groups.c.seq == _p("seq_"))

_INSERT_MEMBERSHIP = (
    insert(memberships)
    .values(
        {
            c: _p(c)
            for c in [
                "store_id",
                "membership_id",
                "group_seq",
                "user_seq",
                "group_id",
                "user_id",
                *AUDIT,
            ]
        }
    )
    .returning(memberships.c.seq)
)
_GET_MEMBERSHIP = MEMBERSHIP.select().where(
    memberships.c.store_id == _p("store_id"), memberships.c.membership_id == _p("membership_id")
)
_FIND_MEMBERSHIP = MEMBERSHIP.select().where(
    memberships.c.store_id == _p("store_id"),
    memberships.c.group_id == _p("group_id"),
    memberships.c.user_id == _p("user_id"),
)
_DELETE_MEMBERSHIP = delete(memberships).where(
    memberships.c.store_id == _p("store_id"), memberships.c.membership_id == _p("membership_id")
)
_MEMBERSHIPS_OF_GROUP = (
    MEMBERSHIP.select()
    .where(memberships.c.group_seq == _p("owner"), memberships.c.seq > _p("after"))
    .order_by(memberships.c.seq)
    .limit(_p("limit"))
)
_MEMBERSHIPS_OF_USER = (
    MEMBERSHIP.select()
    .where(memberships.c.user_seq == _p("owner"), memberships.c.seq > _p("after"))
    .order_by(memberships.c.seq)
    .limit(_p("limit"))
)


# IsMemberInGroups walks the user's memberships (index on user_seq) when there are few: a
# handful of probes whatever the size of the directory. Probing each asked-for group instead
# costs two index probes per group, each a likely cache miss in a large database (measured
# at 1,000,000 users: 250 µs against 70 for 100 groups). A user in more groups than this falls
# back to the probes, so the cost stays bounded by the model's limit of 100 groups.
_FEW_GROUPS = 200
_GROUPS_OF_USER = (
    select(groups.c.group_id)
    .select_from(memberships.join(groups, memberships.c.group_seq == groups.c.seq))
    .where(memberships.c.user_seq == _p("user_seq"))
    .limit(_p("limit"))
)


@functools.cache
def _is_member(count: int) -> Any:
    """Which of `count` group ids (g0, g1, ...) the user (user_seq) is a member of: one
    statement, an indexed probe per group. Built once per count (1 to 100, the model's limit);
    a statement with a fixed number of placeholders runs on both drivers as it is."""
    return (
        select(groups.c.group_id)
        .join(memberships, memberships.c.group_seq == groups.c.seq)
        .where(
            groups.c.store_id == _p("store_id"),
            groups.c.group_id.in_([_p(f"g{i}") for i in range(count)]),
            memberships.c.user_seq == _p("user_seq"),
        )
    )


_GET_SETTING = select(settings.c.value).where(settings.c.name == _p("name"))
_INSERT_SETTING = insert(settings).values(name=_p("name"), value=_p("value"))

_INSERT_EXTERNAL_ID = {
    t.name: insert(t).values(store_id=_p("store_id"), owner_seq=_p("owner_seq"), key=_p("key"))
    for t in (user_external_ids, group_external_ids)
}
_DELETE_EXTERNAL_IDS = {
    t.name: delete(t).where(t.c.owner_seq == _p("owner_seq"))
    for t in (user_external_ids, group_external_ids)
}


# -- conversions -----------------------------------------------------------------------------


def _audit_values(audit: Audit) -> dict[str, Any]:
    return {
        "created_at": audit.created_ms,
        "created_by": audit.created_by,
        "updated_at": audit.updated_ms,
        "updated_by": audit.updated_by,
    }


def _page(items: list[T], limit: int, seq: Callable[[T], int]) -> Page[T]:
    if len(items) > limit:
        items = items[:limit]
        return Page(items, seq(items[-1]))
    return Page(items, None)


def _put_external_ids(
    conn: Connection, table: Table, store_id: str, owner_seq: int, ids: Sequence[ExternalId]
) -> None:
    keys = sorted({external_id_key(e) for e in ids})
    if keys:
        conn.run_many(
            _INSERT_EXTERNAL_ID[table.name],
            [{"store_id": store_id, "owner_seq": owner_seq, "key": k} for k in keys],
        )


class Store(
    ScimTokens, ScimQueries, ConsoleQueries, GroupChanges, BulkTransfer, AccessKeys, Instances
):
    """All persistent state. Thread-safe; one instance per process and database."""

    def __init__(
        self,
        engine: Engine,
        *,
        shared_connection: bool = False,
        lock_timeout: float = dialects.DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self._engine = engine
        self._pool = Pool(engine, shared=shared_connection)
        self._dbapi = engine.dialect.loaded_dbapi
        self._in_memory = shared_connection
        # SQLite files: connections that never wait, for reads on the server's event loop.
        nonblocking = (
            Pool(engine, shared=False, busy_ms=0)
            if engine.dialect.name == "sqlite" and not shared_connection
            else None
        )
        self.transactions = Transactions(
            self._pool, nonblocking, self._dbapi, lock_timeout=lock_timeout
        )

    @property
    def in_memory(self) -> bool:
        """An in-memory SQLite database (one connection, no other process can lock it)."""
        return self._in_memory

    @property
    def engine(self) -> Engine:
        return self._engine

    def connections_in_use(self) -> int:
        """Database connections this process has handed out (for the metrics)."""
        return self._pool.in_use

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._pool.close()
        self.transactions.close()
        self._engine.dispose()

    # -- transactions ------------------------------------------------------------------------

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self.transactions.read(work)

    def _write(
        self,
        work: Callable[[Connection], T],
        on_missing_reference: Callable[[], Exception] | None = None,
    ) -> T:
        """Run `work` in one write transaction (see transactions.py for retries and waits)."""
        return self.transactions.write(
            work, lambda error: self._integrity(error, on_missing_reference)
        )

    def _integrity(
        self, error: BaseException, on_missing_reference: Callable[[], Exception] | None
    ) -> Exception:
        name = dialects.constraint_of(error, metadata)
        if name in _CONFLICTS:
            return Conflict(_UNIQUENESS, _CONFLICTS[name])
        if name == "ix_identity_stores_client_token":
            # Another CreateInstance used that ClientToken first: expected, and
            # `create_instance` then reads the winner's store.
            return InternalError("The server could not complete the request.")
        if on_missing_reference and (name == "foreign_key" or (name or "").startswith("fk_")):
            return on_missing_reference()
        return unexpected_constraint(name)

    # -- identity stores ---------------------------------------------------------------------

    def create_identity_store(
        self, at: datetime, store_id: str | None = None, id_format: IdFormat = IdFormat.UUID
    ) -> IdentityStore:
        """A new, empty identity store (with a fresh id unless one is given) that issues ids
        in `id_format`."""
        sid = store_id or new_store_id()

        def work(conn: Connection) -> IdentityStore:
            insert_store(conn, sid, to_ms(at), id_format)
            return self._require_store(conn, sid)

        return self._write(work)

    def get_identity_store(self, store_id: str) -> IdentityStore:
        return self._read(lambda conn: self._require_store(conn, store_id))

    def list_identity_stores(
        self, after: int | None, limit: int, only: Collection[str] | None = None
    ) -> Page[IdentityStore]:
        """Identity stores in creation order; `only` restricts the listing to those ids."""
        if only is not None:
            # A caller limited to some stores has few: fetch each by its unique key.
            def fetch(conn: Connection) -> list[Row]:
                rows = (conn.one(_GET_STORE, store_id=sid) for sid in set(only))
                return [r for r in rows if r is not None]

            visible = sorted(map(store_of, self._read(fetch)), key=lambda s: s.seq)
            visible = [s for s in visible if s.seq > (after or 0)]
            return _page(visible[: limit + 1], limit, lambda s: s.seq)
        rows = self._read(lambda c: c.all(_LIST_STORES, after=after or 0, limit=limit + 1))
        return _page([store_of(r) for r in rows], limit, lambda s: s.seq)

    def update_identity_store(
        self, store_id: str, network_configuration: Json | None
    ) -> IdentityStore:
        value = None if network_configuration is None else dump_json(network_configuration)

        def work(conn: Connection) -> IdentityStore:
            if conn.run(_UPDATE_NETWORK, store_id=store_id, network_configuration=value) == 0:
                raise NotFound("IDENTITY_STORE", store_id)
            return self._require_store(conn, store_id)

        return self._write(work)

    def delete_identity_store(self, store_id: str) -> None:
        """Delete a store and everything in it."""

        def work(conn: Connection) -> None:
            self._require_store(conn, store_id)
            for statement in _DELETE_STORE_ROWS:
                conn.run(statement, store_id=store_id)
            conn.run(DELETE_INSTANCE_NAME, store_id=store_id)
            conn.run(_DELETE_STORE, store_id=store_id)

        self._write(work)

    @staticmethod
    def _require_store(conn: Connection, store_id: str) -> IdentityStore:
        row = conn.one(_GET_STORE, store_id=store_id)
        if row is None:
            raise NotFound("IDENTITY_STORE", store_id)
        return store_of(row)

    def _missing(self, conn: Connection, store_id: str, kind: ResourceType, rid: str) -> NotFound:
        """The NotFound to raise for a miss: the store's if it is the store that is missing."""
        self._require_store(conn, store_id)
        return NotFound(kind, rid)

    def _count(self, conn: Connection, store_id: str, column: str) -> None:
        """Decrement a store's user or group counter (a delete)."""
        if conn.run(_COUNT[column, -1], store_id=store_id, limit=0) == 0:
            self._require_store(conn, store_id)

    def _claim(self, conn: Connection, store_id: str, column: str, limit: int) -> IdFormat:
        """Increment a store's user or group counter within the quota (a create); return the
        form of id the store issues."""
        rows = conn.all(_COUNT[column, 1], store_id=store_id, limit=limit)
        if not rows:
            self._require_store(conn, store_id)
            noun = "users" if column == "user_count" else "groups"
            raise QuotaExceeded(f"The identity store already holds the maximum of {limit} {noun}.")
        return IdFormat(rows[0][0])

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, store_id: str, data: UserData, *, actor: str, at: datetime, max_users: int
    ) -> UserRecord:
        audit = Audit.new(actor, at)
        attributes = dump_json(data.attributes)
        extensions = dump_json(data.extensions) if data.extensions else None
        values = {
            "store_id": store_id,
            "user_name_key": data.user_name_key,
            "email_key": data.email_key,
            "revision": 1,
            "status": data.status.value,
            "attributes": attributes,
            "extensions": extensions,
            **_audit_values(audit),
        }

        def work(conn: Connection) -> UserRecord:
            id_format = self._claim(conn, store_id, "user_count", max_users)
            user_id = new_resource_id(store_id, id_format)
            seq = conn.scalar(_INSERT_USER, user_id=user_id, **values)
            _put_external_ids(conn, user_external_ids, store_id, seq, data.external_ids)
            return UserRecord(store_id, user_id, seq, 1, data.status, audit, attributes, extensions)

        return self._write(work)

    def get_user(self, store_id: str, user_id: str) -> UserRecord:
        def work(conn: Connection) -> UserRecord:
            row = conn.one(_GET_USER, store_id=store_id, user_id=user_id)
            if row is None:
                raise self._missing(conn, store_id, "USER", user_id)
            return user_of(row)

        return self._read(work)

    def find_user_id(
        self,
        store_id: str,
        *,
        user_name: str | None = None,
        email: str | None = None,
        external_id: ExternalId | None = None,
    ) -> str:
        """The id of the user with this user name, e-mail or external id (give one)."""
        if external_id is not None:
            statement, key = USER_BY_EXTERNAL_ID, external_id_key(external_id)
        elif email is not None:
            statement, key = USER_BY_EMAIL, normalise_key(email)
        else:
            statement, key = USER_BY_NAME, normalise_key(user_name or "")

        def work(conn: Connection) -> str:
            found = conn.scalar(statement, store_id=store_id, key=key)
            if found is None:
                raise self._missing(conn, store_id, "USER", "")
            return str(found)

        return self._read(work)

    def list_users(
        self, store_id: str, after: int | None, limit: int, *, user_name: str | None = None
    ) -> Page[UserRecord]:
        def work(conn: Connection) -> list[Row]:
            if user_name is None:
                rows = conn.all(_LIST_USERS, store_id=store_id, after=after or 0, limit=limit + 1)
            else:
                rows = conn.all(
                    _LIST_USERS_BY_NAME,
                    store_id=store_id,
                    key=normalise_key(user_name),
                    after=after or 0,
                    limit=limit + 1,
                )
            if not rows:
                self._require_store(conn, store_id)
            return rows

        return _page([user_of(r) for r in self._read(work)], limit, lambda u: u.seq)

    def update_user(
        self,
        store_id: str,
        user_id: str,
        change: Callable[[UserRecord], UserData],
        *,
        expected_revision: str | None,
        actor: str,
        at: datetime,
    ) -> UserRecord:
        """Apply `change` to the current user atomically; it may raise to abort."""

        def work(conn: Connection) -> UserRecord:
            row = conn.one(_GET_USER_FOR_UPDATE, store_id=store_id, user_id=user_id)
            if row is None:
                raise self._missing(conn, store_id, "USER", user_id)
            current = user_of(row)
            check_revision(current.revision, expected_revision)
            data = change(current)
            attributes = dump_json(data.attributes)
            extensions = dump_json(data.extensions) if data.extensions else None
            audit = current.audit.touched(actor, at)
            revision = current.revision + 1
            values = _audit_values(audit)
            del values["created_at"], values["created_by"]
            conn.run(
                _UPDATE_USER,
                seq_=current.seq,
                user_name_key=data.user_name_key,
                email_key=data.email_key,
                revision=revision,
                status=data.status.value,
                attributes=attributes,
                extensions=extensions,
                **values,
            )
            if data.external_ids != current.data().external_ids:
                conn.run(_DELETE_EXTERNAL_IDS[user_external_ids.name], owner_seq=current.seq)
                _put_external_ids(conn, user_external_ids, store_id, current.seq, data.external_ids)
            return UserRecord(
                store_id, user_id, current.seq, revision, data.status, audit, attributes, extensions
            )

        return self._write(work)

    def delete_user(self, store_id: str, user_id: str, *, expected_revision: str | None) -> None:
        """Delete a user and, through the foreign keys, its memberships and external ids."""

        def work(conn: Connection) -> None:
            self._count(conn, store_id, "user_count")
            row = conn.one(_USER_SEQ, store_id=store_id, user_id=user_id)
            if row is None:
                raise NotFound("USER", user_id)
            check_revision(row[1], expected_revision)
            conn.run(_DELETE_USER, seq_=row[0])

        self._write(work)

    # -- groups ------------------------------------------------------------------------------

    def create_group(
        self,
        store_id: str,
        data: GroupData,
        *,
        actor: str,
        at: datetime,
        max_groups: int,
        member_ids: Sequence[str] = (),
    ) -> GroupRecord:
        """A new group, with `member_ids` (user ids) as its first members, in one transaction:
        a member that is not a user of the store is NotFound USER, and nothing is created."""
        audit = Audit.new(actor, at)
        attributes = dump_json(data.attributes)
        values = {
            "store_id": store_id,
            "display_name_key": data.display_name_key,
            "revision": 1,
            "attributes": attributes,
            **_audit_values(audit),
        }

        def work(conn: Connection) -> GroupRecord:
            id_format = self._claim(conn, store_id, "group_count", max_groups)
            group_id = new_resource_id(store_id, id_format)
            seq = conn.scalar(_INSERT_GROUP, group_id=group_id, **values)
            _put_external_ids(conn, group_external_ids, store_id, seq, data.external_ids)
            if member_ids:
                members = Members(conn, store_id, group_id, seq, actor, audit.created_ms)
                members.apply(MemberChange("add", tuple(member_ids)))
            return GroupRecord(store_id, group_id, seq, 1, audit, attributes)

        # A member deleted concurrently (PostgreSQL) fails the membership's foreign key.
        return self._write(work, lambda: NotFound("USER", ""))

    def get_group(self, store_id: str, group_id: str) -> GroupRecord:
        def work(conn: Connection) -> GroupRecord:
            row = conn.one(_GET_GROUP, store_id=store_id, group_id=group_id)
            if row is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            return group_of(row)

        return self._read(work)

    def find_group_id(
        self,
        store_id: str,
        *,
        display_name: str | None = None,
        external_id: ExternalId | None = None,
    ) -> str:
        if external_id is not None:
            statement, key = GROUP_BY_EXTERNAL_ID, external_id_key(external_id)
        else:
            statement, key = GROUP_BY_NAME, normalise_key(display_name or "")

        def work(conn: Connection) -> str:
            found = conn.scalar(statement, store_id=store_id, key=key)
            if found is None:
                raise self._missing(conn, store_id, "GROUP", "")
            return str(found)

        return self._read(work)

    def list_groups(
        self, store_id: str, after: int | None, limit: int, *, display_name: str | None = None
    ) -> Page[GroupRecord]:
        def work(conn: Connection) -> list[Row]:
            if display_name is None:
                rows = conn.all(_LIST_GROUPS, store_id=store_id, after=after or 0, limit=limit + 1)
            else:
                rows = conn.all(
                    _LIST_GROUPS_BY_NAME,
                    store_id=store_id,
                    key=normalise_key(display_name),
                    after=after or 0,
                    limit=limit + 1,
                )
            if not rows:
                self._require_store(conn, store_id)
            return rows

        return _page([group_of(r) for r in self._read(work)], limit, lambda g: g.seq)

    def update_group(
        self,
        store_id: str,
        group_id: str,
        change: Callable[[GroupRecord], GroupData],
        *,
        expected_revision: str | None,
        actor: str,
        at: datetime,
    ) -> GroupRecord:
        """Apply `change` to the current group atomically (the one path: `change_group`)."""
        return self.change_group(
            store_id, group_id, change, expected_revision=expected_revision, actor=actor, at=at
        )

    def delete_group(self, store_id: str, group_id: str, *, expected_revision: str | None) -> None:
        def work(conn: Connection) -> None:
            self._count(conn, store_id, "group_count")
            row = conn.one(_GROUP_SEQ, store_id=store_id, group_id=group_id)
            if row is None:
                raise NotFound("GROUP", group_id)
            check_revision(row[1], expected_revision)
            conn.run(_DELETE_GROUP, seq_=row[0])

        self._write(work)

    # -- memberships -------------------------------------------------------------------------

    def create_membership(
        self, store_id: str, group_id: str, user_id: str, *, actor: str, at: datetime
    ) -> Membership:
        audit = Audit.new(actor, at)

        def work(conn: Connection) -> Membership:
            user_seq, group_seq = self._user_and_group(conn, store_id, user_id, group_id)
            membership_id = new_resource_id(store_id, id_format_of(conn, store_id))
            seq = conn.scalar(
                _INSERT_MEMBERSHIP,
                store_id=store_id,
                membership_id=membership_id,
                group_seq=group_seq,
                user_seq=user_seq,
                group_id=group_id,
                user_id=user_id,
                **_audit_values(audit),
            )
            return Membership(store_id, membership_id, seq, group_id, user_id, audit)

        # A user or group deleted concurrently (PostgreSQL) fails the foreign key: report
        # whichever is now missing.
        def gone() -> Exception:
            try:
                self._read(lambda conn: self._user_and_group(conn, store_id, user_id, group_id))
            except NotFound as missing:
                return missing
            return InternalError("a referenced row is missing")  # pragma: no cover

        return self._write(work, gone)

    def _user_and_group(
        self, conn: Connection, store_id: str, user_id: str, group_id: str
    ) -> tuple[int, int]:
        user = conn.one(_USER_SEQ, store_id=store_id, user_id=user_id)
        if user is None:
            raise self._missing(conn, store_id, "USER", user_id)
        group = conn.one(_GROUP_SEQ, store_id=store_id, group_id=group_id)
        if group is None:
            raise NotFound("GROUP", group_id)
        return int(user[0]), int(group[0])

    def get_membership(self, store_id: str, membership_id: str) -> Membership:
        def work(conn: Connection) -> Membership:
            row = conn.one(_GET_MEMBERSHIP, store_id=store_id, membership_id=membership_id)
            if row is None:
                raise self._missing(conn, store_id, "GROUP_MEMBERSHIP", membership_id)
            return membership_of(row)

        return self._read(work)

    def find_membership(self, store_id: str, group_id: str, user_id: str) -> Membership:
        def work(conn: Connection) -> Membership:
            row = conn.one(_FIND_MEMBERSHIP, store_id=store_id, group_id=group_id, user_id=user_id)
            if row is None:
                self._user_and_group(conn, store_id, user_id, group_id)
                raise NotFound("GROUP_MEMBERSHIP", "")
            return membership_of(row)

        return self._read(work)

    def delete_membership(self, store_id: str, membership_id: str) -> None:
        def work(conn: Connection) -> None:
            if conn.run(_DELETE_MEMBERSHIP, store_id=store_id, membership_id=membership_id) == 0:
                raise self._missing(conn, store_id, "GROUP_MEMBERSHIP", membership_id)

        self._write(work)

    def list_group_memberships(
        self, store_id: str, group_id: str, after: int | None, limit: int
    ) -> Page[Membership]:
        """Memberships of one group, in creation order."""

        def work(conn: Connection) -> list[Row]:
            group = conn.one(_GROUP_SEQ, store_id=store_id, group_id=group_id)
            if group is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            return conn.all(
                _MEMBERSHIPS_OF_GROUP, owner=group[0], after=after or 0, limit=limit + 1
            )

        return _page([membership_of(r) for r in self._read(work)], limit, lambda m: m.seq)

    def list_user_memberships(
        self, store_id: str, user_id: str, after: int | None, limit: int
    ) -> Page[Membership]:
        """Memberships of one user, in creation order."""

        def work(conn: Connection) -> list[Row]:
            user = conn.one(_USER_SEQ, store_id=store_id, user_id=user_id)
            if user is None:
                raise self._missing(conn, store_id, "USER", user_id)
            return conn.all(_MEMBERSHIPS_OF_USER, owner=user[0], after=after or 0, limit=limit + 1)

        return _page([membership_of(r) for r in self._read(work)], limit, lambda m: m.seq)

    def groups_of_user_among(
        self, store_id: str, user_id: str, group_ids: Collection[str]
    ) -> set[str]:
        """Which of `group_ids` the user is a member of (unknown groups simply are not).

        The user's memberships when they are few (see `_FEW_GROUPS`), else one statement with an
        indexed probe per group asked about; either way the cost does not grow with the
        directory.
        """
        unique = set(group_ids)

        def work(conn: Connection) -> set[str]:
            user = conn.one(_USER_SEQ, store_id=store_id, user_id=user_id)
            if user is None:
                raise self._missing(conn, store_id, "USER", user_id)
            if not unique:
                return set()
            rows = conn.all(_GROUPS_OF_USER, user_seq=user[0], limit=_FEW_GROUPS + 1)
            if len(rows) <= _FEW_GROUPS:
                return unique.intersection(row[0] for row in rows)
            wanted = {f"g{i}": g for i, g in enumerate(sorted(unique))}
            rows = conn.all(_is_member(len(unique)), store_id=store_id, user_seq=user[0], **wanted)
            return {row[0] for row in rows}

        return self._read(work)

    # -- settings ----------------------------------------------------------------------------

    def setting(self, name: str, default: Callable[[], str]) -> str:
        """A server-wide value; the first caller's `default()` wins, on every process."""
        value = self._read(lambda conn: conn.scalar(_GET_SETTING, name=name))
        if value is not None:
            return str(value)
        try:
            self._write(lambda conn: conn.run(_INSERT_SETTING, name=name, value=default()))
        except Unavailable:
            raise
        except InternalError:
            pass  # another process inserted it first
        return str(self._read(lambda conn: conn.scalar(_GET_SETTING, name=name)))

    def counts(self) -> dict[str, int]:
        """Rows per table, for diagnostics."""
        with self._engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (identity_stores, users, groups, memberships)
            }

"""Bulk import and export of one identity store: the Store side of `idstore import` / `export`.

A mixin of `Store` (see `store.py` for the transaction contract its methods follow).

Import (`import_records`) is one write transaction, all or nothing, built for speed: each kind
of row goes to the database in batches through `executemany` of one precompiled statement, so
the per-row cost is the driver's, not Python's. It is a merge keyed by id, which makes
re-importing the same records a no-op:

- users and groups are upserted (`INSERT ... ON CONFLICT (store_id, id) DO UPDATE`): a new id
  is inserted, an existing one takes every value from the record (profile, status, Revision,
  audit) and keeps its place in creation order;
- their external-id index rows are replaced (skipped when the store held none of that kind);
- memberships are `INSERT ... SELECT` joining the user and group by id, `ON CONFLICT (group,
  user) DO NOTHING`: a pair that is already a membership is left as it is.

Uniqueness stays the database's business. When a constraint fails, the transaction is rolled
back and `find_conflict` looks the records up one by one (a slow path, taken only on failure) to
name the record at fault. Imports are not subject to the per-store quotas; the counters are
recomputed at the end of the transaction.

Export (`export_records`) reads the store in one snapshot transaction, page by page through
indexes: users, then groups, in creation order, then each group's memberships.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)

from idstore.errors import Conflict, IdstoreError, NotFound
from idstore.model import (
    Audit,
    ExternalId,
    GroupData,
    GroupRecord,
    Membership,
    UserData,
    UserRecord,
    dump_json,
    external_id_key,
    to_ms,
)
from idstore.store import dialects
from idstore.store.host import StoreHost
from idstore.store.rows import GROUP, MEMBERSHIP, USER, group_of, membership_of, user_of
from idstore.store.schema import (
    group_external_ids,
    groups,
    identity_stores,
    memberships,
    metadata,
    user_external_ids,
    users,
)
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
)
from idstore.store.statements import param as _p

T = TypeVar("T")
R = TypeVar("R")


class _Keyed(Protocol):
    @property
    def seq(self) -> int: ...


K = TypeVar("K", bound=_Keyed)

BATCH = 10_000  # rows per executemany, and per progress report
CACHE_MIB = 256  # SQLite's page cache during an import (measured: 3x faster than the default)
PAGE = 2_000  # rows per export query


# Records to import hold what the rows need, already encoded: a million of them must fit in
# memory comfortably, so no parsed profile documents are kept.


@dataclass(frozen=True, slots=True)
class BulkUser:
    user_id: str
    user_name_key: str
    email_key: str | None
    external_id_keys: tuple[str, ...]
    status: str
    attributes: str  # JSON
    extensions: str | None  # JSON
    revision: int
    audit: Audit

    @classmethod
    def of(cls, user_id: str, data: UserData, revision: int, audit: Audit) -> BulkUser:
        return cls(
            user_id,
            data.user_name_key,
            data.email_key,
            _keys(data.external_ids),
            data.status.value,
            dump_json(data.attributes),
            dump_json(data.extensions) if data.extensions else None,
            revision,
            audit,
        )


@dataclass(frozen=True, slots=True)
class BulkGroup:
    group_id: str
    display_name_key: str | None
    external_id_keys: tuple[str, ...]
    attributes: str  # JSON
    revision: int
    audit: Audit

    @classmethod
    def of(cls, group_id: str, data: GroupData, revision: int, audit: Audit) -> BulkGroup:
        return cls(
            group_id,
            data.display_name_key,
            _keys(data.external_ids),
            dump_json(data.attributes),
            revision,
            audit,
        )


def _keys(ids: Iterable[ExternalId]) -> tuple[str, ...]:
    return tuple(sorted({external_id_key(e) for e in ids}))


@dataclass(frozen=True, slots=True)
class BulkMembership:
    membership_id: str
    group_id: str
    user_id: str
    audit: Audit


@dataclass(frozen=True, slots=True)
class ImportCounts:
    users: int
    groups: int
    memberships: int


class RecordError(IdstoreError):
    """One record of a bulk import cannot be stored: `kind` ("user", "group", "membership")
    and `index` (its position in the sequence of that kind) say which."""

    def __init__(self, kind: str, index: int, error: IdstoreError) -> None:
        super().__init__(error.message)
        self.kind = kind
        self.index = index
        self.error = error


# Typed, for the parameters PostgreSQL must infer in a SELECT list (INSERT ... SELECT).
def _text(name: str) -> Any:
    return bindparam(name, type_=String())


def _int(name: str) -> Any:
    return bindparam(name, type_=BigInteger())


def _upsert(dialect: str, table: Table, key: str, values: list[str]) -> Any:
    insert = dialects.insert_for(dialect)(table).values(
        {c: _p(c) for c in ["store_id", key, *values]}
    )
    return insert.on_conflict_do_update(
        index_elements=[table.c.store_id, table.c[key]],
        set_={c: insert.excluded[c] for c in values},
    )


def _add_membership(dialect: str) -> Any:
    source = select(
        _text("store_id"),
        _text("membership_id"),
        groups.c.seq,
        users.c.seq,
        groups.c.group_id,
        users.c.user_id,
        _int("created_at"),
        _text("created_by"),
        _int("updated_at"),
        _text("updated_by"),
    ).where(
        groups.c.store_id == _p("store_id"),
        groups.c.group_id == _p("group_id"),
        users.c.store_id == _p("store_id"),
        users.c.user_id == _p("user_id"),
    )
    columns = ["store_id", "membership_id", "group_seq", "user_seq", "group_id", "user_id"]
    insert = dialects.insert_for(dialect)(memberships).from_select([*columns, *AUDIT], source)
    return insert.on_conflict_do_nothing(
        index_elements=[memberships.c.group_seq, memberships.c.user_seq]
    )


def _owner_seq(owner: Table, key: str) -> Any:
    return (
        select(owner.c.seq)
        .where(owner.c.store_id == _p("store_id"), owner.c[key] == _p("owner_id"))
        .scalar_subquery()
    )


def _clear_external_ids(table: Table, owner: Table, key: str) -> Any:
    return delete(table).where(table.c.owner_seq == _owner_seq(owner, key))


def _add_external_id(table: Table, owner: Table, key: str) -> Any:
    source = select(_text("store_id"), owner.c.seq, _text("key")).where(
        owner.c.store_id == _p("store_id"), owner.c[key] == _p("owner_id")
    )
    return table.insert().from_select(["store_id", "owner_seq", "key"], source)


# Per dialect, built on first use (an import is rare; start-up is not).
@functools.cache
def _upsert_user(dialect: str) -> Any:
    return _upsert(dialect, users, "user_id", USER_VALUES)


@functools.cache
def _upsert_group(dialect: str) -> Any:
    return _upsert(dialect, groups, "group_id", GROUP_VALUES)


@functools.cache
def _membership_insert(dialect: str) -> Any:
    return _add_membership(dialect)


_CLEAR_USER_EXTERNAL_IDS = _clear_external_ids(user_external_ids, users, "user_id")
_CLEAR_GROUP_EXTERNAL_IDS = _clear_external_ids(group_external_ids, groups, "group_id")
_ADD_USER_EXTERNAL_ID = _add_external_id(user_external_ids, users, "user_id")
_ADD_GROUP_EXTERNAL_ID = _add_external_id(group_external_ids, groups, "group_id")

# Every writer of users or groups takes the store row first (see store.py); so does an import.
_LOCK_STORE = (
    update(identity_stores)
    .where(identity_stores.c.store_id == _p("store_id"))
    .values(user_count=identity_stores.c.user_count)
)
_INSERT_STORE = identity_stores.insert().values(
    store_id=_p("store_id"), created_at=_p("created_at")
)
_GET_COUNTS = select(identity_stores.c.user_count, identity_stores.c.group_count).where(
    identity_stores.c.store_id == _p("store_id")
)
_RECOUNT = (
    update(identity_stores)
    .where(identity_stores.c.store_id == _p("store_id"))
    .values(
        user_count=select(func.count())
        .select_from(users)
        .where(users.c.store_id == _p("store_id"))
        .scalar_subquery(),
        group_count=select(func.count())
        .select_from(groups)
        .where(groups.c.store_id == _p("store_id"))
        .scalar_subquery(),
    )
)

# Point look-ups for references and for naming the record at fault after a failure.
_USER_EXISTS = select(users.c.user_id).where(
    users.c.store_id == _p("store_id"), users.c.user_id == _p("user_id")
)
_GROUP_EXISTS = select(groups.c.group_id).where(
    groups.c.store_id == _p("store_id"), groups.c.group_id == _p("group_id")
)
_MEMBERSHIP_PAIR = select(memberships.c.group_id, memberships.c.user_id).where(
    memberships.c.store_id == _p("store_id"), memberships.c.membership_id == _p("membership_id")
)

_USERS_PAGE = (
    USER.select()
    .where(users.c.store_id == _p("store_id"), users.c.seq > _p("after"))
    .order_by(users.c.seq)
    .limit(_p("limit"))
)
_GROUPS_PAGE = (
    GROUP.select()
    .where(groups.c.store_id == _p("store_id"), groups.c.seq > _p("after"))
    .order_by(groups.c.seq)
    .limit(_p("limit"))
)
# Memberships group by group, through the (group_seq, seq) index: they have no (store_id,
# seq) index, and a store-wide walk in seq order would sort the whole store's memberships for
# every page.
_GROUP_MEMBERSHIPS_PAGE = (
    MEMBERSHIP.select()
    .where(memberships.c.group_seq == _p("owner"), memberships.c.seq > _p("after"))
    .order_by(memberships.c.seq)
    .limit(_p("limit"))
)
_COUNT_MEMBERSHIPS = (
    select(func.count()).select_from(memberships).where(memberships.c.store_id == _p("store_id"))
)


def _audit_values(audit: Audit) -> dict[str, Any]:
    return {
        "created_at": audit.created_ms,
        "created_by": audit.created_by,
        "updated_at": audit.updated_ms,
        "updated_by": audit.updated_by,
    }


def _user_row(store_id: str, user: BulkUser) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "user_id": user.user_id,
        "user_name_key": user.user_name_key,
        "email_key": user.email_key,
        "revision": user.revision,
        "status": user.status,
        "attributes": user.attributes,
        "extensions": user.extensions,
        **_audit_values(user.audit),
    }


def _group_row(store_id: str, group: BulkGroup) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "group_id": group.group_id,
        "display_name_key": group.display_name_key,
        "revision": group.revision,
        "attributes": group.attributes,
        **_audit_values(group.audit),
    }


def _membership_row(store_id: str, membership: BulkMembership) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "membership_id": membership.membership_id,
        "group_id": membership.group_id,
        "user_id": membership.user_id,
        **_audit_values(membership.audit),
    }


class _Host(StoreHost, Protocol):
    """The parts of `Store` this mixin builds on."""

    _pool: Pool
    _dbapi: Any

    @property
    def dialect(self) -> str: ...


class _Batches:
    """Runs a statement over items in batches (each turned into rows only then, to keep
    memory flat), and reports each batch done."""

    def __init__(self, conn: Connection, progress: Callable[[int], None] | None) -> None:
        self._conn = conn
        self._progress = progress

    def run(
        self,
        statement: Any,
        items: Sequence[R],
        rows: Callable[[R], Iterable[dict[str, Any]]],
        *,
        report: bool,
    ) -> None:
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            self._conn.run_many(statement, [row for item in batch for row in rows(item)])
            if report and self._progress is not None:
                self._progress(len(batch))


class BulkTransfer:
    """Store methods for bulk import and export."""

    def import_records(
        self: _Host,
        store_id: str,
        users: Sequence[BulkUser],
        groups: Sequence[BulkGroup],
        memberships: Sequence[BulkMembership],
        *,
        progress: Callable[[int], None] | None = None,
        create_at: datetime | None = None,
    ) -> ImportCounts:
        """Merge the records into the store in one transaction (see the module docstring).

        With `create_at`, a store that does not exist is created (at that time) in the same
        transaction, so a failed import leaves no empty store behind. Raises NotFound for a
        missing store (without `create_at`), RecordError for a membership whose user or group
        is neither among the records nor in the store, and Conflict for a uniqueness violation
        (`find_conflict` then names the record). `progress(n)` is called as records are written.
        """

        def one(row: Callable[[str, T], dict[str, Any]]) -> Callable[[T], list[dict[str, Any]]]:
            return lambda item: [row(store_id, item)]

        def owner(owner_id: str) -> dict[str, Any]:
            return {"store_id": store_id, "owner_id": owner_id}

        def keys(owner_id: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
            return [{"store_id": store_id, "owner_id": owner_id, "key": k} for k in keys]

        new_users = {u.user_id for u in users}
        new_groups = {g.group_id for g in groups}
        dialect = self.dialect

        def work(conn: Connection) -> ImportCounts:
            with conn.large_cache(CACHE_MIB):
                try:
                    return load(conn)
                except self._dbapi.IntegrityError as error:
                    # Some unique key of a record is taken (find_conflict says which); the
                    # transaction is rolled back by the caller.
                    name = dialects.constraint_of(error, metadata)
                    raise Conflict(
                        "UNIQUENESS_CONSTRAINT_VIOLATION", f"A unique key is taken ({name})."
                    ) from None

        def load(conn: Connection) -> ImportCounts:
            if conn.run(_LOCK_STORE, store_id=store_id) == 0:
                if create_at is None:
                    raise NotFound("IDENTITY_STORE", store_id)
                conn.run(_INSERT_STORE, store_id=store_id, created_at=to_ms(create_at))
            had_users, had_groups = conn.one(_GET_COUNTS, store_id=store_id) or (0, 0)
            batches = _Batches(conn, progress)
            batches.run(_upsert_user(dialect), users, one(_user_row), report=True)
            batches.run(_upsert_group(dialect), groups, one(_group_row), report=True)
            if had_users:
                clear = _CLEAR_USER_EXTERNAL_IDS
                batches.run(clear, users, lambda u: [owner(u.user_id)], report=False)
            if had_groups:
                clear = _CLEAR_GROUP_EXTERNAL_IDS
                batches.run(clear, groups, lambda g: [owner(g.group_id)], report=False)
            add = _ADD_USER_EXTERNAL_ID
            batches.run(add, users, lambda u: keys(u.user_id, u.external_id_keys), report=False)
            add = _ADD_GROUP_EXTERNAL_ID
            batches.run(add, groups, lambda g: keys(g.group_id, g.external_id_keys), report=False)
            _check_references(conn, store_id, memberships, new_users, new_groups)
            membership = _membership_insert(dialect)
            batches.run(membership, memberships, one(_membership_row), report=True)
            conn.run(_RECOUNT, store_id=store_id)
            return ImportCounts(len(users), len(groups), len(memberships))

        return self._write(work)

    def find_conflict(
        self: _Host,
        store_id: str,
        users: Sequence[BulkUser],
        groups: Sequence[BulkGroup],
        memberships: Sequence[BulkMembership],
    ) -> RecordError | None:
        """The first record whose unique keys another record already holds in the store.

        For naming the culprit after `import_records` failed with Conflict: the records are
        looked up one by one against the store as it is (the import was rolled back).
        """

        def owner(conn: Connection, statement: Any, key: str) -> str | None:
            found = conn.scalar(statement, store_id=store_id, key=key)
            return None if found is None else str(found)

        def work(conn: Connection) -> RecordError | None:
            for index, user in enumerate(users):
                checks = [(USER_BY_NAME, user.user_name_key, "UserName")]
                if user.email_key is not None:
                    checks.append((USER_BY_EMAIL, user.email_key, "email address"))
                checks += [(USER_BY_EXTERNAL_ID, k, "ExternalId") for k in user.external_id_keys]
                for statement, key, what in checks:
                    other = owner(conn, statement, key)
                    if other is not None and other != user.user_id:
                        return _taken("user", index, f"user {other} already has this {what}")
            for index, group in enumerate(groups):
                checks = [(GROUP_BY_EXTERNAL_ID, k, "ExternalId") for k in group.external_id_keys]
                if group.display_name_key is not None:
                    checks.insert(0, (GROUP_BY_NAME, group.display_name_key, "DisplayName"))
                for statement, key, what in checks:
                    other = owner(conn, statement, key)
                    if other is not None and other != group.group_id:
                        return _taken("group", index, f"group {other} already has this {what}")
            for index, membership in enumerate(memberships):
                pair = conn.one(
                    _MEMBERSHIP_PAIR, store_id=store_id, membership_id=membership.membership_id
                )
                if pair is not None and tuple(pair) != (membership.group_id, membership.user_id):
                    return _taken(
                        "membership",
                        index,
                        f"MembershipId {membership.membership_id} already joins user {pair[1]} "
                        f"to group {pair[0]}",
                    )
            return None

        return self._read(work)

    def count_records(self: _Host, store_id: str) -> ImportCounts:
        """How many users, groups and memberships the store holds."""

        def work(conn: Connection) -> ImportCounts:
            store = self._require_store(conn, store_id)
            count = conn.scalar(_COUNT_MEMBERSHIPS, store_id=store_id)
            return ImportCounts(store.user_count, store.group_count, int(count))

        return self._read(work)

    def export_records(
        self: _Host, store_id: str
    ) -> Iterator[UserRecord | GroupRecord | Membership]:
        """Every user, then every group, each in creation order, then the memberships of each
        group in turn, in the order they were made; all from one snapshot of the store. Holds a
        connection until exhausted or closed."""
        with self._pool.connection() as conn:
            conn.begin_snapshot()
            try:
                self._require_store(conn, store_id)
                yield from _pages(conn, _USERS_PAGE, user_of, store_id=store_id)
                group_seqs = []
                for group in _pages(conn, _GROUPS_PAGE, group_of, store_id=store_id):
                    group_seqs.append(group.seq)
                    yield group
                for seq in group_seqs:
                    yield from _pages(conn, _GROUP_MEMBERSHIPS_PAGE, membership_of, owner=seq)
            finally:
                conn.rollback()


def _taken(kind: str, index: int, message: str) -> RecordError:
    return RecordError(kind, index, Conflict("UNIQUENESS_CONSTRAINT_VIOLATION", message))


def _check_references(
    conn: Connection,
    store_id: str,
    memberships: Sequence[BulkMembership],
    new_users: set[str],
    new_groups: set[str],
) -> None:
    """Memberships must join a user and a group that exist: among the records or in the store.

    Checked inside the import's transaction, so a concurrent delete cannot slip between."""
    known_users, known_groups = set(new_users), set(new_groups)
    for index, m in enumerate(memberships):
        if m.user_id not in known_users:
            if conn.one(_USER_EXISTS, store_id=store_id, user_id=m.user_id) is None:
                raise RecordError("membership", index, NotFound("USER", m.user_id))
            known_users.add(m.user_id)
        if m.group_id not in known_groups:
            if conn.one(_GROUP_EXISTS, store_id=store_id, group_id=m.group_id) is None:
                raise RecordError("membership", index, NotFound("GROUP", m.group_id))
            known_groups.add(m.group_id)


def _pages(
    conn: Connection, statement: Any, convert: Callable[[Row], K], **params: Any
) -> Iterator[K]:
    """Every record of a keyset-paged statement (`after`: the last record's seq)."""
    after = 0
    while True:
        records = [convert(row) for row in conn.all(statement, after=after, limit=PAGE, **params)]
        yield from records
        if len(records) < PAGE:
            return
        after = records[-1].seq

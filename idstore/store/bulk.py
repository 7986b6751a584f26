"""Bulk import and export of one identity store: the Store side of `idstore import` / `export`.

A mixin of `Store` (see `store.py` for the transaction contract its methods follow).

Import (`import_records`) is built for speed: each kind of row goes to the database in batches
through `executemany` of one precompiled statement, so the per-row cost is the driver's, not
Python's. By default it commits every `IMPORT_BATCH` records (users first, then groups, then
memberships; a user or group always with its external ids), so that it holds SQLite's write
lock (or the identity store's row, on PostgreSQL) for a fraction of a second at a time and a
live server's writes get their turn in between (on SQLite it pauses briefly after each commit:
a waiting writer polls for the lock). A failure then leaves the batches before it in the store
(`PartlyImported` says how many records). With `batch=None` it is one transaction, all or
nothing, holding the lock throughout. It is a merge keyed by id, which makes re-importing the
same records a no-op (so a stopped import is finished by running it again):

- users and groups are upserted (`INSERT ... ON CONFLICT (store_id, id) DO UPDATE`): a new id
  is inserted, an existing one takes every value from the record (profile, status, Revision,
  audit) and keeps its place in creation order;
- their external-id index rows are replaced (skipped when the store held none of that kind);
- memberships are `INSERT ... SELECT` joining the user and group by id, `ON CONFLICT (group,
  user) DO NOTHING`: a pair that is already a membership is left as it is.

Uniqueness stays the database's business. When a constraint fails, the transaction is rolled
back and `find_conflict` looks the records up one by one (a slow path, taken only on failure) to
name the record at fault. Imports are not subject to the per-store quotas; the counters are
recomputed at the end of each transaction.

Export (`export_records`) reads the store in one snapshot transaction, page by page through
indexes: users, then groups, in creation order, then each group's memberships.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import BigInteger, String, Table, bindparam, delete, func, select, update

from idstore.errors import Conflict, IdstoreError, NotFound
from idstore.model import (
    Audit,
    ExternalId,
    GroupData,
    GroupRecord,
    IdFormat,
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
    insert_store,
)
from idstore.store.statements import param as _p

T = TypeVar("T")
R = TypeVar("R")


class _Keyed(Protocol):
    @property
    def seq(self) -> int: ...


K = TypeVar("K", bound=_Keyed)

BATCH = 10_000  # rows per executemany, and per progress report
# Records per transaction of an import in batches: about 0.1-0.3 s of the write lock on SQLite
# (measured: a million users load in about 80 s), well within a live writer's lock deadline.
IMPORT_BATCH = 10_000
# SQLite: the pause after each batch's commit. A writer waiting for the lock polls for it,
# sleeping up to 100 ms between polls; this lets it in before the next batch takes the lock.
_SQLITE_PAUSE = 0.15
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


class PartlyImported(IdstoreError):
    """An import in batches stopped at `error`; the batches before it are in the store
    (`done` records of each kind)."""

    def __init__(self, error: IdstoreError, done: ImportCounts) -> None:
        super().__init__(error.message)
        self.error = error
        self.done = done


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

    @property
    def in_memory(self) -> bool: ...


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


def _counts(conn: Connection, store_id: str) -> tuple[int, int]:
    """The store's user and group counts; NotFound if there is no such store."""
    row = conn.one(_GET_COUNTS, store_id=store_id)
    if row is None:
        raise NotFound("IDENTITY_STORE", store_id)
    return int(row[0]), int(row[1])


class _Load:
    """The statements of an import, by kind of record, for one or many transactions."""

    def __init__(
        self,
        host: _Host,
        store_id: str,
        users: Sequence[BulkUser],
        groups: Sequence[BulkGroup],
        progress: Callable[[int], None] | None,
        create_at: datetime | None = None,
    ) -> None:
        self._host = host
        self._store_id = store_id
        self._create_at = create_at
        self._dialect = host.dialect
        self._new_users = {u.user_id for u in users}
        self._new_groups = {g.group_id for g in groups}
        self._progress = progress

    def guarded(self, conn: Connection, part: Callable[[Connection], None]) -> None:
        """Run `part` with a large page cache; a taken unique key becomes Conflict."""
        with conn.large_cache(CACHE_MIB):
            try:
                part(conn)
            except self._host._dbapi.IntegrityError:
                # Some unique key of a record is taken (find_conflict says which); the
                # transaction is rolled back by the caller.
                raise Conflict(
                    "UNIQUENESS_CONSTRAINT_VIOLATION",
                    "A unique key of a record is already taken in the store.",
                ) from None

    def batch(
        self, conn: Connection, *, part: Callable[..., None], chunk: Sequence[Any], start: int
    ) -> None:
        """One transaction of an import in batches: `part(conn, chunk, start)`."""

        def run(conn: Connection) -> None:
            self.lock(conn)
            part(conn, chunk, start)
            self.recount(conn)

        self.guarded(conn, run)

    def check(self, conn: Connection, memberships: Sequence[BulkMembership]) -> tuple[int, int]:
        """Before an import in batches: the store's counts, and every membership's user and
        group exist (RecordError otherwise), so that such a file writes nothing."""
        try:
            counts = _counts(conn, self._store_id)
        except NotFound:
            if self._create_at is None:
                raise
            counts = (0, 0)  # created by the first batch (`lock`)
        _check_references(conn, self._store_id, memberships, self._new_users, self._new_groups)
        return counts

    def lock(self, conn: Connection) -> tuple[int, int]:
        """Take the store's row (every writer of users or groups takes it first, see
        store.py); return its user and group counts."""
        if conn.run(_LOCK_STORE, store_id=self._store_id) == 0:
            if self._create_at is None:
                raise NotFound("IDENTITY_STORE", self._store_id)
            # Created in the import's (first) transaction: a failure before leaves no store.
            insert_store(conn, self._store_id, to_ms(self._create_at), IdFormat.UUID)
        return _counts(conn, self._store_id)

    def recount(self, conn: Connection) -> None:
        conn.run(_RECOUNT, store_id=self._store_id)

    def _owner(self, owner_id: str) -> dict[str, Any]:
        return {"store_id": self._store_id, "owner_id": owner_id}

    def _keys(self, owner_id: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{"store_id": self._store_id, "owner_id": owner_id, "key": k} for k in keys]

    def users(self, conn: Connection, users: Sequence[BulkUser], had: tuple[int, int]) -> None:
        store_id, batches = self._store_id, _Batches(conn, self._progress)
        batches.run(
            _upsert_user(self._dialect), users, lambda u: [_user_row(store_id, u)], report=True
        )
        if had[0]:
            clear = _CLEAR_USER_EXTERNAL_IDS
            batches.run(clear, users, lambda u: [self._owner(u.user_id)], report=False)
        add = _ADD_USER_EXTERNAL_ID
        batches.run(add, users, lambda u: self._keys(u.user_id, u.external_id_keys), report=False)

    def groups(self, conn: Connection, groups: Sequence[BulkGroup], had: tuple[int, int]) -> None:
        store_id, batches = self._store_id, _Batches(conn, self._progress)
        batches.run(
            _upsert_group(self._dialect), groups, lambda g: [_group_row(store_id, g)], report=True
        )
        if had[1]:
            clear = _CLEAR_GROUP_EXTERNAL_IDS
            batches.run(clear, groups, lambda g: [self._owner(g.group_id)], report=False)
        add = _ADD_GROUP_EXTERNAL_ID
        batches.run(add, groups, lambda g: self._keys(g.group_id, g.external_id_keys), report=False)

    def memberships(
        self, conn: Connection, memberships: Sequence[BulkMembership], start: int
    ) -> None:
        """`memberships` are those from index `start` of the import's sequence."""
        store_id = self._store_id
        _check_references(conn, store_id, memberships, self._new_users, self._new_groups, start)
        _Batches(conn, self._progress).run(
            _membership_insert(self._dialect),
            memberships,
            lambda m: [_membership_row(store_id, m)],
            report=True,
        )


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
        batch: int | None = IMPORT_BATCH,
        create_at: datetime | None = None,
    ) -> ImportCounts:
        """Merge the records into the store, `batch` records per transaction (None: all in
        one); see the module docstring.

        With `create_at`, a missing store is created (with ids in UUID format) in the first
        transaction that writes, so that a file refused before any write leaves no store.
        Raises NotFound for a missing store (without `create_at`), RecordError for a membership
        whose user or group is neither among the records nor in the store, and Conflict for a
        uniqueness violation
        (`find_conflict` then names the record); PartlyImported wraps them if some batches
        were committed. `progress(n)` is called as records are written.
        """
        load = _Load(self, store_id, users, groups, progress, create_at)
        total = ImportCounts(len(users), len(groups), len(memberships))
        if batch is None:

            def everything(conn: Connection) -> None:
                had = load.lock(conn)
                load.users(conn, users, had)
                load.groups(conn, groups, had)
                load.memberships(conn, memberships, 0)
                load.recount(conn)

            self._write(lambda conn: load.guarded(conn, everything))
            return total
        had = self._read(lambda conn: load.check(conn, memberships))
        pause = _SQLITE_PAUSE if self.dialect == "sqlite" and not self.in_memory else 0.0
        done = [0, 0, 0]

        def in_batches(kind: int, items: Sequence[Any], part: Callable[..., None]) -> None:
            for start in range(0, len(items), batch):
                chunk = items[start : start + batch]
                self._write(functools.partial(load.batch, part=part, chunk=chunk, start=start))
                done[kind] += len(chunk)
                if pause:
                    time.sleep(pause)

        try:
            in_batches(0, users, lambda conn, chunk, _: load.users(conn, chunk, had))
            in_batches(1, groups, lambda conn, chunk, _: load.groups(conn, chunk, had))
            in_batches(2, memberships, load.memberships)
        except IdstoreError as error:
            if any(done):
                raise PartlyImported(error, ImportCounts(*done)) from error
            raise
        if create_at is not None and not any(done):  # an empty file: just the store
            self._write(load.lock)
        return total

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
    start: int = 0,
) -> None:
    """Memberships must join a user and a group that exist: among the records or in the store.

    Checked inside the transaction that adds them, so a concurrent delete cannot slip between
    (a record's user deleted by a live server between two batches of an import makes its
    memberships miss: the insert joins on the user). `start`: the index of the first."""
    known_users, known_groups = set(new_users), set(new_groups)
    for index, m in enumerate(memberships, start):
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

"""The Store: every read and write idstore makes, on SQLAlchemy Core, for SQLite and PostgreSQL.

Contract, for every public method:

- It is one database transaction. Writes begin with `BEGIN IMMEDIATE` on SQLite; on PostgreSQL
  they run at READ COMMITTED and lock what they read-modify-write (`FOR UPDATE`).
- Transient failures (serialization failures, deadlocks, a busy SQLite file, a dropped
  connection) are retried here, a few times with a short backoff; callers never retry.
- Invariants are the database's: uniqueness violations surface as `Conflict`, missing referenced
  rows as `NotFound`, and nothing is half-written.
- Every query is scoped by `store_id`. A miss on a resource then checks whether the identity
  store itself exists, so the caller learns which one is missing (`IDENTITY_STORE` first).
- Writes that change the number of users or groups update the counters on the identity store
  row first. That row is the one lock every such writer takes, in the same order, so the quota
  check is exact and writers cannot deadlock each other.

Ids arrive already normalised (no ARNs); keys arrive through `UserData` / `GroupData`.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, Row, Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from idstore.errors import (
    Conflict,
    ConflictReason,
    InternalError,
    NotFound,
    QuotaExceeded,
    ResourceType,
)
from idstore.model import (
    Audit,
    ExternalId,
    GroupData,
    GroupRecord,
    IdentityStore,
    Json,
    Membership,
    Page,
    UserData,
    UserRecord,
    UserStatus,
    dump_json,
    external_id_key,
    new_resource_id,
    new_store_id,
    normalise_key,
)
from idstore.store import dialects
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

T = TypeVar("T")

_RETRIES = 8

_UNIQUENESS: ConflictReason = "UNIQUENESS_CONSTRAINT_VIOLATION"

# What each constraint means to a client when a write breaks it.
_CONFLICTS = {
    "uq_users_store_id_user_name_key": "A user with this UserName already exists.",
    "uq_users_store_id_email_key": "A user with this email address already exists.",
    "uq_groups_store_id_display_name_key": "A group with this DisplayName already exists.",
    "uq_user_external_ids_store_id_key": "A user with this ExternalId already exists.",
    "uq_group_external_ids_store_id_key": "A group with this ExternalId already exists.",
    "uq_memberships_group_seq_user_seq": "The user is already a member of the group.",
}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _audit(row: Row[Any]) -> Audit:
    return Audit(_dt(row.created_at), row.created_by, _dt(row.updated_at), row.updated_by)


def _audit_values(audit: Audit) -> dict[str, Any]:
    return {
        "created_at": _ms(audit.created_at),
        "created_by": audit.created_by,
        "updated_at": _ms(audit.updated_at),
        "updated_by": audit.updated_by,
    }


def _store_of(row: Row[Any]) -> IdentityStore:
    config = row.network_configuration
    return IdentityStore(
        store_id=row.store_id,
        seq=row.seq,
        created_at=_dt(row.created_at),
        network_configuration=None if config is None else _loads(config),
        user_count=row.user_count,
        group_count=row.group_count,
    )


def _loads(text: str) -> Json:
    import orjson

    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}


def _user_of(row: Row[Any]) -> UserRecord:
    return UserRecord(
        store_id=row.store_id,
        user_id=row.user_id,
        seq=row.seq,
        revision=row.revision,
        status=UserStatus(row.status),
        audit=_audit(row),
        attributes_json=row.attributes,
        extensions_json=row.extensions,
    )


def _group_of(row: Row[Any]) -> GroupRecord:
    return GroupRecord(
        store_id=row.store_id,
        group_id=row.group_id,
        seq=row.seq,
        revision=row.revision,
        audit=_audit(row),
        attributes_json=row.attributes,
    )


def _membership_of(row: Row[Any]) -> Membership:
    return Membership(
        store_id=row.store_id,
        membership_id=row.membership_id,
        seq=row.seq,
        group_id=row.group_id,
        user_id=row.user_id,
        audit=_audit(row),
    )


_USER_COLUMNS = [
    users.c.seq,
    users.c.store_id,
    users.c.user_id,
    users.c.revision,
    users.c.status,
    users.c.attributes,
    users.c.extensions,
    users.c.created_at,
    users.c.created_by,
    users.c.updated_at,
    users.c.updated_by,
]
_GROUP_COLUMNS = [
    groups.c.seq,
    groups.c.store_id,
    groups.c.group_id,
    groups.c.revision,
    groups.c.attributes,
    groups.c.created_at,
    groups.c.created_by,
    groups.c.updated_at,
    groups.c.updated_by,
]


def _check_revision(current: int, expected: str | None) -> None:
    if expected is not None and expected != str(current):
        raise Conflict(
            "CONCURRENT_MODIFICATION",
            f"The resource was modified: its current Revision is {current}, not {expected}. "
            "Read it again and retry.",
        )


class Store:
    """All persistent state. Thread-safe; one instance per process and database."""

    def __init__(self, engine: Engine, *, serialise: bool = False) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        # An in-memory SQLite database is one shared connection: take turns on it.
        self._turns: threading.RLock | None = threading.RLock() if serialise else None

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._turns or nullcontext(), self._engine.connect() as conn:
            yield conn

    def _write(
        self, work: Callable[[Connection], T], on_missing_reference: Callable[[], Exception]
    ) -> T:
        """Run `work` in one write transaction, retrying transient failures."""
        for attempt in range(_RETRIES):
            try:
                with self._turns or nullcontext(), self._engine.connect() as conn:
                    conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        return work(conn)
            except IntegrityError as error:
                raise self._integrity(error, on_missing_reference) from error
            except DBAPIError as error:
                if attempt + 1 < _RETRIES and dialects.is_transient(error):
                    time.sleep(random.uniform(0, 0.005 * 2**attempt))
                    continue
                raise
        raise InternalError("the transaction could not be completed")  # pragma: no cover

    def _integrity(
        self, error: IntegrityError, on_missing_reference: Callable[[], Exception]
    ) -> Exception:
        name = dialects.constraint_of(error, metadata)
        if name in _CONFLICTS:
            return Conflict(_UNIQUENESS, _CONFLICTS[name])
        if name == "foreign_key" or (name or "").startswith("fk_"):
            return on_missing_reference()
        return InternalError("an unexpected constraint failed")

    @staticmethod
    def _no_reference() -> Exception:
        return InternalError("a referenced row is missing")

    # -- identity stores ---------------------------------------------------------------------

    def create_identity_store(self, at: datetime, store_id: str | None = None) -> IdentityStore:
        """A new, empty identity store (with a fresh id unless one is given)."""
        sid = store_id or new_store_id()

        def work(conn: Connection) -> IdentityStore:
            conn.execute(insert(identity_stores).values(store_id=sid, created_at=_ms(at)))
            return self._require_store(conn, sid)

        try:
            return self._write(work, self._no_reference)
        except InternalError:
            raise Conflict(_UNIQUENESS, f"Identity store {sid} already exists.") from None

    def get_identity_store(self, store_id: str) -> IdentityStore:
        with self._read() as conn:
            return self._require_store(conn, store_id)

    def list_identity_stores(
        self, after: int | None, limit: int, only: Collection[str] | None = None
    ) -> Page[IdentityStore]:
        query = select(identity_stores)
        if after is not None:
            query = query.where(identity_stores.c.seq > after)
        if only is not None:
            query = query.where(identity_stores.c.store_id.in_(list(only)))
        query = query.order_by(identity_stores.c.seq).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return _page([_store_of(r) for r in rows], limit)

    def update_identity_store(
        self, store_id: str, network_configuration: Json | None
    ) -> IdentityStore:
        value = None if network_configuration is None else dump_json(network_configuration)

        def work(conn: Connection) -> IdentityStore:
            result = conn.execute(
                update(identity_stores)
                .where(identity_stores.c.store_id == store_id)
                .values(network_configuration=value)
            )
            if result.rowcount == 0:
                raise NotFound("IDENTITY_STORE", store_id)
            return self._require_store(conn, store_id)

        return self._write(work, self._no_reference)

    def delete_identity_store(self, store_id: str) -> None:
        """Delete a store and everything in it."""

        def work(conn: Connection) -> None:
            self._require_store(conn, store_id)
            # Children first: SQLite cannot cascade through several levels in one statement
            # as cheaply as deleting each table by its store_id index.
            for table in (memberships, user_external_ids, group_external_ids, users, groups):
                conn.execute(delete(table).where(table.c.store_id == store_id))
            conn.execute(delete(identity_stores).where(identity_stores.c.store_id == store_id))

        self._write(work, self._no_reference)

    def _require_store(self, conn: Connection, store_id: str) -> IdentityStore:
        row = conn.execute(
            select(identity_stores).where(identity_stores.c.store_id == store_id)
        ).first()
        if row is None:
            raise NotFound("IDENTITY_STORE", store_id)
        return _store_of(row)

    def _missing(self, conn: Connection, store_id: str, kind: ResourceType, rid: str) -> NotFound:
        """The NotFound to raise for a miss: the store's if it is the store that is missing."""
        self._require_store(conn, store_id)
        return NotFound(kind, rid)

    def _count(
        self, conn: Connection, store_id: str, column: str, delta: int, limit: int | None = None
    ) -> None:
        """Change a store's user or group counter, enforcing the quota on increments."""
        col = identity_stores.c[column]
        query = update(identity_stores).where(identity_stores.c.store_id == store_id)
        if limit is not None:
            query = query.where(col < limit)
        if conn.execute(query.values({column: col + delta})).rowcount == 0:
            self._require_store(conn, store_id)
            noun = "users" if column == "user_count" else "groups"
            raise QuotaExceeded(f"The identity store already holds the maximum of {limit} {noun}.")

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, store_id: str, data: UserData, *, actor: str, at: datetime, max_users: int
    ) -> UserRecord:
        user_id = new_resource_id(store_id)
        audit = Audit.new(actor, at)
        attributes = dump_json(data.attributes)
        extensions = dump_json(data.extensions) if data.extensions else None

        def work(conn: Connection) -> UserRecord:
            self._count(conn, store_id, "user_count", 1, max_users)
            seq = conn.execute(
                insert(users)
                .values(
                    store_id=store_id,
                    user_id=user_id,
                    user_name_key=data.user_name_key,
                    email_key=data.email_key,
                    revision=1,
                    status=data.status.value,
                    attributes=attributes,
                    extensions=extensions,
                    **_audit_values(audit),
                )
                .returning(users.c.seq)
            ).scalar_one()
            _put_external_ids(conn, user_external_ids, store_id, seq, data.external_ids)
            return UserRecord(store_id, user_id, seq, 1, data.status, audit, attributes, extensions)

        return self._write(work, lambda: NotFound("IDENTITY_STORE", store_id))

    def get_user(self, store_id: str, user_id: str) -> UserRecord:
        with self._read() as conn:
            row = conn.execute(
                select(*_USER_COLUMNS).where(
                    users.c.store_id == store_id, users.c.user_id == user_id
                )
            ).first()
            if row is None:
                raise self._missing(conn, store_id, "USER", user_id)
            return _user_of(row)

    def find_user_id(
        self,
        store_id: str,
        *,
        user_name: str | None = None,
        email: str | None = None,
        external_id: ExternalId | None = None,
    ) -> str:
        """The id of the user with this user name, e-mail or external id (exactly one given)."""
        if external_id is not None:
            query = (
                select(users.c.user_id)
                .join(user_external_ids, user_external_ids.c.owner_seq == users.c.seq)
                .where(
                    user_external_ids.c.store_id == store_id,
                    user_external_ids.c.key == external_id_key(external_id),
                )
            )
        elif email is not None:
            query = select(users.c.user_id).where(
                users.c.store_id == store_id, users.c.email_key == normalise_key(email)
            )
        else:
            query = select(users.c.user_id).where(
                users.c.store_id == store_id,
                users.c.user_name_key == normalise_key(user_name or ""),
            )
        with self._read() as conn:
            found = conn.execute(query).scalar()
            if found is None:
                raise self._missing(conn, store_id, "USER", "")
            return str(found)

    def list_users(
        self, store_id: str, after: int | None, limit: int, *, user_name: str | None = None
    ) -> Page[UserRecord]:
        query = select(*_USER_COLUMNS).where(users.c.store_id == store_id)
        if user_name is not None:
            query = query.where(users.c.user_name_key == normalise_key(user_name))
        if after is not None:
            query = query.where(users.c.seq > after)
        query = query.order_by(users.c.seq).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._require_store(conn, store_id)
        return _page([_user_of(r) for r in rows], limit)

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
            query = select(*_USER_COLUMNS).where(
                users.c.store_id == store_id, users.c.user_id == user_id
            )
            row = conn.execute(query.with_for_update() if self._postgres else query).first()
            if row is None:
                raise self._missing(conn, store_id, "USER", user_id)
            current = _user_of(row)
            _check_revision(current.revision, expected_revision)
            data = change(current)
            attributes = dump_json(data.attributes)
            extensions = dump_json(data.extensions) if data.extensions else None
            audit = current.audit.touched(actor, at)
            revision = current.revision + 1
            conn.execute(
                update(users)
                .where(users.c.seq == current.seq)
                .values(
                    user_name_key=data.user_name_key,
                    email_key=data.email_key,
                    revision=revision,
                    status=data.status.value,
                    attributes=attributes,
                    extensions=extensions,
                    **_audit_values(audit),
                )
            )
            if data.external_ids != current.data().external_ids:
                conn.execute(
                    delete(user_external_ids).where(user_external_ids.c.owner_seq == current.seq)
                )
                _put_external_ids(conn, user_external_ids, store_id, current.seq, data.external_ids)
            return UserRecord(
                store_id, user_id, current.seq, revision, data.status, audit, attributes, extensions
            )

        return self._write(work, self._no_reference)

    def delete_user(self, store_id: str, user_id: str, *, expected_revision: str | None) -> None:
        """Delete a user and, through the foreign keys, its memberships and external ids."""

        def work(conn: Connection) -> None:
            self._count(conn, store_id, "user_count", -1)
            row = conn.execute(
                select(users.c.seq, users.c.revision).where(
                    users.c.store_id == store_id, users.c.user_id == user_id
                )
            ).first()
            if row is None:
                raise NotFound("USER", user_id)
            _check_revision(row.revision, expected_revision)
            conn.execute(delete(users).where(users.c.seq == row.seq))

        self._write(work, self._no_reference)

    # -- groups ------------------------------------------------------------------------------

    def create_group(
        self, store_id: str, data: GroupData, *, actor: str, at: datetime, max_groups: int
    ) -> GroupRecord:
        group_id = new_resource_id(store_id)
        audit = Audit.new(actor, at)
        attributes = dump_json(data.attributes)

        def work(conn: Connection) -> GroupRecord:
            self._count(conn, store_id, "group_count", 1, max_groups)
            seq = conn.execute(
                insert(groups)
                .values(
                    store_id=store_id,
                    group_id=group_id,
                    display_name_key=data.display_name_key,
                    revision=1,
                    attributes=attributes,
                    **_audit_values(audit),
                )
                .returning(groups.c.seq)
            ).scalar_one()
            _put_external_ids(conn, group_external_ids, store_id, seq, data.external_ids)
            return GroupRecord(store_id, group_id, seq, 1, audit, attributes)

        return self._write(work, lambda: NotFound("IDENTITY_STORE", store_id))

    def get_group(self, store_id: str, group_id: str) -> GroupRecord:
        with self._read() as conn:
            row = conn.execute(
                select(*_GROUP_COLUMNS).where(
                    groups.c.store_id == store_id, groups.c.group_id == group_id
                )
            ).first()
            if row is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            return _group_of(row)

    def find_group_id(
        self,
        store_id: str,
        *,
        display_name: str | None = None,
        external_id: ExternalId | None = None,
    ) -> str:
        if external_id is not None:
            query = (
                select(groups.c.group_id)
                .join(group_external_ids, group_external_ids.c.owner_seq == groups.c.seq)
                .where(
                    group_external_ids.c.store_id == store_id,
                    group_external_ids.c.key == external_id_key(external_id),
                )
            )
        else:
            query = select(groups.c.group_id).where(
                groups.c.store_id == store_id,
                groups.c.display_name_key == normalise_key(display_name or ""),
            )
        with self._read() as conn:
            found = conn.execute(query).scalar()
            if found is None:
                raise self._missing(conn, store_id, "GROUP", "")
            return str(found)

    def list_groups(
        self, store_id: str, after: int | None, limit: int, *, display_name: str | None = None
    ) -> Page[GroupRecord]:
        query = select(*_GROUP_COLUMNS).where(groups.c.store_id == store_id)
        if display_name is not None:
            query = query.where(groups.c.display_name_key == normalise_key(display_name))
        if after is not None:
            query = query.where(groups.c.seq > after)
        query = query.order_by(groups.c.seq).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._require_store(conn, store_id)
        return _page([_group_of(r) for r in rows], limit)

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
        def work(conn: Connection) -> GroupRecord:
            query = select(*_GROUP_COLUMNS).where(
                groups.c.store_id == store_id, groups.c.group_id == group_id
            )
            row = conn.execute(query.with_for_update() if self._postgres else query).first()
            if row is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            current = _group_of(row)
            _check_revision(current.revision, expected_revision)
            data = change(current)
            attributes = dump_json(data.attributes)
            audit = current.audit.touched(actor, at)
            revision = current.revision + 1
            conn.execute(
                update(groups)
                .where(groups.c.seq == current.seq)
                .values(
                    display_name_key=data.display_name_key,
                    revision=revision,
                    attributes=attributes,
                    **_audit_values(audit),
                )
            )
            if data.external_ids != current.data().external_ids:
                conn.execute(
                    delete(group_external_ids).where(group_external_ids.c.owner_seq == current.seq)
                )
                _put_external_ids(
                    conn, group_external_ids, store_id, current.seq, data.external_ids
                )
            return GroupRecord(store_id, group_id, current.seq, revision, audit, attributes)

        return self._write(work, self._no_reference)

    def delete_group(self, store_id: str, group_id: str, *, expected_revision: str | None) -> None:
        def work(conn: Connection) -> None:
            self._count(conn, store_id, "group_count", -1)
            row = conn.execute(
                select(groups.c.seq, groups.c.revision).where(
                    groups.c.store_id == store_id, groups.c.group_id == group_id
                )
            ).first()
            if row is None:
                raise NotFound("GROUP", group_id)
            _check_revision(row.revision, expected_revision)
            conn.execute(delete(groups).where(groups.c.seq == row.seq))

        self._write(work, self._no_reference)

    # -- memberships -------------------------------------------------------------------------

    def create_membership(
        self, store_id: str, group_id: str, user_id: str, *, actor: str, at: datetime
    ) -> Membership:
        membership_id = new_resource_id(store_id)
        audit = Audit.new(actor, at)

        def work(conn: Connection) -> Membership:
            user_seq, group_seq = self._user_and_group(conn, store_id, user_id, group_id)
            seq = conn.execute(
                insert(memberships)
                .values(
                    store_id=store_id,
                    membership_id=membership_id,
                    group_seq=group_seq,
                    user_seq=user_seq,
                    group_id=group_id,
                    user_id=user_id,
                    **_audit_values(audit),
                )
                .returning(memberships.c.seq)
            ).scalar_one()
            return Membership(store_id, membership_id, seq, group_id, user_id, audit)

        # A user or group deleted concurrently (PostgreSQL) fails the foreign key: report
        # whichever is now missing.
        def gone() -> Exception:
            with self._read() as conn:
                try:
                    self._user_and_group(conn, store_id, user_id, group_id)
                except NotFound as missing:
                    return missing
            return InternalError("a referenced row is missing")  # pragma: no cover

        return self._write(work, gone)

    def _user_and_group(
        self, conn: Connection, store_id: str, user_id: str, group_id: str
    ) -> tuple[int, int]:
        user_seq = conn.execute(
            select(users.c.seq).where(users.c.store_id == store_id, users.c.user_id == user_id)
        ).scalar()
        if user_seq is None:
            raise self._missing(conn, store_id, "USER", user_id)
        group_seq = conn.execute(
            select(groups.c.seq).where(groups.c.store_id == store_id, groups.c.group_id == group_id)
        ).scalar()
        if group_seq is None:
            raise NotFound("GROUP", group_id)
        return int(user_seq), int(group_seq)

    def get_membership(self, store_id: str, membership_id: str) -> Membership:
        with self._read() as conn:
            row = conn.execute(
                select(memberships).where(
                    memberships.c.store_id == store_id,
                    memberships.c.membership_id == membership_id,
                )
            ).first()
            if row is None:
                raise self._missing(conn, store_id, "GROUP_MEMBERSHIP", membership_id)
            return _membership_of(row)

    def find_membership(self, store_id: str, group_id: str, user_id: str) -> Membership:
        with self._read() as conn:
            row = conn.execute(
                select(memberships).where(
                    memberships.c.store_id == store_id,
                    memberships.c.group_id == group_id,
                    memberships.c.user_id == user_id,
                )
            ).first()
            if row is None:
                self._user_and_group(conn, store_id, user_id, group_id)
                raise NotFound("GROUP_MEMBERSHIP", "")
            return _membership_of(row)

    def delete_membership(self, store_id: str, membership_id: str) -> None:
        def work(conn: Connection) -> None:
            result = conn.execute(
                delete(memberships).where(
                    memberships.c.store_id == store_id,
                    memberships.c.membership_id == membership_id,
                )
            )
            if result.rowcount == 0:
                raise self._missing(conn, store_id, "GROUP_MEMBERSHIP", membership_id)

        self._write(work, self._no_reference)

    def list_group_memberships(
        self, store_id: str, group_id: str, after: int | None, limit: int
    ) -> Page[Membership]:
        """Memberships of one group, in creation order."""
        with self._read() as conn:
            group_seq = conn.execute(
                select(groups.c.seq).where(
                    groups.c.store_id == store_id, groups.c.group_id == group_id
                )
            ).scalar()
            if group_seq is None:
                raise self._missing(conn, store_id, "GROUP", group_id)
            query = select(memberships).where(memberships.c.group_seq == group_seq)
            if after is not None:
                query = query.where(memberships.c.seq > after)
            rows = conn.execute(query.order_by(memberships.c.seq).limit(limit + 1)).all()
        return _page([_membership_of(r) for r in rows], limit)

    def list_user_memberships(
        self, store_id: str, user_id: str, after: int | None, limit: int
    ) -> Page[Membership]:
        """Memberships of one user, in creation order."""
        with self._read() as conn:
            user_seq = self._user_seq(conn, store_id, user_id)
            query = select(memberships).where(memberships.c.user_seq == user_seq)
            if after is not None:
                query = query.where(memberships.c.seq > after)
            rows = conn.execute(query.order_by(memberships.c.seq).limit(limit + 1)).all()
        return _page([_membership_of(r) for r in rows], limit)

    def groups_of_user_among(
        self, store_id: str, user_id: str, group_ids: Collection[str]
    ) -> set[str]:
        """Which of `group_ids` the user is a member of (unknown groups simply are not)."""
        with self._read() as conn:
            user_seq = self._user_seq(conn, store_id, user_id)
            rows = conn.execute(
                select(memberships.c.group_id).where(
                    memberships.c.user_seq == user_seq,
                    memberships.c.group_id.in_(list(set(group_ids))),
                )
            ).all()
        return {r.group_id for r in rows}

    def _user_seq(self, conn: Connection, store_id: str, user_id: str) -> int:
        seq = conn.execute(
            select(users.c.seq).where(users.c.store_id == store_id, users.c.user_id == user_id)
        ).scalar()
        if seq is None:
            raise self._missing(conn, store_id, "USER", user_id)
        return int(seq)

    # -- settings ----------------------------------------------------------------------------

    def setting(self, name: str, default: Callable[[], str]) -> str:
        """A server-wide value; the first caller's `default()` wins, on every process."""
        with self._read() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.name == name)).scalar()
        if value is not None:
            return str(value)
        with contextlib.suppress(InternalError):  # another process inserted it first
            self._write(
                lambda conn: conn.execute(insert(settings).values(name=name, value=default())),
                self._no_reference,
            )
        with self._read() as conn:
            return str(
                conn.execute(select(settings.c.value).where(settings.c.name == name)).scalar_one()
            )

    def counts(self) -> dict[str, int]:
        """Rows per table, for diagnostics."""
        with self._read() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (identity_stores, users, groups, memberships)
            }


def _put_external_ids(
    conn: Connection, table: Table, store_id: str, owner_seq: int, ids: tuple[ExternalId, ...]
) -> None:
    keys = sorted({external_id_key(e) for e in ids})
    if keys:
        conn.execute(
            insert(table), [{"store_id": store_id, "owner_seq": owner_seq, "key": k} for k in keys]
        )


def _page(items: list[T], limit: int) -> Page[T]:
    if len(items) > limit:
        items = items[:limit]
        return Page(items, getattr(items[-1], "seq"))  # noqa: B009
    return Page(items, None)

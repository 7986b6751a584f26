"""The database schema: SQLAlchemy Core tables on one MetaData, the only definition of the tables.

Invariants live here, as constraints, so they hold across threads, processes and front ends:

- every table carries `store_id`, and every unique key is scoped by it;
- user names, e-mail addresses and group display names are unique per store through unique
  indexes on normalised (casefolded) key columns; NULL keys (no e-mail, no display name) are
  never equal, so they do not collide;
- external ids are unique per store and resource kind, in their own tables;
- a (group, user) pair has at most one membership;
- memberships and external ids reference their user or group by `seq` with ON DELETE CASCADE,
  so deleting a user or group removes them in the same transaction.

`seq` is an ascending surrogate key: it is the creation order that keyset pagination follows.
Timestamps are integer milliseconds since the epoch. Alembic migrations must produce exactly this
metadata (a test runs `alembic check` on each dialect).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# An INTEGER PRIMARY KEY is SQLite's rowid; BIGINT everywhere else.
Seq = BigInteger().with_variant(Integer(), "sqlite")

STORE_FK = "identity_stores.store_id"

identity_stores = Table(
    "identity_stores",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("store_id", String(36), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("network_configuration", Text),
    # Counters kept in the same transaction as every create and delete, for O(1) quota checks.
    Column("user_count", Integer, nullable=False, server_default="0"),
    Column("group_count", Integer, nullable=False, server_default="0"),
    # The form of the ids the store issues (model.IdFormat), fixed at creation. Stores made
    # before there was a choice issued prefixed ids, and keep doing so.
    Column("id_format", String(16), nullable=False, server_default="prefixed"),
    # model.instance_id(store_id), for sso-admin's look-up by InstanceArn. Every insert sets
    # it and migration 0005 filled it in; nullable only because SQLite cannot add a NOT NULL
    # column without rebuilding the table, which would cascade to every user and group (a row
    # an older server inserts without it is filled in on the first miss: store/instances.py).
    Column("instance_id", String(32)),
    # A store made by CreateInstance with a ClientToken: digests of the caller's token and of
    # the request's other parameters (store/instances.py). Unique, so a token's first use wins.
    Column("client_token", String(40)),
    Column("client_request", String(16)),
    UniqueConstraint("store_id"),
    Index(None, "instance_id", unique=True),
    Index(None, "client_token", unique=True),
)


def _audit() -> list[Column[object]]:
    return [
        Column("created_at", BigInteger, nullable=False),
        Column("created_by", Text, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        Column("updated_by", Text, nullable=False),
    ]


users = Table(
    "users",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("store_id", String(36), ForeignKey(STORE_FK, ondelete="CASCADE"), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("user_name_key", Text, nullable=False),
    Column("email_key", Text),
    Column("revision", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attributes", Text, nullable=False),
    Column("extensions", Text),
    *_audit(),
    UniqueConstraint("store_id", "user_id"),
    UniqueConstraint("store_id", "user_name_key"),
    UniqueConstraint("store_id", "email_key"),
    Index(None, "store_id", "seq"),
)

groups = Table(
    "groups",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("store_id", String(36), ForeignKey(STORE_FK, ondelete="CASCADE"), nullable=False),
    Column("group_id", String(64), nullable=False),
    Column("display_name_key", Text),
    Column("revision", BigInteger, nullable=False),
    Column("attributes", Text, nullable=False),
    *_audit(),
    UniqueConstraint("store_id", "group_id"),
    UniqueConstraint("store_id", "display_name_key"),
    Index(None, "store_id", "seq"),
)


def _external_ids(name: str, owner: str) -> Table:
    return Table(
        name,
        metadata,
        Column("seq", Seq, primary_key=True, autoincrement=True),
        Column("store_id", String(36), nullable=False),
        Column("owner_seq", Seq, ForeignKey(f"{owner}.seq", ondelete="CASCADE"), nullable=False),
        # Issuer and Id, joined and bounded in length (see model.external_id_key).
        Column("key", Text, nullable=False),
        UniqueConstraint("store_id", "key"),
        Index(None, "owner_seq"),
    )


user_external_ids = _external_ids("user_external_ids", "users")
group_external_ids = _external_ids("group_external_ids", "groups")

memberships = Table(
    "memberships",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("store_id", String(36), nullable=False),
    Column("membership_id", String(64), nullable=False),
    Column("group_seq", Seq, ForeignKey("groups.seq", ondelete="CASCADE"), nullable=False),
    Column("user_seq", Seq, ForeignKey("users.seq", ondelete="CASCADE"), nullable=False),
    # The public ids, copied so that reads need no join.
    Column("group_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    *_audit(),
    UniqueConstraint("store_id", "membership_id"),
    UniqueConstraint("group_seq", "user_seq"),
    Index(None, "group_seq", "seq"),
    Index(None, "user_seq", "seq"),
)

# Server-wide values shared by every process on the database (e.g. the page-token key).
settings = Table(
    "settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Access keys for SigV4 (docs/behaviour.md#access). The secret must be recoverable to verify
# signatures, so it is stored encrypted with a server key kept outside the database; a copy of the
# database alone yields no usable secret.
access_keys = Table(
    "access_keys",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("access_key_id", String(32), nullable=False),
    # The principal name: recorded as arn:aws:iam::<account>:user/<name>.
    Column("name", String(64), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # True: the key may use every identity store, present and future (an administrator's key);
    # False: only those listed in access_key_stores.
    Column("all_stores", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("access_key_id"),
)

# The identity stores each access key may use (unless it has all_stores).
access_key_stores = Table(
    "access_key_stores",
    metadata,
    Column("key_seq", Seq, ForeignKey("access_keys.seq", ondelete="CASCADE"), primary_key=True),
    Column("store_id", String(36), ForeignKey(STORE_FK, ondelete="CASCADE"), primary_key=True),
    Index(None, "store_id"),
)

# SCIM bearer tokens, stored only as a SHA-256 digest (the token is shown once).
scim_tokens = Table(
    "scim_tokens",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("token_id", String(36), nullable=False),
    Column("store_id", String(36), ForeignKey(STORE_FK, ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    UniqueConstraint("token_id"),
    UniqueConstraint("token_hash"),
    Index(None, "store_id"),
)

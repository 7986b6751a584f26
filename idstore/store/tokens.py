"""SCIM bearer tokens in the Store: issue, list, revoke, and find by digest.

A mixin of `Store` (see `store.py` for the transaction contract every method follows). The
table keeps only the token's SHA-256 digest; the token itself is made and hashed by the SCIM
front end (`scim/tokens.py`) and shown once by the CLI. Every lookup is indexed: a request's
token by its unique digest, a store's tokens by `store_id`.

At most `max_active` unexpired tokens per identity store: the insert takes the store row's lock
first (`FOR UPDATE` on PostgreSQL; SQLite writers are serial), counts, then inserts, so two
concurrent creations cannot both pass the check. Expired tokens stay listed, marked expired,
until someone deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select

from idstore.errors import NotFound, QuotaExceeded
from idstore.model import from_ms, to_ms
from idstore.store.host import StoreHost
from idstore.store.schema import scim_tokens
from idstore.store.sql import Connection
from idstore.store.statements import LOCK_STORE
from idstore.store.statements import param as _p

T = TypeVar("T")


_COUNT_ACTIVE = (
    select(func.count())
    .select_from(scim_tokens)
    .where(scim_tokens.c.store_id == _p("store_id"), scim_tokens.c.expires_at > _p("now"))
)
_INSERT = insert(scim_tokens).values(
    token_id=_p("token_id"),
    store_id=_p("store_id"),
    token_hash=_p("token_hash"),
    created_at=_p("created_at"),
    expires_at=_p("expires_at"),
)
_LIST = (
    select(
        scim_tokens.c.token_id,
        scim_tokens.c.store_id,
        scim_tokens.c.created_at,
        scim_tokens.c.expires_at,
    )
    .where(scim_tokens.c.store_id == _p("store_id"))
    .order_by(scim_tokens.c.seq)
)
_BY_HASH = select(
    scim_tokens.c.token_id,
    scim_tokens.c.store_id,
    scim_tokens.c.created_at,
    scim_tokens.c.expires_at,
).where(scim_tokens.c.token_hash == _p("token_hash"))
_DELETE = delete(scim_tokens).where(
    scim_tokens.c.store_id == _p("store_id"), scim_tokens.c.token_id == _p("token_id")
)


@dataclass(frozen=True, slots=True)
class ScimToken:
    """A SCIM token's public facts (never the token or its digest)."""

    token_id: str
    store_id: str
    created_at: datetime
    expires_at: datetime

    def active(self, at: datetime) -> bool:
        return at < self.expires_at


def _token(row: tuple[Any, ...]) -> ScimToken:
    return ScimToken(
        token_id=row[0],
        store_id=row[1],
        created_at=from_ms(row[2]),
        expires_at=from_ms(row[3]),
    )


class ScimTokens:
    """Store methods for SCIM bearer tokens."""

    def create_scim_token(
        self: StoreHost,
        store_id: str,
        token_id: str,
        token_hash: str,
        *,
        at: datetime,
        expires_at: datetime,
        max_active: int,
    ) -> ScimToken:
        """Record a new token's digest; QuotaExceeded if the store has `max_active` live ones."""

        def work(conn: Connection) -> ScimToken:
            if conn.one(LOCK_STORE, store_id=store_id) is None:
                raise NotFound("IDENTITY_STORE", store_id)
            active = conn.scalar(_COUNT_ACTIVE, store_id=store_id, now=to_ms(at))
            if active >= max_active:
                raise QuotaExceeded(
                    f"The identity store already has {active} active SCIM tokens, the most "
                    f"allowed is {max_active}: delete one first."
                )
            conn.run(
                _INSERT,
                token_id=token_id,
                store_id=store_id,
                token_hash=token_hash,
                created_at=to_ms(at),
                expires_at=to_ms(expires_at),
            )
            return ScimToken(token_id, store_id, at, expires_at)

        return self._write(work)

    def list_scim_tokens(self: StoreHost, store_id: str) -> list[ScimToken]:
        """A store's tokens, oldest first, expired ones included."""

        def work(conn: Connection) -> list[ScimToken]:
            rows = conn.all(_LIST, store_id=store_id)
            if not rows:
                self._require_store(conn, store_id)
            return [_token(r) for r in rows]

        return self._read(work)

    def delete_scim_token(self: StoreHost, store_id: str, token_id: str) -> bool:
        """Revoke a token at once; False if the store has no token with this id."""

        def work(conn: Connection) -> bool:
            if conn.run(_DELETE, store_id=store_id, token_id=token_id) == 0:
                self._require_store(conn, store_id)
                return False
            return True

        return self._write(work)

    def find_scim_token(self: StoreHost, token_hash: str) -> ScimToken | None:
        """The token with this digest, expired or not; None if there is none."""
        row = self._read(lambda conn: conn.one(_BY_HASH, token_hash=token_hash))
        return None if row is None else _token(row)

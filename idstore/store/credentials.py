"""Access keys in the Store: create, find, list, delete, and the server key they are sealed with.

A mixin of `Store` (see `store.py` for the transaction contract every method follows). An access
key is an id, a principal name (recorded as `arn:aws:iam::<account>:user/<name>`), read-only or
read-write, and the identity stores it may use: those listed in `access_key_stores`, or every
store (`all_stores`, an administrator's key). Its secret is stored sealed with the server key
(`idstore/serverkey.py`), with the key id as associated data; this module never sees a secret
in the clear except when it makes one.

Whether a server key is the database's own is checked against a marker sealed under it in
`settings` when the first key is made: a wrong key file is refused at start-up with a clear
message, instead of every request failing its signature check.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

import regex
from sqlalchemy import delete, insert, select

from idstore.config import Config
from idstore.errors import InvalidInput
from idstore.serverkey import LoadedKey, ServerKey, ServerKeyError, load_server_key
from idstore.store.host import StoreHost
from idstore.store.schema import access_key_stores, access_keys, settings
from idstore.store.sql import Connection, Row
from idstore.store.statements import param as _p

T = TypeVar("T")

# IAM's user-name rule: the name goes into an ARN as it is.
NAME_PATTERN = regex.compile(r"[\w+=,.@-]{1,64}", regex.ASCII)
# 20 characters like AWS's ids; the prefix tells an idstore key from an AWS one at a glance.
KEY_ID_PREFIX = "IDSK"
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits
_CHECK = "server-key-check"  # the settings row holding the sealed marker


_COLUMNS = [
    access_keys.c.seq,
    access_keys.c.access_key_id,
    access_keys.c.name,
    access_keys.c.read_only,
    access_keys.c.all_stores,
    access_keys.c.created_at,
    access_keys.c.secret_ciphertext,
]
_INSERT = (
    insert(access_keys)
    .values(
        access_key_id=_p("access_key_id"),
        name=_p("name"),
        secret_ciphertext=_p("secret_ciphertext"),
        read_only=_p("read_only"),
        all_stores=_p("all_stores"),
        created_at=_p("created_at"),
    )
    .returning(access_keys.c.seq)
)
_INSERT_STORE = insert(access_key_stores).values(key_seq=_p("key_seq"), store_id=_p("store_id"))
_GET = select(*_COLUMNS).where(access_keys.c.access_key_id == _p("access_key_id"))
_STORES_OF = select(access_key_stores.c.store_id).where(
    access_key_stores.c.key_seq == _p("key_seq")
)
_LIST = select(*_COLUMNS).order_by(access_keys.c.seq)
_LIST_STORES = select(access_key_stores.c.key_seq, access_key_stores.c.store_id)
_DELETE_STORES = delete(access_key_stores).where(access_key_stores.c.key_seq == _p("key_seq"))
_DELETE = delete(access_keys).where(access_keys.c.seq == _p("key_seq"))
_GET_SETTING = select(settings.c.value).where(settings.c.name == _p("name"))


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key as stored: its secret only sealed."""

    access_key_id: str
    name: str
    read_only: bool
    # The identity stores the key may use; None: every one.
    stores: frozenset[str] | None
    created_at: datetime
    sealed_secret: str = field(repr=False)

    def secret(self, key: ServerKey) -> str:
        """The secret access key, opened with the server key."""
        return key.open(self.sealed_secret, self.access_key_id)


def _key_of(row: Row, stores: Collection[str]) -> AccessKey:
    return AccessKey(
        access_key_id=row[1],
        name=row[2],
        read_only=bool(row[3]),
        stores=None if row[4] else frozenset(stores),
        created_at=datetime.fromtimestamp(row[5] / 1000, UTC),
        sealed_secret=row[6],
    )


def new_access_key_id() -> str:
    return KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    # 40 letters and digits (238 bits): no character a shell or an option parser would trip on.
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


class _Host(StoreHost, Protocol):
    """The parts of `Store` this mixin builds on."""

    def setting(self, name: str, default: Callable[[], str]) -> str: ...


class AccessKeys:
    """Store methods for SigV4 access keys."""

    def create_access_key(
        self: _Host,
        *,
        name: str,
        stores: Collection[str] | None,
        read_only: bool,
        server_key: ServerKey,
        at: datetime,
        access_key_id: str | None = None,
        secret: str | None = None,
    ) -> tuple[AccessKey, str]:
        """A new key for `stores` (None: every store); returns it and its secret, in the clear.

        The id and secret are made here unless given (test harnesses give fixed ones).
        """
        if not NAME_PATTERN.fullmatch(name):
            raise InvalidInput(
                f"Invalid key name {name!r}: use 1 to 64 letters, digits and +=,.@_- "
                "(it becomes arn:aws:iam::<account>:user/<name>)."
            )
        if stores is not None and not stores:
            raise InvalidInput("A key needs at least one identity store, or all of them.")
        key_id = access_key_id or new_access_key_id()
        secret = secret or new_secret_access_key()
        sealed = server_key.seal(secret, key_id)
        wanted = None if stores is None else frozenset(stores)

        def work(conn: Connection) -> AccessKey:
            for store_id in sorted(wanted or ()):
                self._require_store(conn, store_id)
            seq = conn.scalar(
                _INSERT,
                access_key_id=key_id,
                name=name,
                secret_ciphertext=sealed,
                read_only=read_only,
                all_stores=wanted is None,
                created_at=int(at.timestamp() * 1000),
            )
            if wanted:
                conn.run_many(_INSERT_STORE, [{"key_seq": seq, "store_id": s} for s in wanted])
            return AccessKey(key_id, name, read_only, wanted, at, sealed)

        return self._write(work), secret

    def get_access_key(self: _Host, access_key_id: str) -> AccessKey | None:
        """The key with this id, or None."""

        def work(conn: Connection) -> AccessKey | None:
            row = conn.one(_GET, access_key_id=access_key_id)
            if row is None:
                return None
            stores = () if row[4] else [r[0] for r in conn.all(_STORES_OF, key_seq=row[0])]
            return _key_of(row, stores)

        return self._read(work)

    def list_access_keys(self: _Host) -> list[AccessKey]:
        """Every key, oldest first."""

        def work(conn: Connection) -> list[AccessKey]:
            grants: dict[int, list[str]] = {}
            for key_seq, store_id in conn.all(_LIST_STORES):
                grants.setdefault(key_seq, []).append(store_id)
            return [_key_of(row, grants.get(row[0], ())) for row in conn.all(_LIST)]

        return self._read(work)

    def delete_access_key(self: _Host, access_key_id: str) -> bool:
        """Delete a key; False if there is none with this id."""

        def work(conn: Connection) -> bool:
            row = conn.one(_GET, access_key_id=access_key_id)
            if row is None:
                return False
            conn.run(_DELETE_STORES, key_seq=row[0])
            conn.run(_DELETE, key_seq=row[0])
            return True

        return self._write(work)

    def open_server_key(self: _Host, config: Config, *, cwd: Path | None = None) -> LoadedKey:
        """The configured server key, checked against this database's.

        A database that has never had a key accepts (and records) the configured one, whose
        file is generated if missing; one that has refuses another key, and a missing file is
        then an error (a new key could not open the stored secrets).
        """
        recorded = self._read(lambda conn: conn.scalar(_GET_SETTING, name=_CHECK))
        loaded = load_server_key(
            text=config.server_key,
            file=config.server_key_file,
            db_url=config.db_url,
            create=recorded is None,
            cwd=cwd,
        )
        marker = recorded or self.setting(_CHECK, lambda: loaded.key.seal(_CHECK, _CHECK))
        try:
            loaded.key.open(str(marker), _CHECK)
        except ServerKeyError:
            raise ServerKeyError(
                f"{loaded.source} is not the server key this database's access keys were "
                "encrypted with: use the right key (restore it from your backup)"
            ) from None
        return loaded

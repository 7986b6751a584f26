"""Fixtures of the authentication suite, on top of tests/conftest.py.

Every test here runs with SigV4 verification, whatever IDSTORE_TEST_AUTH says: `config` asks for
it (with the suite's server key, so PostgreSQL's recorded key check always agrees), `mock` is
the in-process service under that configuration, and `server` (from tests/conftest.py) a real
HTTP server under it.

- `keys`: makes access keys in the test's database: `keys.make(stores, read_only=...)` returns
  an `AccessKeyPair`;
- `client_for(pair, **options)`: a boto3 client signing with that key, served in-process;
- `http_client_for(pair, **options)`: the same over HTTP, to `server`;
- `database`: a Store on `file_db_url` (a SQLite file, or the PostgreSQL test database), with
  no access keys and no server key recorded yet, as a new installation has.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from sqlalchemy import text

from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store, open_store
from idstore.store.schema import metadata
from idstore.testing import IdentityStoreMock
from tests.conftest import REGION, TEST_SERVER_KEY, RunningServer

ACCOUNT = "000000000000"


@dataclass(frozen=True)
class AccessKeyPair:
    access_key_id: str
    secret: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.name}"


class Keys:
    """Access keys for a test, made directly in its Store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._count = 0

    def make(
        self, stores: Collection[str] | None, *, read_only: bool = False, name: str | None = None
    ) -> AccessKeyPair:
        self._count += 1
        name = name or f"user{self._count}"
        key, secret = self._store.create_access_key(
            name=name,
            stores=stores,
            read_only=read_only,
            server_key=ServerKey.from_text(TEST_SERVER_KEY),
            at=now(),
        )
        return AccessKeyPair(key.access_key_id, secret, name)


@pytest.fixture(autouse=True)
def _unsigned_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-made requests here are signed (or not) on purpose, also in the suite's SigV4 pass."""
    monkeypatch.setattr("tests.helpers.TEST_AUTH", "none")


@pytest.fixture
def config() -> Config:
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY)


@pytest.fixture
def mock(store: Store, config: Config) -> Iterator[IdentityStoreMock]:
    with IdentityStoreMock(store=store, config=config) as m:
        yield m


@pytest.fixture
def keys(store: Store) -> Keys:
    return Keys(store)


def boto_client(pair: AccessKeyPair, region: str = REGION, **options: Any) -> Any:
    return boto3.client(
        "identitystore",
        region_name=region,
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret,
        **options,
    )


def no_retries() -> BotoConfig:
    return BotoConfig(retries={"mode": "standard", "max_attempts": 1})


@pytest.fixture
def client_for(mock: IdentityStoreMock) -> Any:
    """In-process clients (while `mock` is active): `client_for(pair, region=..., ...)`."""
    return boto_client


@pytest.fixture
def http_client_for(server: RunningServer) -> Any:
    """Clients of the HTTP `server`: `http_client_for(pair, region=..., ...)`."""

    def make(pair: AccessKeyPair, region: str = REGION, **options: Any) -> Any:
        return boto_client(pair, region, endpoint_url=server.url, **options)

    return make


@pytest.fixture
def database(file_db_url: str) -> Iterator[Store]:
    store = open_store(file_db_url)
    _forget_keys(store)
    yield store
    _forget_keys(store)
    if store.dialect == "postgresql":  # leave the shared database empty, as tests expect it
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "settings")
        with store.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    store.close()


def _forget_keys(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM access_key_stores"))
        conn.execute(text("DELETE FROM access_keys"))
        conn.execute(text("DELETE FROM settings WHERE name = 'server-key-check'"))

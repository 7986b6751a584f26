"""Fixtures shared by the whole suite: one conformance suite, run on every database.

The database under test comes from `IDSTORE_TEST_DB`:

- unset or `sqlite`: each test gets its own in-memory SQLite database;
- a `postgresql://` URL of a server: the session creates a private database on that server
  (dropped at the end), and each test starts from empty tables.

`scripts/test` runs the suite once per database; CI runs both. Nothing is skipped for one
backend.

Property tests run under the Hypothesis profile `HYPOTHESIS_PROFILE` names (`ci` unless set):
`ci` is derandomised, so every run, CI's included, tries the same examples; `random` draws a
fresh seed each run and multiplies every test's example budget (`fuzz_settings`) by
`FUZZ_SCALE` (20 unless set). `scripts/fuzz` runs the fuzz suites so (see docs/fuzzing.md).

`IDSTORE_TEST_AUTH=sigv4` runs it with SigV4 verification (`scripts/test` runs `tests/aws` so
once more): `config` asks for it, every test database holds the suite's access keys
(`TEST_KEY_IDS`, each with the secret `TEST_SECRET`, for every identity store, named after
themselves so that CreatedBy stays `...:user/<key id>`). The few tests of local mode itself are
deselected in that pass (they run in the others).

Fixtures:
- `store`: an open, empty `Store` on the database under test;
- `mock`: the in-process service over that store (`mock.store_id` is a fresh identity store);
- `client`: a real boto3 `identitystore` client served in-process through `mock`;
- `store_id`: `mock.store_id`;
- `server`: a real HTTP server (uvicorn, in a thread) over the same store; `server.url`;
- `http_client`: a boto3 client talking to `server` over HTTP.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from idstore.app import App
from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store, open_store
from idstore.store.schema import metadata
from idstore.testing import IdentityStoreMock
from tests.databases import private_database

REGION = "us-east-1"

TEST_AUTH = os.environ.get("IDSTORE_TEST_AUTH", "none") or "none"
# One server key for every test database (PostgreSQL keeps its check value across tests).
TEST_SERVER_KEY = ServerKey(b"idstore test suite server key 32").text()
TEST_KEY_IDS = ("AKIDTESTCLIENT", "AKIDOTHERCLIENT", "AKIDHTTPCLIENT")
TEST_SECRET = "secret"


# -- Hypothesis profiles -----------------------------------------------------------------------

_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=_HEALTH
)
settings.register_profile(
    "random", derandomize=False, deadline=None, print_blob=True, suppress_health_check=_HEALTH
)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or "ci"
settings.load_profile(HYPOTHESIS_PROFILE)
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE") or 20) if HYPOTHESIS_PROFILE == "random" else 1


def fuzz_settings(examples: int) -> settings:
    """A property test's settings: `examples` in the ci profile, FUZZ_SCALE times as many in
    the random one. The examples share one function-scoped store, which is the point: later
    examples meet what earlier ones created."""
    return settings(max_examples=examples * FUZZ_SCALE)


def _backend() -> str:
    return os.environ.get("IDSTORE_TEST_DB", "sqlite") or "sqlite"


# Tests of local mode itself: they send Authorization headers of their own, which SigV4 refuses.
LOCAL_MODE_ONLY = {
    "tests/aws/test_fuzz.py::test_access_key_id_is_recorded_as_the_principal",
    "tests/aws/test_fuzz.py::test_arbitrary_header_values",
    "tests/aws/test_fuzz.py::test_arbitrary_headers_over_http",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the SigV4 pass, deselect (visibly) the tests of local mode; they ran in the others."""
    if TEST_AUTH != "sigv4":
        return
    local = [item for item in items if item.nodeid in LOCAL_MODE_ONLY]
    if local:
        config.hook.pytest_deselected(items=local)
        items[:] = [item for item in items if item.nodeid not in LOCAL_MODE_ONLY]


def pytest_report_header() -> str:
    return f"idstore database under test: {_backend()}; authentication: {TEST_AUTH}"


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    """The URL tests open stores on: in-memory SQLite, or a private PostgreSQL database."""
    backend = _backend()
    if backend == "sqlite":
        yield "sqlite://"
        return
    with private_database(backend, "idstore_test") as url:
        yield url


@pytest.fixture(scope="session")
def _shared_store(db_url: str) -> Iterator[Store | None]:
    """PostgreSQL: one migrated Store for the session (tests empty its tables)."""
    if db_url == "sqlite://":
        yield None
        return
    store = open_store(db_url)
    yield store
    store.close()


@pytest.fixture
def store(db_url: str, _shared_store: Store | None) -> Iterator[Store]:
    if _shared_store is None:
        fresh = open_store(db_url)
        if TEST_AUTH == "sigv4":
            _add_test_keys(fresh)
        yield fresh
        fresh.close()
        return
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "settings")
    with _shared_store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    if TEST_AUTH == "sigv4":
        _add_test_keys(_shared_store)
    yield _shared_store


def _add_test_keys(store: Store) -> None:
    key = ServerKey.from_text(TEST_SERVER_KEY)
    for key_id in TEST_KEY_IDS:
        store.create_access_key(
            name=key_id,
            stores=None,
            read_only=False,
            server_key=key,
            at=now(),
            access_key_id=key_id,
            secret=TEST_SECRET,
        )


@pytest.fixture
def config() -> Config:
    if TEST_AUTH == "sigv4":
        return Config(auth="sigv4", server_key=TEST_SERVER_KEY)
    return Config()


@pytest.fixture
def mock(store: Store, config: Config) -> Iterator[IdentityStoreMock]:
    with IdentityStoreMock(store=store, config=config) as m:
        yield m


@pytest.fixture
def client(mock: IdentityStoreMock) -> Any:
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id="AKIDTESTCLIENT",
        aws_secret_access_key="secret",
    )


@pytest.fixture
def store_id(mock: IdentityStoreMock) -> str:
    return mock.store_id


@dataclass
class RunningServer:
    url: str
    app: App
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(store: Store, config: Config) -> Iterator[RunningServer]:
    """A real uvicorn server in a thread, over the test's store."""
    import uvicorn

    app = App(store, config)
    port = _free_port()
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,  # as `idstore serve` runs it: the App reads them itself
        )
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    yield RunningServer(f"http://127.0.0.1:{port}", app, port)
    uv.should_exit = True
    thread.join(10)


@pytest.fixture
def http_client(server: RunningServer) -> Any:
    return boto3.client(
        "identitystore",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="AKIDHTTPCLIENT",
        aws_secret_access_key="secret",
    )


@pytest.fixture
def file_db_url(db_url: str, tmp_path: Any) -> str:
    """A database URL that another process can open too: a SQLite file, or the PostgreSQL
    test database."""
    return f"sqlite:///{tmp_path / 'idstore.db'}" if db_url == "sqlite://" else db_url

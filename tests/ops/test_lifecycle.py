"""Readiness and draining: GET /ready, and SIGTERM while requests are in flight.

`/ready` answers 503 while the database is unreachable (PostgreSQL behind a TCP proxy the test
cuts, or any database whose schema is not the current one), and 200 again once it is back;
it answers 503 from the moment SIGTERM arrives. A SIGTERM during a burst of requests: every
request that got a response got a complete one, and the process exits 0 within the drain time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from idstore.store import migrate
from tests.databases import private_database
from tests.servers import ServerProcess, create_store, free_port

_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def ready(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@contextlib.contextmanager
def schema_revision(db_url: str, revision: str) -> Iterator[None]:
    """The database claims another schema revision, for the duration."""
    url = make_url(db_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": migrate.HEAD})
        engine.dispose()


def test_ready_follows_the_schema(file_db_url: str, store: Any) -> None:
    server = ServerProcess(file_db_url).start()
    try:
        assert ready(server.url) == (200, {"status": "ready"})
        with schema_revision(file_db_url, "0001"):
            status, body = ready(server.url)
            assert status == 503 and "schema is 0001" in body["reason"]
        assert ready(server.url)[0] == 200
    finally:
        assert server.stop() == 0


class _Proxy:
    """A TCP proxy to PostgreSQL that the test can cut (every connection closed, new ones
    refused) and restore: what a database restart looks like to the server."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target = target_port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.up()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def up(self) -> None:
        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        self._call(start())

    def down(self) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            self._writers.clear()

        self._call(stop())

    def close(self) -> None:
        self.down()

        async def settle() -> None:
            assert self._server is not None
            await self._server.wait_closed()

        self._call(settle())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A private database on the PostgreSQL server, in either lane: this test is about what
    happens when PostgreSQL goes away, which an embedded database cannot do."""
    with private_database(
        os.environ.get("IDSTORE_TEST_POSTGRES", _POSTGRES), "idstore_ready"
    ) as url:
        yield url


def test_ready_is_503_while_postgresql_is_down(postgresql_url: str) -> None:
    url = make_url(postgresql_url)
    proxy = _Proxy(url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = ServerProcess(proxied).start()
    try:
        assert ready(server.url)[0] == 200
        proxy.down()
        status, body = ready(server.url)
        assert status == 503 and body["reason"].startswith("database unreachable")
        # Liveness is not readiness: the process itself is fine.
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as health:
            assert health.status == 200
        proxy.up()
        wait_for(lambda: ready(server.url)[0] == 200)
    finally:
        server.stop()
        proxy.close()


def test_sigterm_drains_in_flight_requests_and_exits_0(file_db_url: str, store: Any) -> None:
    store_id = create_store(file_db_url)
    server = ServerProcess(file_db_url, extra=["--drain-delay", "1", "--drain-timeout", "10"])
    server.start()
    assert server.proc is not None
    outcomes: list[str] = []
    stop = threading.Event()

    def burst(worker: int) -> None:
        client = server.client()
        number = 0
        while not stop.is_set() and number < 2000:
            number += 1
            try:
                client.create_user(
                    IdentityStoreId=store_id,
                    UserName=f"w{worker}-{number}",
                    DisplayName="D",
                    Name={"GivenName": "G", "FamilyName": "F"},
                )
                outcomes.append("ok")
            except ClientError as error:
                outcomes.append(f"error {error.response['Error']['Code']}")
            except (EndpointConnectionError, ConnectionClosedError):
                outcomes.append("refused")  # after the drain: no connection, no response
                time.sleep(0.05)
        client.close()

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: outcomes.count("ok") >= 20)
        sent_at = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert ready(server.url) == (503, {"status": "unavailable", "reason": "draining"})
        returncode = server.proc.wait(timeout=30)
        elapsed = time.monotonic() - sent_at
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.stop()
    assert returncode == 0
    assert elapsed < 1 + 10 + 5  # the drain delay, the drain timeout, and a margin
    # Every request that got a response got a whole one: botocore parsed each as a success or
    # a modelled error; none was cut off (that would be a parse error, an exception above).
    assert set(outcomes) <= {"ok", "refused"}, set(outcomes)
    assert outcomes.count("ok") >= 20
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{server.url}/health", timeout=2)

"""No client can stall the server or make it grow: header, time, connection and memory limits of
a real `idstore serve` (docs/limits.md), on SQLite and PostgreSQL.

Hand-made HTTP is used where the input is malformed on purpose (huge header sections, half
requests) or where a real client would be too slow to send 100,000 requests (raw pipelined
keep-alive requests); the bystanders are boto3 clients. Every bound is a correctness bound with
a generous margin, not a speed test.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from idstore.config import Config
from tests.helpers import expect_error, user_params
from tests.servers import ServerProcess, create_store

pytestmark = pytest.mark.slow

TARGET = "AWSIdentityStore."


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, db_url: str) -> str:
    if db_url == "sqlite://":
        return f"sqlite:///{tmp_path_factory.mktemp('limits') / 'limits.db'}"
    return db_url


@pytest.fixture(scope="module")
def store_id(database: str) -> str:
    return create_store(database)


@pytest.fixture
def serve(database: str, store_id: str) -> Iterator[Any]:
    """Start `idstore serve` with extra flags; every server is stopped at the end."""
    started: list[ServerProcess] = []

    def start(*flags: str) -> ServerProcess:
        server = ServerProcess(database, extra=list(flags)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# -- raw HTTP ----------------------------------------------------------------------------------


def aws_request(operation: str, params: dict[str, Any], extra: bytes = b"") -> bytes:
    body = orjson.dumps(params)
    return (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: " + (TARGET + operation).encode()
        + b"\r\nContent-Type: application/x-amz-json-1.1\r\n" + extra
        + b"Content-Length: %d\r\n\r\n" % len(body) + body
    )  # fmt: skip


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response from a keep-alive socket (`buffer` holds what was read beyond it)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(buffer[:200])!r}")
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    fields = (line.split(": ", 1) for line in lines[1:])
    headers = {name.lower(): value for name, value in fields}
    length = int(headers.get("content-length", "0"))
    while len(buffer) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in a body")
        buffer += chunk
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return int(lines[0].split()[1]), headers, body


def pipelined(
    port: int, requests: Sequence[bytes], *, connections: int = 4, depth: int = 32
) -> Counter[int]:
    """Send `requests` over `connections` keep-alive sockets, `depth` in flight on each;
    the count of each status answered."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one(share: Sequence[bytes]) -> None:
        seen: Counter[int] = Counter()
        with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
            buffer = bytearray()
            for start in range(0, len(share), depth):
                batch = share[start : start + depth]
                sock.sendall(b"".join(batch))
                for _ in batch:
                    seen[read_response(sock, buffer)[0]] += 1
        with lock:
            statuses.update(seen)

    threads = [
        threading.Thread(target=one, args=(requests[i::connections],)) for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return statuses


def rss_mb(server: ServerProcess) -> float:
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Bystander:
    """Another client calling DescribeUser in a loop: its worst latency, and any failure."""

    def __init__(self, server: ServerProcess, store_id: str) -> None:
        self.client = server.client()
        self.store_id = store_id
        self.user_id = self.client.create_user(**user_params(store_id, f"by{os.urandom(4).hex()}"))[
            "UserId"
        ]
        self.worst = 0.0
        self.calls = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                self.client.describe_user(IdentityStoreId=self.store_id, UserId=self.user_id)
            except Exception as error:  # recorded; the test asserts there is none
                self.failures.append(repr(error))
            self.worst = max(self.worst, time.perf_counter() - started)
            self.calls += 1
            time.sleep(0.005)

    def __enter__(self) -> Bystander:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def refused_within(port: int, request: bytes) -> tuple[float, int, dict[str, str], bytes]:
    """Send `request` (from a thread: the server answers before it is all sent) and read the
    answer: (seconds until the answer, status, headers, body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send() -> None:
        with contextlib.suppress(OSError):  # closed after answering: the answer counts
            sock.sendall(request)

    started = time.perf_counter()
    sender = threading.Thread(target=send)
    sender.start()
    try:
        status, headers, body = read_response(sock, bytearray())
        elapsed = time.perf_counter() - started
    finally:
        sock.close()
        sender.join(30)
    return elapsed, status, headers, body


# -- headers -------------------------------------------------------------------------------------


def test_huge_header_sections_are_refused_at_once_while_others_are_served(
    serve: Any, store_id: str
) -> None:
    server = serve()
    repeated = b"".join(b"X-Filler: " + b"a" * 1000 + b"\r\n" for _ in range(20_000))
    one_huge = b"X-Huge: " + b"a" * (1024 * 1024) + b"\r\n"
    tiny = b"X: 1\r\n" * 40_000  # many fields in few socket reads
    with Bystander(server, store_id) as bystander:
        time.sleep(0.2)
        for extra in (repeated, one_huge, tiny):
            request = aws_request("ListIdentityStores", {}, extra)
            elapsed, status, headers, body = refused_within(server.port, request)
            assert elapsed < 1.0
            # The AWS API answers every client error 400 in its error shape ...
            assert status == 400
            assert headers["x-amzn-errortype"] == "ValidationException"
            assert "header" in orjson.loads(body)["Message"]
            # ... SCIM 431 in its own.
            scim = (
                f"GET /{store_id}/scim/v2/Users HTTP/1.1\r\nHost: x\r\n".encode() + extra + b"\r\n"
            )
            elapsed, status, headers, body = refused_within(server.port, scim)
            assert elapsed < 1.0
            assert status == 431
            assert orjson.loads(body)["status"] == "431"
        # A huge request target counts too.
        huge_target = b"GET /" + b"a" * (1024 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        elapsed, status, headers, _ = refused_within(server.port, huge_target)
        assert elapsed < 1.0
        assert status == 400
        assert headers["x-amzn-errortype"] == "ValidationException"
        time.sleep(0.2)
    assert bystander.failures == []
    assert bystander.calls > 5
    assert bystander.worst < 1.0


def test_header_limits_are_configurable_and_ordinary_requests_fit(
    serve: Any, store_id: str
) -> None:
    server = serve("--max-headers", "12", "--max-header-bytes", "2048")
    client = server.client()
    assert client.list_identity_stores()["IdentityStores"]  # boto3's own headers fit
    extra = b"".join(b"X-Extra-%d: 1\r\n" % i for i in range(10))
    _, status, headers, _ = refused_within(
        server.port, aws_request("ListIdentityStores", {}, extra)
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    long_value = b"X-Long: " + b"b" * 3000 + b"\r\n"
    _, status, _, _ = refused_within(server.port, aws_request("ListIdentityStores", {}, long_value))
    assert status == 400
    # Repeated headers that fit are joined, as before.
    _, status, _, _ = refused_within(
        server.port, aws_request("ListIdentityStores", {}, b"X-A: 1\r\nX-A: 2\r\n")
    )
    assert status == 200


# -- memory --------------------------------------------------------------------------------------


def test_throttling_keeps_no_memory_per_unvalidated_store_id(serve: Any) -> None:
    server = serve("--throttle-tps", "5")
    longest = Config().max_body_bytes - 64  # the longest id a request body can carry
    shared = os.urandom(longest // 2 - 8).hex()
    before = rss_mb(server)
    statuses: Counter[int] = Counter()
    for _ in range(75):  # 3,000 requests of 1 MB, in batches (to keep this process small)
        batch = [
            aws_request(
                "DescribeUser", {"IdentityStoreId": shared + os.urandom(8).hex(), "UserId": "u"}
            )
            for _ in range(40)
        ]
        statuses += pipelined(server.port, batch, connections=4, depth=2)
    grown = rss_mb(server) - before
    print(f"memory: {before:.1f} MB before, +{grown:.1f} MB after 3,000 requests")
    assert statuses == Counter({400: 3000})
    assert grown < 50, f"the server grew by {grown:.0f} MB"


def test_caches_stop_growing_whatever_store_ids_clients_send(serve: Any) -> None:
    server = serve()

    def round_of(n: int) -> Counter[int]:
        requests = [
            aws_request(
                "DescribeUser",
                {
                    "IdentityStoreId": f"d-{os.urandom(5).hex()}",
                    "UserId": f"{os.urandom(5).hex()}-{uuid.uuid4()}",
                },
            )
            for _ in range(n)
        ]
        return pipelined(server.port, requests, connections=4, depth=64)

    # Valid requests, which reach the store lookup (and its cache) before ResourceNotFound.
    expect_error(
        "ResourceNotFoundException",
        server.client().describe_user,
        IdentityStoreId=f"d-{os.urandom(5).hex()}",
        UserId=f"{os.urandom(5).hex()}-{uuid.uuid4()}",
    )
    round_of(2000)  # warm up: imports, pools and allocator arenas, which are not caches
    start = rss_mb(server)
    assert round_of(100_000) == Counter({400: 100_000})
    middle = rss_mb(server)
    assert round_of(100_000) == Counter({400: 100_000})
    end = rss_mb(server)
    print(f"memory: {start:.1f} MB, +{middle - start:.1f} MB, then +{end - middle:.1f} MB")
    assert end - start < 50, f"two rounds grew the server by {end - start:.0f} MB"
    assert end - middle < 10, f"the second round grew the server by {end - middle:.0f} MB"


# -- time and connections ----------------------------------------------------------------------


def test_stalled_connections_neither_block_others_nor_stay_open(serve: Any, store_id: str) -> None:
    assert Config().read_timeout <= 90  # the default closes stalled connections within 90 s
    timeout = 4.0
    server = serve("--read-timeout", str(timeout))
    client = server.client()
    user_id = client.create_user(**user_params(store_id, f"st{os.urandom(4).hex()}"))["UserId"]
    stalled = []
    for _ in range(2000):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Tar")
        stalled.append(sock)
    stalled_at = time.monotonic()
    try:
        started = time.perf_counter()
        client.describe_user(IdentityStoreId=store_id, UserId=user_id)
        assert time.perf_counter() - started < 2.0
        answers = _until_closed(stalled, deadline=stalled_at + timeout + 60)
        closed_after = time.monotonic() - stalled_at
    finally:
        for sock in stalled:
            sock.close()
    assert len(answers) == 2000, f"{2000 - len(answers)} stalled connections still open"
    assert closed_after >= timeout * 0.8
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers)
    client.describe_user(IdentityStoreId=store_id, UserId=user_id)


def _until_closed(sockets: list[socket.socket], deadline: float) -> list[bytes]:
    """Read each socket until the server closes it; what each received, once all are closed
    (or fewer, at the deadline)."""
    selector = selectors.DefaultSelector()
    received: dict[socket.socket, bytes] = {}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    done: list[bytes] = []
    while received and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                received[sock] += chunk
            else:
                selector.unregister(sock)
                done.append(received.pop(sock))
    selector.close()
    return done


def test_connections_beyond_the_cap_get_a_clean_503(serve: Any) -> None:
    server = serve("--max-connections", "20", "--keep-alive-timeout", "60")
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(20)]
    try:
        for sock in held:  # every one is served (and stays open, kept alive)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock, bytearray())[0] == 200
        _, status, headers, body = refused_within(
            server.port, aws_request("ListIdentityStores", {})
        )
        assert status == 503
        assert headers["x-amzn-errortype"] == "ServiceUnavailableException"
        assert "connections" in orjson.loads(body)["Message"]
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)
    assert server.client().list_identity_stores()["IdentityStores"]


def test_idle_keep_alive_connections_are_closed(serve: Any) -> None:
    server = serve("--keep-alive-timeout", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 10

"""The ASGI application (`idstore.app.App`): routing, bodies, lifespan, concurrency.

Most tests go over real HTTP to the `server` fixture (uvicorn in a thread); the ones that need
a configuration of their own (a small body limit) or a particular client address drive the ASGI
callable directly, as a server would.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from idstore.app import App, _headers
from idstore.config import Config
from idstore.model import now
from idstore.store import Store
from tests.conftest import RunningServer
from tests.helpers import (
    JSON_1_1,
    RawResponse,
    aws_call,
    check_aws_error,
    check_aws_response,
    is_uuid,
    make_group,
    make_user,
    raw_request,
    target,
    user_params,
)

MIB = 1024 * 1024


class Connection:
    """One persistent (keep-alive) HTTP/1.1 connection to the test server."""

    def __init__(self, server: RunningServer) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def call(self, operation: str, body: Any) -> RawResponse:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"X-Amz-Target": target(operation), "Content-Type": JSON_1_1}
        self._conn.request("POST", "/", body=data, headers=headers)
        response = self._conn.getresponse()
        return RawResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )

    def close(self) -> None:
        self._conn.close()


@pytest.fixture
def connection(server: RunningServer) -> Iterator[Connection]:
    conn = Connection(server)
    yield conn
    conn.close()


# -- /health ---------------------------------------------------------------------------------


def test_health(server: RunningServer) -> None:
    response = raw_request(server.url, None, method="GET", path="/health", content_type=None)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"status": "ok"}
    assert response.headers["content-length"] == str(len(response.body))


def test_head_health(server: RunningServer) -> None:
    response = raw_request(server.url, None, method="HEAD", path="/health", content_type=None)
    assert response.status == 200
    assert response.body == b""
    assert response.headers["content-type"] == "application/json"


def test_health_ignores_the_query_string(server: RunningServer) -> None:
    response = raw_request(server.url, None, method="GET", path="/health?x=1", content_type=None)
    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}


def test_other_methods_on_health_go_to_the_aws_front_end(server: RunningServer) -> None:
    response = raw_request(server.url, b"{}", method="POST", path="/health")
    check_aws_error(response, "UnknownOperationException")


# -- bodies ----------------------------------------------------------------------------------


def test_a_huge_body_is_refused_and_the_server_keeps_serving(server: RunningServer) -> None:
    response = raw_request(
        server.url, b"x" * (8 * MIB), target=target("ListIdentityStores"), timeout=60
    )
    check_aws_error(response, "ValidationException")
    health = raw_request(server.url, None, method="GET", path="/health", content_type=None)
    assert health.status == 200


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_chunked_body_over_the_limit_is_refused(server: RunningServer) -> None:
    body = b'{"Pad": "' + b"x" * (2 * MIB) + b'"}'
    response = raw_request(
        server.url, _chunks(body, 64 * 1024), target=target("ListIdentityStores"), chunked=True
    )
    check_aws_error(response, "ValidationException")


def test_a_chunked_body_is_reassembled(server: RunningServer, store_id: str) -> None:
    body = json.dumps({"IdentityStoreId": store_id, "MaxResults": 7}).encode()
    response = raw_request(server.url, _chunks(body, 3), target=target("ListUsers"), chunked=True)
    assert check_aws_response(response) == {"Users": []}
    assert response.status == 200


def test_the_connection_stays_usable_after_an_oversized_body(
    connection: Connection, store_id: str
) -> None:
    refused = connection.call("ListUsers", b"x" * (MIB + 1))
    check_aws_error(refused, "ValidationException")
    after = connection.call("ListUsers", {"IdentityStoreId": store_id})
    assert check_aws_response(after) == {"Users": []}
    assert after.status == 200


def test_keep_alive_serves_many_requests_on_one_connection(
    connection: Connection, store_id: str
) -> None:
    ids = set()
    for i in range(20):
        if i % 4 == 3:  # errors in between do not spoil the connection
            check_aws_error(connection.call("ListUsers", b"{"), "SerializationException")
            continue
        created = check_aws_response(
            connection.call(
                "CreateGroup", {"IdentityStoreId": store_id, "DisplayName": f"group {i}"}
            )
        )
        ids.add(created["GroupId"])
    listed = check_aws_response(connection.call("ListGroups", {"IdentityStoreId": store_id}))
    assert {g["GroupId"] for g in listed["Groups"]} == ids
    assert len(ids) == 15


# -- the ASGI callable, driven directly ------------------------------------------------------


async def _lifespan(app: App, *events: str) -> list[str]:
    incoming = [{"type": f"lifespan.{event}"} for event in events]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


def asgi_request(
    app: App,
    chunks: Iterable[bytes],
    *,
    headers: Iterable[tuple[str, str]] = (),
    method: str = "POST",
    path: str = "/",
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
) -> RawResponse:
    """One HTTP request through the ASGI callable, its body in the given `http.request`s."""
    parts = list(chunks) or [b""]
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": client,
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    start, body = sent
    return RawResponse(
        start["status"],
        {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]},
        body["body"],
    )


def aws_headers(operation: str) -> list[tuple[str, str]]:
    return [("X-Amz-Target", target(operation)), ("Content-Type", JSON_1_1)]


LIMIT = 100


@pytest.fixture
def small_app(store: Store, store_id: str) -> Iterator[App]:
    """An App over the test's store (with its identity store) that takes bodies up to 100 B."""
    app = App(store, Config(max_body_bytes=LIMIT))
    yield app
    # One lifespan, as a server runs it; its shutdown stops the app's thread pool (PostgreSQL).
    asyncio.run(_lifespan(app, "startup", "shutdown"))


def _body_of(size: int) -> bytes:
    head, tail = b'{"MaxResults":5,"Pad":"', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_lifespan_startup_and_shutdown(store: Store) -> None:
    app = App(store, Config())
    assert asyncio.run(_lifespan(app, "startup", "shutdown")) == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_body_limit_comes_from_the_config(small_app: App) -> None:
    accepted = asgi_request(small_app, [_body_of(LIMIT)], headers=aws_headers("ListIdentityStores"))
    assert len(check_aws_response(accepted)["IdentityStores"]) == 1
    refused = asgi_request(
        small_app, [_body_of(LIMIT + 1)], headers=aws_headers("ListIdentityStores")
    )
    assert "limit is 100 bytes" in check_aws_error(refused, "ValidationException")["Message"]


def test_body_in_many_messages_is_joined_and_limited(small_app: App) -> None:
    exact = _body_of(LIMIT)
    pieces = [exact[i : i + 7] for i in range(0, LIMIT, 7)]
    accepted = asgi_request(small_app, pieces, headers=aws_headers("ListIdentityStores"))
    assert accepted.status == 200
    assert len(check_aws_response(accepted)["IdentityStores"]) == 1

    over = [b" " * 30] * 3 + [b"{}", b" " * 30]  # 122 bytes of valid JSON, in five messages
    refused = asgi_request(small_app, over, headers=aws_headers("ListIdentityStores"))
    check_aws_error(refused, "ValidationException")


def test_response_carries_its_content_length(small_app: App) -> None:
    response = asgi_request(small_app, [b"{}"], headers=aws_headers("ListIdentityStores"))
    assert response.headers["content-length"] == str(len(response.body))
    assert is_uuid(response.headers["x-amzn-requestid"])


def test_the_client_address_reaches_the_source_ip_rules(
    small_app: App, store: Store, store_id: str
) -> None:
    network = {"VpceAccessRequired": False, "ApiAllowSourceIps": ["10.0.0.0/8"]}
    store.update_identity_store(store_id, network)  # the request would exceed the small limit
    describe = json.dumps({"IdentityStoreId": store_id}).encode()
    inside = asgi_request(
        small_app, [describe], headers=aws_headers("DescribeIdentityStore"), client=("10.1.2.3", 1)
    )
    assert check_aws_response(inside)["IdentityStoreId"] == store_id
    outside = asgi_request(
        small_app,
        [describe],
        headers=aws_headers("DescribeIdentityStore"),
        client=("192.0.2.1", 1),
    )
    check_aws_error(outside, "AccessDeniedException")


def test_repeated_headers_are_not_a_server_error(small_app: App) -> None:
    headers = [*aws_headers("ListIdentityStores"), ("X-Amz-Target", target("ListUsers"))]
    response = asgi_request(small_app, [b"{}"], headers=headers)
    check_aws_error(response, "UnknownOperationException")


def test_other_scope_types_are_ignored(store: Store) -> None:
    app = App(store, Config(), threads=0)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == []


# -- concurrency -----------------------------------------------------------------------------

THREADS = 8


def test_concurrent_requests_from_several_threads_all_succeed(
    server: RunningServer, store_id: str
) -> None:
    per_thread = 12
    start = threading.Barrier(THREADS)

    def work(thread: int) -> list[str]:
        conn = Connection(server)
        try:
            start.wait(10)
            created = []
            for i in range(per_thread):
                name = f"user-{thread}-{i}"
                response = conn.call("CreateUser", user_params(store_id, name))
                user_id = check_aws_response(response)["UserId"]
                described = check_aws_response(
                    conn.call("DescribeUser", {"IdentityStoreId": store_id, "UserId": user_id})
                )
                assert described["UserName"] == name
                listed = conn.call("ListUsers", {"IdentityStoreId": store_id, "MaxResults": 5})
                assert len(check_aws_response(listed)["Users"]) <= 5
                created.append(user_id)
            return created
        finally:
            conn.close()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    created = [user_id for ids in results for user_id in ids]
    assert len(set(created)) == THREADS * per_thread

    listed: list[str] = []
    body: dict[str, Any] = {"IdentityStoreId": store_id}
    while True:
        page = check_aws_response(aws_call(server.url, "ListUsers", body))
        listed += [u["UserId"] for u in page["Users"]]
        if "NextToken" not in page:
            break
        body["NextToken"] = page["NextToken"]
    assert sorted(listed) == sorted(created)


def test_concurrent_requests_over_boto3_clients(
    server: RunningServer, http_client: Any, store_id: str
) -> None:
    """Real SDK clients, one per thread (made up front: client creation is not thread-safe)."""
    import boto3

    clients = [
        boto3.client(
            "identitystore",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=f"AKIDTHREAD{i}",
            aws_secret_access_key="secret",
        )
        for i in range(THREADS)
    ]
    group_id = make_group(http_client, store_id)

    def work(thread: int) -> str:
        client = clients[thread]
        user_id = make_user(client, store_id, f"member-{thread}")
        client.create_group_membership(
            IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
        )
        return user_id

    with ThreadPoolExecutor(THREADS) as pool:
        user_ids = list(pool.map(work, range(THREADS)))
    members = http_client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)
    assert sorted(m["MemberId"]["UserId"] for m in members["GroupMemberships"]) == sorted(user_ids)
    for i, user_id in enumerate(user_ids):
        user = http_client.describe_user(IdentityStoreId=store_id, UserId=user_id)
        assert user["CreatedBy"] == f"arn:aws:iam::000000000000:user/AKIDTHREAD{i}"


@pytest.mark.parametrize("kind", ["user", "group", "membership"])
def test_concurrent_duplicates_give_one_success_and_conflicts(
    server: RunningServer, http_client: Any, store_id: str, kind: str
) -> None:
    if kind == "membership":
        user_id = make_user(http_client, store_id)
        group_id = make_group(http_client, store_id)
        operation = "CreateGroupMembership"
        params: dict[str, Any] = {
            "IdentityStoreId": store_id,
            "GroupId": group_id,
            "MemberId": {"UserId": user_id},
        }
    elif kind == "user":
        operation, params = "CreateUser", user_params(store_id, "same")
    else:
        operation, params = "CreateGroup", {"IdentityStoreId": store_id, "DisplayName": "Same"}
    start = threading.Barrier(THREADS)

    def attempt(_: int) -> RawResponse:
        conn = Connection(server)
        try:
            start.wait(10)
            return conn.call(operation, params)
        finally:
            conn.close()

    with ThreadPoolExecutor(THREADS) as pool:
        responses = list(pool.map(attempt, range(THREADS)))
    bodies = [check_aws_response(r) for r in responses]
    assert sum(r.status == 200 for r in responses) == 1, bodies
    conflicts = [b for b in bodies if "__type" in b]
    assert len(conflicts) == THREADS - 1
    for body in conflicts:
        assert body["__type"] == "ConflictException", body
        assert body["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"


def test_a_body_cut_off_by_a_disconnect_is_not_handled(store: Store) -> None:
    """A client that goes away mid-body (or is cut off by the read timeout) gets nothing, and
    its partial body is not handled: here it would be a valid CreateGroup."""
    app = App(store, Config())
    store_id = store.create_identity_store(now()).store_id
    body = f'{{"IdentityStoreId":"{store_id}","DisplayName":"cut-off"}}'.encode()
    messages = [{"type": "http.request", "body": body, "more_body": True}]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in aws_headers("CreateGroup")]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    assert sent == []
    assert store.list_groups(store_id, None, 10).items == []


def test_repeated_headers_are_joined_in_order() -> None:
    raw = [(b"X-A", b"1"), (b"host", b"h"), (b"x-a", b"2"), (b"X-A", b"3")]
    assert _headers(raw, frozenset()) == {"x-a": "1,2,3", "host": "h"}


def test_dropped_headers_are_not_read() -> None:
    raw = [(b"X-Forwarded-For", b"10.0.0.1"), (b"host", b"h"), (b"x-forwarded-for", b"10.0.0.2")]
    assert _headers(raw, frozenset({"x-forwarded-for"})) == {"host": "h"}

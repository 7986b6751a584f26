"""Invariants under races, with several real server processes on one database
(docs/behaviour.md#uniqueness, #updates).

Each test starts two `idstore serve` processes on the same database (a SQLite file, or the
PostgreSQL test database) and sends conflicting requests from many threads at once, spread
over both. botocore's retries are off, so every answer is the server's own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import user_params
from tests.servers import ServerProcess, create_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, db_url: str) -> str:
    if db_url == "sqlite://":
        return f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
    return db_url


@pytest.fixture(scope="module")
def servers(database: str) -> Iterator[list[ServerProcess]]:
    create_store(database)  # migrates the database before two servers race to
    started = [ServerProcess(database).start(), ServerProcess(database).start()]
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def race_store(database: str, servers: list[ServerProcess]) -> str:
    return create_store(database)


def race(servers: list[ServerProcess], count: int, call: Callable[[Any, int], Any]) -> list[Any]:
    """Run `call(client, i)` `count` times at once, alternating servers; return results or
    the ClientErrors raised."""
    clients = [s.client() for s in servers]
    barrier = threading.Barrier(count)

    def one(i: int) -> Any:
        client = clients[i % len(clients)]
        barrier.wait()
        try:
            return call(client, i)
        except ClientError as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def codes(results: list[Any]) -> Counter[str]:
    return Counter(
        r.response["Error"]["Code"] if isinstance(r, ClientError) else "OK" for r in results
    )


def test_same_user_name_from_16_requests_over_2_processes(
    servers: list[ServerProcess], race_store: str
) -> None:
    results = race(
        servers,
        16,
        lambda c, i: c.create_user(**user_params(race_store, "racer" if i % 2 else "RACER")),
    )
    assert codes(results) == {"OK": 1, "ConflictException": 15}
    assert all(
        r.response["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
        for r in results
        if isinstance(r, ClientError)
    )
    users = servers[0].client().list_users(IdentityStoreId=race_store)["Users"]
    assert len(users) == 1


def test_same_revision_from_10_updates_has_one_winner(
    servers: list[ServerProcess], race_store: str
) -> None:
    client = servers[0].client()
    created = client.create_user(**user_params(race_store, "target"))
    revision = created["Revision"]
    results = race(
        servers,
        10,
        lambda c, i: c.update_user(
            IdentityStoreId=race_store,
            UserId=created["UserId"],
            Revision=revision,
            Operations=[{"AttributePath": "nickName", "AttributeValue": f"winner-{i}"}],
        ),
    )
    assert codes(results) == {"OK": 1, "ConflictException": 9}
    winner = next(i for i, r in enumerate(results) if not isinstance(r, ClientError))
    user = client.describe_user(IdentityStoreId=race_store, UserId=created["UserId"])
    assert user["NickName"] == f"winner-{winner}"
    assert int(user["Revision"]) == int(revision) + 1
    assert all(
        r.response["Reason"] == "CONCURRENT_MODIFICATION"
        for r in results
        if isinstance(r, ClientError)
    )


def test_same_membership_from_12_requests_is_created_once(
    servers: list[ServerProcess], race_store: str
) -> None:
    client = servers[0].client()
    user_id = client.create_user(**user_params(race_store, "member"))["UserId"]
    group_id = client.create_group(IdentityStoreId=race_store, DisplayName="team")["GroupId"]
    results = race(
        servers,
        12,
        lambda c, i: c.create_group_membership(
            IdentityStoreId=race_store, GroupId=group_id, MemberId={"UserId": user_id}
        ),
    )
    assert codes(results) == {"OK": 1, "ConflictException": 11}
    memberships = client.list_group_memberships(IdentityStoreId=race_store, GroupId=group_id)
    assert len(memberships["GroupMemberships"]) == 1


def test_parallel_creates_all_appear_once_in_listings(
    servers: list[ServerProcess], race_store: str
) -> None:
    client = servers[0].client()
    before = [
        client.create_user(**user_params(race_store, f"early{i}"))["UserId"] for i in range(30)
    ]
    walked: list[str] = []
    done = threading.Event()

    def walk() -> None:
        # Walk all pages, slowly, while the creates below run.
        pages = client.get_paginator("list_users").paginate(
            IdentityStoreId=race_store, PaginationConfig={"PageSize": 7}
        )
        for page in pages:
            walked.extend(u["UserId"] for u in page["Users"])
        done.set()

    walker = threading.Thread(target=walk)
    walker.start()
    results = race(servers, 40, lambda c, i: c.create_user(**user_params(race_store, f"par{i}")))
    walker.join(60)
    assert done.is_set()
    assert codes(results) == {"OK": 40}
    created = [r["UserId"] for r in results]
    # Every user that existed for the whole walk was seen exactly once; nothing twice.
    assert len(walked) == len(set(walked))
    assert set(before) <= set(walked)
    # Afterwards, every create is listed exactly once.
    listed = [
        u["UserId"]
        for page in client.get_paginator("list_users").paginate(
            IdentityStoreId=race_store, PaginationConfig={"PageSize": 9}
        )
        for u in page["Users"]
    ]
    assert len(listed) == len(set(listed)) == 70
    assert set(listed) == set(before) | set(created)

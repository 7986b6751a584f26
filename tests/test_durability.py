"""Crash safety: an acknowledged write survives `kill -9`, and no write is half-done.

SQLite runs in WAL mode with `synchronous=NORMAL` (the default; see store/dialects.py): a
commit has reached the operating system before it is acknowledged, so a crash of the process
loses nothing (losing power could lose the last commits; `IDSTORE_SQLITE_SYNCHRONOUS=FULL`
covers that too). PostgreSQL commits are durable by its own WAL.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.helpers import user_params
from tests.servers import ServerProcess, create_store

pytestmark = pytest.mark.slow


def _until_killed(server: ServerProcess, threads: int, work: Any, seconds: float) -> list[Any]:
    """Run `work(client, thread, n)` in loops from several threads; SIGKILL the server after
    `seconds`; return what each call acknowledged (its result), in any order."""
    acknowledged: list[Any] = []
    lock = threading.Lock()
    stop = threading.Event()

    def loop(thread: int) -> None:
        client = server.client()
        n = 0
        while not stop.is_set():
            try:
                result = work(client, thread, n)
            except (ClientError, BotoCoreError, OSError):
                return  # the server is gone
            with lock:
                acknowledged.append(result)
            n += 1

    with ThreadPoolExecutor(threads) as pool:
        for t in range(threads):
            pool.submit(loop, t)
        time.sleep(seconds)
        server.kill()
        stop.set()
    return acknowledged


def test_acknowledged_creates_survive_kill_9(file_db_url: str) -> None:
    store_id = create_store(file_db_url)
    server = ServerProcess(file_db_url).start()
    acked = _until_killed(
        server,
        6,
        lambda c, t, n: c.create_user(**user_params(store_id, f"crash-{t}-{n}"))["UserId"],
        1.5,
    )
    assert len(acked) > 20, "the writers should have got some writes in"
    restarted = ServerProcess(file_db_url).start()
    try:
        client = restarted.client()
        for user_id in acked:
            assert client.describe_user(IdentityStoreId=store_id, UserId=user_id)["UserId"]
        listed = {
            u["UserId"]
            for page in client.get_paginator("list_users").paginate(IdentityStoreId=store_id)
            for u in page["Users"]
        }
        assert set(acked) <= listed
        # At most one unacknowledged create per writer can have landed.
        assert len(listed) - len(acked) <= 6
    finally:
        restarted.stop()


def test_multi_operation_updates_are_all_or_nothing_across_a_crash(file_db_url: str) -> None:
    store_id = create_store(file_db_url)
    server = ServerProcess(file_db_url).start()
    setup = server.client()
    user_ids = [
        setup.create_user(**user_params(store_id, f"atomic{i}"))["UserId"] for i in range(6)
    ]

    def update(client: Any, thread: int, n: int) -> tuple[str, str]:
        token = f"v{thread}-{n}"
        user_id = user_ids[thread]
        client.update_user(
            IdentityStoreId=store_id,
            UserId=user_id,
            Operations=[
                {"AttributePath": "displayName", "AttributeValue": f"Display {token}"},
                {"AttributePath": "nickName", "AttributeValue": token},
                {"AttributePath": "title", "AttributeValue": token},
                {"AttributePath": "name.middleName", "AttributeValue": token},
            ],
        )
        return user_id, token

    acked = _until_killed(server, 6, update, 1.5)
    assert len(acked) > 20
    last: dict[str, str] = {}
    for user_id, token in acked:
        last[user_id] = token
    restarted = ServerProcess(file_db_url).start()
    try:
        client = restarted.client()
        for user_id in user_ids:
            user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
            token = user.get("NickName")
            # Every attribute carries the same update: none is from an older one.
            assert user.get("Title") == token
            assert user["Name"].get("MiddleName") == token
            assert user["DisplayName"] == (
                f"Display {token}"
                if token
                else f"Atomic{user_ids.index(user_id)}".title() + " Example"
            )
            if user_id in last:
                # The last acknowledged update is there, or the one in flight after it.
                thread, n = last[user_id][1:].split("-")
                assert token in (last[user_id], f"v{thread}-{int(n) + 1}")
    finally:
        restarted.stop()

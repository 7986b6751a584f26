"""Every answer is true while the database's sessions die under the server (see
docs/durability.md).

Writers run CreateUser, CreateGroup, CreateGroupMembership, UpdateUser (without Revision) and
DeleteUser through boto3 against a real `idstore serve`, with botocore's retries off so that
every answer is the server's own, while a fault injector disturbs the database for 20 s:

- PostgreSQL: a helper session terminates the server's backends (`pg_terminate_backend`) every
  0.3 s, so connections drop before, during and after COMMIT;
- SQLite: a connection cannot be lost in process, so the analogue is the other way a write can
  fail: another session takes the write lock for a random 0.1-1.5 s every 0.3 s, past the
  server's lock deadline now and then.

After each answer a separate reader checks the database: a success means the change is there
(an update applied exactly once); a failure other than the retryable InternalServerException
means it is not. No 500 comes without RetryAfterSeconds, and no message names a constraint or a
table. The counts are printed.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from sqlalchemy.engine import make_url

from tests.helpers import user_params
from tests.lockers import holding_write_lock
from tests.servers import ServerProcess, create_store

pytestmark = pytest.mark.slow

SECONDS = 20.0
WRITERS = 6
APPLICATION = "idstore-fault-test"  # the server's sessions, by libpq's PGAPPNAME
INTERNAL = re.compile(
    r"\b(uq|fk|ix|pk|ck)_\w+|identity_stores|user_external_ids|group_external_ids|"
    r"duplicate key|violates|constraint failed|database is locked|psycopg|sqlite",
    re.IGNORECASE,
)


def _client(server: ServerProcess, attempts: int) -> Any:
    return boto3.client(
        "identitystore",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDFAULTTEST",
        aws_secret_access_key="secret",
        config=BotoConfig(
            retries={"total_max_attempts": attempts, "mode": "standard"},
            max_pool_connections=32,
            read_timeout=60,
        ),
    )


@contextmanager
def _faults(db_url: str, store_id: str) -> Iterator[Counter[str]]:
    """Disturb the database from a thread while the block runs; count what was done."""
    done: Counter[str] = Counter()
    stop = threading.Event()
    url = make_url(db_url)

    def terminate() -> None:
        import psycopg

        with psycopg.connect(
            url.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            while not stop.wait(0.3):
                killed = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    [APPLICATION],
                ).fetchone()
                done["backends terminated"] += killed[0] if killed else 0

    def lock() -> None:
        draw = random.Random(12)
        while not stop.wait(0.3):
            with holding_write_lock(db_url, store_id):
                stop.wait(draw.uniform(0.1, 1.5))
            done["write locks held"] += 1

    thread = threading.Thread(
        target=terminate if url.get_backend_name() == "postgresql" else lock, daemon=True
    )
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(30)


class Ledger:
    """Every answer and what the database said about it afterwards."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.mismatches: list[str] = []
        self._lock = threading.Lock()

    def call(self, send: Callable[..., Any], **params: Any) -> tuple[str, Any]:
        """Send a request: ("ok", result), ("retry", error) or ("fail", error)."""
        operation = send.__name__
        try:
            result = send(**params)
            kind: str = "ok"
        except ClientError as error:
            result = error
            response = error.response
            message = response["Error"].get("Message", "")
            status = response["ResponseMetadata"]["HTTPStatusCode"]
            retryable = (
                response["Error"]["Code"] == "InternalServerException"
                and "RetryAfterSeconds" in response
            )
            kind = "retry" if retryable else "fail"
            if status >= 500 and not retryable:
                self.mismatch(f"{operation}: {status} without RetryAfterSeconds: {response}")
            if INTERNAL.search(message):
                self.mismatch(f"{operation}: an internal name in {message!r}")
        with self._lock:
            self.counts["requests"] += 1
            self.counts[{"ok": "successes", "retry": "retryable", "fail": "definite"}[kind]] += 1
        return kind, result

    def check(self, condition: bool, what: str) -> None:
        if not condition:
            self.mismatch(what)

    def mismatch(self, what: str) -> None:
        with self._lock:
            self.mismatches.append(what)


def _writer(
    server: ServerProcess, store_id: str, thread: int, stop: threading.Event, ledger: Ledger
) -> None:
    """Create a user and a group, join them, update the user three times, delete it; again.
    Check each answer against the database before the next request."""
    client = _client(server, attempts=1)
    reader = _client(server, attempts=10)  # reads are safe to retry

    def user_named(name: str) -> str | None:
        try:
            found = reader.get_user_id(
                IdentityStoreId=store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": name}
                },
            )
        except reader.exceptions.ResourceNotFoundException:
            return None
        return str(found["UserId"])

    def group_named(name: str) -> str | None:
        found = reader.list_groups(
            IdentityStoreId=store_id,
            Filters=[{"AttributePath": "DisplayName", "AttributeValue": name}],
        )["Groups"]
        return str(found[0]["GroupId"]) if found else None

    n = 0
    while not stop.is_set():
        n += 1
        name = f"w{thread}-{n}"
        kind, result = ledger.call(client.create_user, **user_params(store_id, name))
        user_id = user_named(name)
        if kind == "ok":
            ledger.check(user_id == result["UserId"], f"CreateUser {name}: ok, but {user_id}")
        elif kind == "fail":
            ledger.check(user_id is None, f"CreateUser {name}: {result}, but it is there")
        if user_id is None:
            continue

        kind, result = ledger.call(client.create_group, IdentityStoreId=store_id, DisplayName=name)
        group_id = group_named(name)
        if kind == "ok":
            ledger.check(group_id == result["GroupId"], f"CreateGroup {name}: ok, not there")
        elif kind == "fail":
            ledger.check(group_id is None, f"CreateGroup {name}: {result}, but it is there")

        if group_id is not None:
            kind, result = ledger.call(
                client.create_group_membership,
                IdentityStoreId=store_id,
                GroupId=group_id,
                MemberId={"UserId": user_id},
            )
            member = reader.is_member_in_groups(
                IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[group_id]
            )["Results"][0]["MembershipExists"]
            if kind == "ok":
                ledger.check(member, f"CreateGroupMembership {name}: ok, not a member")
            elif kind == "fail":
                ledger.check(not member, f"CreateGroupMembership {name}: {result}, a member")

        revision = int(reader.describe_user(IdentityStoreId=store_id, UserId=user_id)["Revision"])
        for step in range(3):
            token = f"{name}-{step}"
            kind, result = ledger.call(
                client.update_user,
                IdentityStoreId=store_id,
                UserId=user_id,
                Operations=[{"AttributePath": "nickName", "AttributeValue": token}],
            )
            now = reader.describe_user(IdentityStoreId=store_id, UserId=user_id)
            applied = now.get("NickName") == token
            if kind == "ok":
                ledger.check(
                    applied and int(now["Revision"]) == revision + 1,
                    f"UpdateUser {token}: ok, but revision {revision} -> {now['Revision']}, "
                    f"nickName {now.get('NickName')}",
                )
            elif kind == "fail":
                ledger.check(not applied, f"UpdateUser {token}: {result}, but applied")
            revision = int(now["Revision"])

        kind, result = ledger.call(client.delete_user, IdentityStoreId=store_id, UserId=user_id)
        gone = user_named(name) is None
        if kind == "ok":
            ledger.check(gone, f"DeleteUser {name}: ok, but it is there")
        elif kind == "fail":
            ledger.check(not gone, f"DeleteUser {name}: {result}, but it is gone")


def test_answers_stay_true_while_the_database_misbehaves(file_db_url: str) -> None:
    store_id = create_store(file_db_url)
    postgres = make_url(file_db_url).get_backend_name() == "postgresql"
    server = ServerProcess(
        file_db_url,
        extra=[] if postgres else ["--lock-timeout", "1"],
        env={"PGAPPNAME": APPLICATION},
    ).start()
    ledger = Ledger()
    stop = threading.Event()
    try:
        with _faults(file_db_url, store_id) as faults:
            writers = [
                threading.Thread(target=_writer, args=(server, store_id, t, stop, ledger))
                for t in range(WRITERS)
            ]
            for writer in writers:
                writer.start()
            time.sleep(SECONDS)
            stop.set()
            for writer in writers:
                writer.join(120)
        assert not any(writer.is_alive() for writer in writers)
    finally:
        server.stop()
    counts = ledger.counts
    print(
        f"\n{'PostgreSQL' if postgres else 'SQLite'}: {dict(faults)}; requests "
        f"{counts['requests']}, successes {counts['successes']}, retryable failures "
        f"{counts['retryable']}, definite failures {counts['definite']}, mismatches "
        f"{len(ledger.mismatches)}"
    )
    assert ledger.mismatches == []
    assert counts["requests"] > 50, counts
    assert counts["successes"] > counts["requests"] // 4, counts
    assert sum(faults.values()) > 10, faults

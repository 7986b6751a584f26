"""A COMMIT whose answer is lost is never answered falsely, nor run twice (see
docs/durability.md).

The fault is made deterministic: the first COMMIT of the request is replaced by one that
breaks the way a dropped connection does, after or before the server commits.

- PostgreSQL: the connection is closed, after or instead of the COMMIT. The Store asks the
  commit log (`pg_xact_status`) on another connection: a change that took effect is answered
  as done (one user, not two, and no ConflictException); one that did not is run again.
- SQLite has no connection to lose in process: the analogue is a COMMIT that raises. If the
  transaction is still open, it did not commit (the answer is a retryable error and nothing is
  there); if it is closed, the outcome is unknown and the answer says so (retryable, with
  RetryAfterSeconds), never a definite failure.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from idstore.store import Store
from idstore.store.sql import Connection
from tests.conftest import REGION
from tests.helpers import user_params


@pytest.fixture
def client(mock: Any) -> Any:
    """A real boto3 client served in-process, without retries: every answer is the Store's."""
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id="AKIDTESTCLIENT",
        aws_secret_access_key="secret",
        config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _break_first_commit(
    monkeypatch: pytest.MonkeyPatch, fault: Callable[[Connection, Callable[[], None]], None]
) -> list[int]:
    """Replace the next COMMIT by `fault(conn, real_commit)`; later ones are real."""
    real = Connection.commit
    calls: list[int] = []

    def commit(self: Connection) -> None:
        calls.append(1)
        if len(calls) == 1:
            fault(self, lambda: real(self))
        else:
            real(self)

    monkeypatch.setattr(Connection, "commit", commit)
    return calls


def _lost(conn: Connection) -> BaseException:
    """Close the connection under the Store, as a dropped network does."""
    raw: Any = conn._raw
    raw.close()
    import psycopg

    return psycopg.OperationalError("server closed the connection unexpectedly")


def _named(client: Any, store_id: str, name: str) -> list[str]:
    users = client.list_users(
        IdentityStoreId=store_id,
        Filters=[{"AttributePath": "UserName", "AttributeValue": name}],
    )["Users"]
    return [u["UserId"] for u in users]


def test_a_commit_that_took_effect_is_answered_as_done(
    client: Any, store_id: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def after(conn: Connection, commit: Callable[[], None]) -> None:
        commit()
        if store.dialect == "postgresql":
            raise _lost(conn)
        raise sqlite3.OperationalError("disk I/O error")

    calls = _break_first_commit(monkeypatch, after)
    if store.dialect == "postgresql":
        created = client.create_user(**user_params(store_id, "once"))
        assert _named(client, store_id, "once") == [created["UserId"]]
        assert len(calls) == 1  # not run again
    else:
        with pytest.raises(ClientError) as failed:
            client.create_user(**user_params(store_id, "once"))
        error = failed.value.response
        assert error["Error"]["Code"] == "InternalServerException"
        assert error["RetryAfterSeconds"] == 1
        assert "could not be learnt" in error["Error"]["Message"]
        assert len(_named(client, store_id, "once")) == 1  # it did commit


def test_a_commit_that_never_arrived_is_run_again_or_refused(
    client: Any, store_id: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def instead(conn: Connection, commit: Callable[[], None]) -> None:
        if store.dialect == "postgresql":
            raise _lost(conn)
        raise sqlite3.OperationalError("database is locked")

    calls = _break_first_commit(monkeypatch, instead)
    if store.dialect == "postgresql":
        created = client.create_user(**user_params(store_id, "again"))
        assert _named(client, store_id, "again") == [created["UserId"]]
        assert len(calls) == 2  # the first did not commit: run again, once
    else:
        with pytest.raises(ClientError) as failed:
            client.create_user(**user_params(store_id, "again"))
        error = failed.value.response
        assert error["Error"]["Code"] == "InternalServerException"
        assert error["RetryAfterSeconds"] == 1
        assert _named(client, store_id, "again") == []
        created = client.create_user(**user_params(store_id, "again"))  # the retry works
        assert _named(client, store_id, "again") == [created["UserId"]]


def test_an_update_whose_commit_was_lost_is_applied_once(
    client: Any, store_id: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = client.create_user(**user_params(store_id, "counted"))["UserId"]

    def after(conn: Connection, commit: Callable[[], None]) -> None:
        commit()
        if store.dialect == "postgresql":
            raise _lost(conn)
        raise sqlite3.OperationalError("disk I/O error")

    _break_first_commit(monkeypatch, after)
    try:
        client.update_user(
            IdentityStoreId=store_id,
            UserId=user_id,
            Operations=[{"AttributePath": "nickName", "AttributeValue": "once"}],
        )
        answered = "ok"
    except ClientError as error:
        assert error.response["RetryAfterSeconds"] == 1
        answered = "unknown"
    assert answered == ("ok" if store.dialect == "postgresql" else "unknown")
    user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["NickName"] == "once"
    assert user["Revision"] == "2"  # applied once

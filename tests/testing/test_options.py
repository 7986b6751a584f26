"""The test mode's options: auto-created stores, injected faults, and use from many threads.

Tests that could depend on the database serve the store under test (`store` fixture), so they
run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import threading
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from idstore.store import Store
from idstore.testing import FAULTS, IdentityStoreMock, mock_identitystore
from tests.helpers import user_params

NO_RETRIES = BotoConfig(retries={"mode": "standard", "total_max_attempts": 1})


def _client(config: BotoConfig | None = None) -> Any:
    return boto3.client("identitystore", config=config)


# -- auto_create_stores -----------------------------------------------------------------------


def test_without_the_option_an_unknown_store_is_not_found() -> None:
    with mock_identitystore():
        with pytest.raises(ClientError) as caught:
            _client().list_users(IdentityStoreId="d-1234567890")
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert caught.value.response["ResourceType"] == "IDENTITY_STORE"


def test_any_well_formed_store_id_is_created_on_first_use(store: Store) -> None:
    with IdentityStoreMock(store=store, auto_create_stores=True):
        client = _client()
        client.create_user(**user_params("d-1234567890", "alice"))
        client.create_user(**user_params("d-abcdef0123", "alice"))  # another store
        assert [
            u["UserName"] for u in client.list_users(IdentityStoreId="d-1234567890")["Users"]
        ] == ["alice"]
        uuid_form = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
        assert client.list_groups(IdentityStoreId=uuid_form)["Groups"] == []
        arn = "arn:aws:identitystore::000000000000:identitystore/d-00000000ff"
        assert client.list_groups(IdentityStoreId=arn)["Groups"] == []
        ids = {s.store_id for s in store.list_identity_stores(None, 100).items}
        assert {"d-1234567890", "d-abcdef0123", uuid_form, "d-00000000ff"} <= ids


def test_malformed_ids_and_other_accounts_are_not_created(store: Store) -> None:
    with IdentityStoreMock(store=store, auto_create_stores=True) as mock:
        client = _client()
        # moto's suites make ids like d-<10 letters>; the model's pattern wants hex.
        with pytest.raises(client.exceptions.ValidationException):
            client.list_users(IdentityStoreId="d-abcdefghij")
        other = "arn:aws:identitystore::123456789012:identitystore/d-00000000ee"
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.list_users(IdentityStoreId=other)
        listed = store.list_identity_stores(None, 100).items
        assert [s.store_id for s in listed] == [mock.store_id]


def test_threads_racing_to_create_one_store_all_succeed(store: Store) -> None:
    with IdentityStoreMock(store=store, auto_create_stores=True):
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                client = boto3.client("identitystore")
                client.create_group(IdentityStoreId="d-00000000aa", DisplayName=f"group {n}")
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert store.get_identity_store("d-00000000aa").group_count == 8


# -- faults -----------------------------------------------------------------------------------


def _outcomes(seed: int, calls: int = 60) -> list[str]:
    faults = {"ThrottlingException": 0.2, "InternalServerException": 0.05}
    with mock_identitystore(faults=faults, seed=seed) as mock:
        client = _client(NO_RETRIES)
        out = []
        for _ in range(calls):
            try:
                client.list_users(IdentityStoreId=mock.store_id)
                out.append("ok")
            except ClientError as error:
                out.append(error.response["Error"]["Code"])
        assert len(mock.injected) == calls - out.count("ok")
        return out


def test_faults_are_deterministic_for_a_seed() -> None:
    first = _outcomes(seed=42)
    assert first == _outcomes(seed=42)
    assert first != _outcomes(seed=43)
    assert {"ok", "ThrottlingException", "InternalServerException"} == set(first)


def test_fault_rates_are_respected() -> None:
    counts = Counter(_outcomes(seed=7, calls=800))
    assert 0.14 < counts["ThrottlingException"] / 800 < 0.26
    assert 0.02 < counts["InternalServerException"] / 800 < 0.08


def test_injected_errors_are_modelled_with_their_members() -> None:
    with mock_identitystore(faults={"ThrottlingException": 1.0}) as mock:
        client = _client(NO_RETRIES)
        with pytest.raises(client.exceptions.ThrottlingException) as caught:
            client.create_group(IdentityStoreId=mock.store_id, DisplayName="G")
        response = caught.value.response
        assert response["RetryAfterSeconds"] == 1
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert mock.injected == [("CreateGroup", "ThrottlingException")]
        assert mock.store is not None
        assert mock.store.get_identity_store(mock.store_id).group_count == 0  # never reached
    for code in sorted(FAULTS):
        with mock_identitystore(faults={code: 1.0}) as mock:
            with pytest.raises(ClientError) as error:
                _client(NO_RETRIES).list_groups(IdentityStoreId=mock.store_id)
            assert error.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    "faults",
    [
        {"NoSuchError": 0.1},
        {"ThrottlingException": 1.5},
        {"ThrottlingException": 0.6, "InternalServerException": 0.6},
    ],
)
def test_bad_fault_settings_are_refused(faults: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        mock_identitystore(faults=faults)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record botocore's retry delays instead of sleeping them."""
    delays: list[float] = []
    shim = types.SimpleNamespace(sleep=delays.append)
    monkeypatch.setattr(botocore.endpoint, "time", shim)
    yield delays


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_botocore_retries_recover_from_injected_faults(no_backoff: list[float], mode: str) -> None:
    faults = {"ThrottlingException": 0.2, "InternalServerException": 0.05}
    with mock_identitystore(faults=faults, seed=1234) as mock:
        client = _client(BotoConfig(retries={"mode": mode, "max_attempts": 10}))
        user_ids = [
            client.create_user(**user_params(mock.store_id, f"user{n}"))["UserId"]
            for n in range(40)
        ]
        names = [
            u["UserName"]
            for page in client.get_paginator("list_users").paginate(
                IdentityStoreId=mock.store_id, PaginationConfig={"PageSize": 7}
            )
            for u in page["Users"]
        ]
    assert len(set(user_ids)) == 40
    assert names == [f"user{n}" for n in range(40)]  # each create happened exactly once
    assert mock.injected, "the seed should have injected faults"
    assert len(no_backoff) >= len(mock.injected)  # botocore backed off before each retry


def test_a_retry_loop_of_ones_own_sees_every_fault() -> None:
    """What a user's hand-written retry logic is tested against."""
    with mock_identitystore(faults={"ThrottlingException": 0.5}, seed=3) as mock:
        client = _client(NO_RETRIES)
        attempts = 0
        for _ in range(100):
            attempts += 1
            try:
                client.create_group(IdentityStoreId=mock.store_id, DisplayName="Retried")
                break
            except client.exceptions.ThrottlingException:
                continue
        assert attempts == len(mock.injected) + 1


# -- threads ----------------------------------------------------------------------------------


def test_many_threads_share_one_mock(store: Store) -> None:
    with IdentityStoreMock(store=store, faults={"ThrottlingException": 0.1}, seed=5) as mock:
        sid = mock.store_id
        setup = boto3.client("identitystore")
        group_id = setup.create_group(IdentityStoreId=sid, DisplayName="Everyone")["GroupId"]
        failures: list[BaseException] = []
        winners: list[str] = []
        barrier = threading.Barrier(16)

        def worker(n: int) -> None:
            try:
                client = boto3.Session().client(
                    "identitystore",
                    config=BotoConfig(retries={"mode": "standard", "max_attempts": 20}),
                )
                barrier.wait()
                for i in range(10):
                    user_id = client.create_user(**user_params(sid, f"t{n}u{i}"))["UserId"]
                    client.create_group_membership(
                        IdentityStoreId=sid, GroupId=group_id, MemberId={"UserId": user_id}
                    )
                    client.describe_user(IdentityStoreId=sid, UserId=user_id)
                try:  # every thread races for the same name: exactly one wins
                    client.create_user(**user_params(sid, "contested"))
                    winners.append(f"thread {n}")
                except client.exceptions.ConflictException:
                    pass
            except BaseException as error:  # pragma: no cover - reported below
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert failures == []
        assert len(winners) == 1
        members = setup.get_paginator("list_group_memberships").paginate(
            IdentityStoreId=sid, GroupId=group_id
        )
        assert sum(len(p["GroupMemberships"]) for p in members) == 160
        assert store.get_identity_store(sid).user_count == 161
        assert mock.injected

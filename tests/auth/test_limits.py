"""Limits (docs/behaviour.md#access): quotas of users and groups per store, throttling per (store,
operation), the request body size, and the stores' ApiAllowSourceIps, all configurable and all
answered with AWS's errors, which botocore handles as AWS's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config as BotoConfig

from idstore import errors
from idstore.aws.throttle import MAX_BUCKETS, Throttle
from idstore.config import Config
from idstore.store import Store
from idstore.testing import IdentityStoreMock
from tests.auth.conftest import AccessKeyPair, Keys, boto_client
from tests.conftest import TEST_SERVER_KEY
from tests.helpers import expect_error, make_group, make_user

SIGV4 = Config(auth="sigv4", server_key=TEST_SERVER_KEY)


@pytest.fixture
def limited(request: pytest.FixtureRequest, store: Store) -> Iterator[IdentityStoreMock]:
    """The in-process service with the Config changes the test is parametrised with."""
    with IdentityStoreMock(store=store, config=SIGV4.with_changes(**request.param)) as m:
        yield m


@pytest.fixture
def admin(limited: IdentityStoreMock, keys: Keys) -> AccessKeyPair:
    return keys.make(None, name="admin")


# -- quotas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limited", [{"max_users_per_store": 2, "max_groups_per_store": 1}], indirect=True
)
def test_quotas_are_service_quota_exceeded(
    limited: IdentityStoreMock, admin: AccessKeyPair, store: Store
) -> None:
    client = boto_client(admin)
    sid = limited.store_id
    make_user(client, sid, "one")
    make_user(client, sid, "two")
    response = expect_error(
        "ServiceQuotaExceededException", client.create_user, **_user(sid, "three")
    )
    assert "maximum of 2 users" in response["Error"]["Message"]
    make_group(client, sid, "first")
    expect_error(
        "ServiceQuotaExceededException",
        client.create_group,
        IdentityStoreId=sid,
        DisplayName="second",
    )
    # Per store: another store has its own room.
    from idstore.model import now

    other = store.create_identity_store(now()).store_id
    make_user(client, other, "one")


def _user(store_id: str, name: str) -> dict[str, Any]:
    from tests.helpers import user_params

    return user_params(store_id, name)


def test_limits_come_from_the_environment() -> None:
    config = Config.from_env(
        {
            "IDSTORE_MAX_USERS": "10",
            "IDSTORE_MAX_GROUPS": "5",
            "IDSTORE_THROTTLE_TPS": "2.5",
            "IDSTORE_MAX_BODY_BYTES": "4096",
        }
    )
    assert (config.max_users_per_store, config.max_groups_per_store) == (10, 5)
    assert (config.throttle_tps, config.max_body_bytes) == (2.5, 4096)
    defaults = Config.from_env({})
    assert (defaults.max_users_per_store, defaults.max_groups_per_store) == (200_000, 100_000)
    assert defaults.throttle_tps == 0 and defaults.max_body_bytes == 1024 * 1024
    # Flags win over the environment.
    assert (
        Config.from_env({"IDSTORE_MAX_USERS": "10"}, max_users_per_store=3).max_users_per_store == 3
    )
    for name, value in [
        ("IDSTORE_MAX_USERS", "-1"),
        ("IDSTORE_MAX_USERS", "1.5"),
        ("IDSTORE_THROTTLE_TPS", "nan"),
        ("IDSTORE_MAX_BODY_BYTES", "lots"),
    ]:
        with pytest.raises(ValueError, match=name):
            Config.from_env({name: value})
    with pytest.raises(ValueError, match="auth must be one of"):
        Config.from_env({"IDSTORE_AUTH": "basic"})


# -- request size ----------------------------------------------------------------------------


@pytest.mark.parametrize("limited", [{"max_body_bytes": 2048}], indirect=True)
def test_the_body_limit_is_configurable(limited: IdentityStoreMock, admin: AccessKeyPair) -> None:
    client = boto_client(admin)
    response = expect_error(
        "ValidationException",
        client.create_group,
        IdentityStoreId=limited.store_id,
        DisplayName="big",
        Description="x" * 1024 * 3,
    )
    assert "the limit is 2048 bytes" in response["Error"]["Message"]
    make_group(client, limited.store_id, "small")


# -- throttling ------------------------------------------------------------------------------


@pytest.mark.parametrize("limited", [{"throttle_tps": 4}], indirect=True)
def test_throttling_is_retried_by_botocore(
    limited: IdentityStoreMock, admin: AccessKeyPair
) -> None:
    sid = limited.store_id
    patient = boto_client(
        admin, config=BotoConfig(retries={"mode": "standard", "max_attempts": 10})
    )
    retried = 0
    for _ in range(8):  # twice the bucket: some wait for tokens, and all succeed
        response = patient.list_users(IdentityStoreId=sid)
        retried += response["ResponseMetadata"]["RetryAttempts"]
    assert retried > 0


# One token per ten seconds: the second call is refused however slowly the machine runs (at one
# per second, a one-second stall between the two calls let it through in CI). Refilling is
# test_the_token_bucket's, on a clock it controls.
@pytest.mark.parametrize("limited", [{"throttle_tps": 0.1}], indirect=True)
def test_throttling_is_throttling_exception_with_retry_after(
    limited: IdentityStoreMock, admin: AccessKeyPair, store: Store
) -> None:
    sid = limited.store_id
    impatient = boto_client(
        admin, config=BotoConfig(retries={"mode": "standard", "max_attempts": 1})
    )
    impatient.list_users(IdentityStoreId=sid)
    response = expect_error("ThrottlingException", impatient.list_users, IdentityStoreId=sid)
    assert response["RetryAfterSeconds"] == 10
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "10"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Per (store, operation): other operations and other stores are not held back.
    impatient.list_groups(IdentityStoreId=sid)
    from idstore.model import now

    other = store.create_identity_store(now()).store_id
    impatient.list_users(IdentityStoreId=other)


def test_the_token_bucket() -> None:
    clock = [100.0]
    throttle = Throttle(2, clock=lambda: clock[0])
    throttle.take("d-1", "ListUsers")
    throttle.take("d-1", "ListUsers")
    with pytest.raises(errors.Throttled) as refused:
        throttle.take("d-1", "ListUsers")
    assert refused.value.retry_after == 1
    clock[0] += 0.5
    throttle.take("d-1", "ListUsers")
    slow = Throttle(0.1, clock=lambda: clock[0])
    slow.take("d-1", "ListUsers")
    with pytest.raises(errors.Throttled) as refused:
        slow.take("d-1", "ListUsers")
    assert refused.value.retry_after == 10
    with pytest.raises(ValueError):
        Throttle(0)


def test_throttling_memory_is_bounded() -> None:
    clock = [0.0]
    throttle = Throttle(1000, clock=lambda: clock[0])
    for i in range(MAX_BUCKETS * 2):
        throttle.take(f"d-{i}", "ListUsers")
        clock[0] += 0.0001
    assert len(throttle._buckets) <= MAX_BUCKETS


# -- source addresses ------------------------------------------------------------------------


def test_api_allow_source_ips_is_enforced_with_sigv4(
    http_client_for: Any, keys: Keys, store_id: str
) -> None:
    client = http_client_for(keys.make([store_id]))
    here = {"ApiAllowSourceIps": ["127.0.0.1/32"], "VpceAccessRequired": False}
    client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration=here)
    assert client.list_users(IdentityStoreId=store_id)["Users"] == []
    elsewhere = {"ApiAllowSourceIps": ["10.0.0.0/8"], "VpceAccessRequired": False}
    client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration=elsewhere)
    response = expect_error("AccessDeniedException", client.list_users, IdentityStoreId=store_id)
    assert "ApiAllowSourceIps" in response["Error"]["Message"]
    expect_error(
        "AccessDeniedException",
        client.update_identity_store,
        IdentityStoreId=store_id,
        NetworkConfiguration=here,
    )

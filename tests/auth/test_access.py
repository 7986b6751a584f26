"""Access control (docs/behaviour.md#access): a key is limited to its identity stores and, if
read-only, to the reading operations; outside them every call is AccessDeniedException, before
validation and before any resource is looked up, so a key learns nothing about stores it may not
use."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config as BotoConfig

from idstore.aws.access import reading_operations
from idstore.aws.spec import load_spec
from idstore.model import now
from idstore.store import Store
from tests.auth.conftest import Keys
from tests.helpers import expect_error, make_group, make_user, user_params

SPEC = load_spec()
OPERATIONS = sorted(SPEC.operation_names)
READING = reading_operations(OPERATIONS)
UNKNOWN_STORE = "d-0123456789"


def _arn(store_id: str) -> str:
    return f"arn:aws:identitystore::000000000000:identitystore/{store_id}"


def _raw(client_for: Any, pair: Any) -> Any:
    """A client that sends whatever it is given (the server is the guard)."""
    return client_for(pair, config=BotoConfig(parameter_validation=False))


def test_the_reading_operations_are_derived_from_the_model() -> None:
    assert {op for op in OPERATIONS if op.startswith(("Describe", "Get", "List"))} | {
        "IsMemberInGroups"
    } == READING
    assert "IsMemberInGroups" in READING and "CreateUser" not in READING
    assert len(READING) == 13 and len(OPERATIONS) - len(READING) == 9


# -- read-only keys --------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(set(OPERATIONS) - READING))
def test_a_read_only_key_may_not_write(
    client_for: Any, keys: Keys, store_id: str, operation: str
) -> None:
    reader = _raw(client_for, keys.make([store_id], read_only=True, name="auditor"))
    from botocore import xform_name

    response = expect_error(
        "AccessDeniedException", getattr(reader, xform_name(operation)), IdentityStoreId=store_id
    )
    message = response["Error"]["Message"]
    assert "arn:aws:iam::000000000000:user/auditor" in message
    assert f"identitystore:{operation}" in message and "read-only" in message


def test_a_read_only_key_may_read(client_for: Any, keys: Keys, store_id: str) -> None:
    writer = client_for(keys.make([store_id]))
    user_id = make_user(writer, store_id)
    group_id = make_group(writer, store_id)
    membership = writer.create_group_membership(
        IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
    )["MembershipId"]
    reader = client_for(keys.make([store_id], read_only=True))
    assert reader.describe_identity_store(IdentityStoreId=store_id)["IdentityStoreId"] == store_id
    assert [s["IdentityStoreId"] for s in reader.list_identity_stores()["IdentityStores"]] == [
        store_id
    ]
    assert reader.describe_user(IdentityStoreId=store_id, UserId=user_id)["UserName"] == "alice"
    assert reader.list_users(IdentityStoreId=store_id)["Users"][0]["UserId"] == user_id
    assert reader.list_groups(IdentityStoreId=store_id)["Groups"][0]["GroupId"] == group_id
    assert reader.describe_group(IdentityStoreId=store_id, GroupId=group_id)["GroupId"]
    assert (
        reader.get_user_id(
            IdentityStoreId=store_id,
            AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}
            },
        )["UserId"]
        == user_id
    )
    assert reader.describe_group_membership(IdentityStoreId=store_id, MembershipId=membership)
    assert reader.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)[
        "GroupMemberships"
    ]
    results = reader.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[group_id]
    )["Results"]
    assert results[0]["MembershipExists"] is True
    expect_error("AccessDeniedException", reader.create_user, **user_params(store_id, "bob"))
    assert [u["UserName"] for u in reader.list_users(IdentityStoreId=store_id)["Users"]] == [
        "alice"
    ]


# -- identity stores -------------------------------------------------------------------------


@pytest.fixture
def store_b(store: Store, mock: Any) -> str:
    return store.create_identity_store(now()).store_id


def test_a_key_of_store_a_is_denied_on_store_b(
    client_for: Any, keys: Keys, store_id: str, store_b: str
) -> None:
    client = _raw(client_for, keys.make([store_id], name="team-a"))
    for store in (store_b, _arn(store_b)):
        for call, params in [
            (client.describe_identity_store, {}),
            (client.list_users, {}),
            (client.create_user, user_params(store, "intruder")),
            (client.create_group, {"DisplayName": "Intruders"}),
            (client.update_identity_store, {"NetworkConfiguration": {"ApiAllowSourceIps": []}}),
        ]:
            response = expect_error(
                "AccessDeniedException", call, **{"IdentityStoreId": store, **params}
            )
            assert "arn:aws:iam::000000000000:user/team-a" in response["Error"]["Message"]
    # Its own store, by id or ARN, is fine.
    assert client.describe_identity_store(IdentityStoreId=store_id)["IdentityStoreId"] == store_id
    assert client.list_users(IdentityStoreId=_arn(store_id))["Users"] == []


def test_a_store_bound_key_learns_nothing_about_other_stores(
    client_for: Any, keys: Keys, store_id: str, store_b: str
) -> None:
    client = _raw(client_for, keys.make([store_id]))
    # An existing store, an unknown one and a malformed id all get the same answer.
    for other in (store_b, UNKNOWN_STORE, "not-a-store", ""):
        expect_error("AccessDeniedException", client.describe_identity_store, IdentityStoreId=other)
    # So do an id of the wrong type, and none.
    expect_error("AccessDeniedException", client.list_users, IdentityStoreId=7)
    expect_error("AccessDeniedException", client.list_users)


def test_list_identity_stores_shows_only_the_keys_stores(
    client_for: Any, keys: Keys, store: Store, store_id: str, store_b: str
) -> None:
    store_c = store.create_identity_store(now()).store_id
    only_a = client_for(keys.make([store_id]))
    a_and_c = client_for(keys.make([store_id, store_c]))
    everything = client_for(keys.make(None))

    def listed(client: Any, **params: Any) -> list[str]:
        pages = client.get_paginator("list_identity_stores").paginate(**params)
        return [s["IdentityStoreId"] for page in pages for s in page["IdentityStores"]]

    assert listed(only_a) == [store_id]
    assert listed(a_and_c) == [store_id, store_c]
    assert listed(a_and_c, PaginationConfig={"PageSize": 1}) == [store_id, store_c]
    assert listed(everything) == [store_id, store_b, store_c]


def test_a_key_for_two_stores_works_on_both(
    client_for: Any, keys: Keys, store_id: str, store_b: str
) -> None:
    client = client_for(keys.make([store_id, store_b]))
    make_user(client, store_id)
    make_user(client, store_b)
    for s in (store_id, store_b):
        assert [u["UserName"] for u in client.list_users(IdentityStoreId=s)["Users"]] == ["alice"]


def test_an_all_stores_key_reaches_stores_made_after_it(
    client_for: Any, keys: Keys, store: Store, store_id: str
) -> None:
    admin = client_for(keys.make(None, name="admin"))
    later = store.create_identity_store(now()).store_id
    user_id = make_user(admin, later)
    assert admin.describe_user(IdentityStoreId=later, UserId=user_id)["CreatedBy"] == (
        "arn:aws:iam::000000000000:user/admin"
    )
    # It may use any store, so an unknown one is simply not found.
    response = expect_error(
        "ResourceNotFoundException", admin.describe_identity_store, IdentityStoreId=UNKNOWN_STORE
    )
    assert response["ResourceType"] == "IDENTITY_STORE"


def test_a_read_only_all_stores_key(
    client_for: Any, keys: Keys, store_id: str, store_b: str
) -> None:
    auditor = client_for(keys.make(None, read_only=True))
    assert len(auditor.list_identity_stores()["IdentityStores"]) == 2
    expect_error(
        "AccessDeniedException", auditor.create_group, IdentityStoreId=store_b, DisplayName="X"
    )


def test_deleting_a_store_takes_it_from_its_keys(
    keys: Keys, store: Store, store_id: str, store_b: str
) -> None:
    pair = keys.make([store_id, store_b])
    store.delete_identity_store(store_b)
    found = store.get_access_key(pair.access_key_id)
    assert found is not None and found.stores == {store_id}

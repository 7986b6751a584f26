"""A test file as another project would write it: plain `boto3.client("identitystore")`.

No server runs, no endpoint, credentials or region are configured, and nothing from this
repository's conftest is used: only `idstore.testing.mock_identitystore` (as a decorator) and the
`idstore` fixture that the installed pytest plugin provides. The behaviour checked is AWS's:
uniqueness, cascades, pagination and modelled errors.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from idstore.testing import IdentityStoreMock, mock_identitystore


def new_user(client: Any, store_id: str, name: str, **extra: Any) -> str:
    return str(
        client.create_user(
            IdentityStoreId=store_id,
            UserName=name,
            DisplayName=name.title(),
            Name={"GivenName": name.title(), "FamilyName": "Tester"},
            **extra,
        )["UserId"]
    )


# The identity store the decorated tests name (botocore before 1.44 has no ListIdentityStores
# to find the mock's own, so these use one the mock creates on first use, as moto-style suites
# do).
STORE_ID = "d-1234567890"


def has_member(client: Any, shape: str, member: str) -> bool:
    return member in client.meta.service_model.shape_for(shape).members


@mock_identitystore(auto_create_stores=True)
def test_the_decorator_serves_a_client_built_with_no_configuration() -> None:
    client = boto3.client("identitystore")
    user_id = new_user(client, STORE_ID, "alice")
    user = client.describe_user(IdentityStoreId=STORE_ID, UserId=user_id)
    assert user["UserName"] == "alice"
    if has_member(client, "DescribeUserResponse", "UserStatus"):  # botocore >= 1.40.68
        assert user["UserStatus"] == "ENABLED"
    if has_member(client, "DescribeUserResponse", "UserArn"):  # botocore >= 1.44
        assert user["UserArn"] == f"arn:aws:identitystore:::user/{user_id}"
    if hasattr(client, "list_identity_stores"):
        stores = client.list_identity_stores()["IdentityStores"]
        assert STORE_ID in {s["IdentityStoreId"] for s in stores}


def test_the_fixture_gives_an_empty_store(idstore: IdentityStoreMock) -> None:
    client = boto3.client("identitystore")
    assert client.list_users(IdentityStoreId=idstore.store_id)["Users"] == []
    assert client.list_groups(IdentityStoreId=idstore.store_id)["Groups"] == []


def test_user_names_and_emails_are_unique_case_insensitively(idstore: IdentityStoreMock) -> None:
    client = boto3.client("identitystore")
    sid = idstore.store_id
    new_user(client, sid, "alice", Emails=[{"Value": "alice@example.com", "Primary": True}])
    with pytest.raises(client.exceptions.ConflictException) as caught:
        new_user(client, sid, "ALICE")
    assert caught.value.response["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    with pytest.raises(client.exceptions.ConflictException):
        new_user(client, sid, "bob", Emails=[{"Value": "Alice@Example.com"}])
    client.create_group(IdentityStoreId=sid, DisplayName="Admins")
    with pytest.raises(client.exceptions.ConflictException):
        client.create_group(IdentityStoreId=sid, DisplayName="admins")


def test_deleting_a_user_deletes_its_memberships(idstore: IdentityStoreMock) -> None:
    client = boto3.client("identitystore")
    sid = idstore.store_id
    user_id = new_user(client, sid, "alice")
    group_id = client.create_group(IdentityStoreId=sid, DisplayName="Admins")["GroupId"]
    membership_id = client.create_group_membership(
        IdentityStoreId=sid, GroupId=group_id, MemberId={"UserId": user_id}
    )["MembershipId"]
    client.delete_user(IdentityStoreId=sid, UserId=user_id)
    assert (
        client.list_group_memberships(IdentityStoreId=sid, GroupId=group_id)["GroupMemberships"]
        == []
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.describe_group_membership(IdentityStoreId=sid, MembershipId=membership_id)
    assert caught.value.response["ResourceType"] == "GROUP_MEMBERSHIP"


def test_paginators_walk_every_page_in_creation_order(idstore: IdentityStoreMock) -> None:
    client = boto3.client("identitystore")
    sid = idstore.store_id
    names = [f"user{i:03}" for i in range(23)]
    for name in names:
        new_user(client, sid, name)
    pages = list(
        client.get_paginator("list_users").paginate(
            IdentityStoreId=sid, PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["Users"]) for p in pages] == [5, 5, 5, 5, 3]
    assert [u["UserName"] for p in pages for u in p["Users"]] == names
    assert "NextToken" not in pages[-1]


def test_errors_are_modelled_exceptions(idstore: IdentityStoreMock) -> None:
    client = boto3.client("identitystore")
    store_id = idstore.store_id
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.describe_user(IdentityStoreId=store_id, UserId=missing)
    assert caught.value.response["ResourceType"] == "USER"
    assert caught.value.response["ResourceId"] == missing
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.list_users(IdentityStoreId="d-0000000000")
    assert caught.value.response["ResourceType"] == "IDENTITY_STORE"
    with pytest.raises(client.exceptions.ValidationException):
        new_user(client, store_id, "x" * 200)
    with pytest.raises(ClientError) as error:
        client.update_user(
            IdentityStoreId=store_id,
            UserId=new_user(client, store_id, "alice"),
            Operations=[{"AttributePath": "userId", "AttributeValue": "x"}],
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"


@mock_identitystore(auto_create_stores=True)
def test_update_user_and_membership_lookups() -> None:
    client = boto3.client("identitystore")
    sid = STORE_ID
    user_id = new_user(client, sid, "alice")
    client.update_user(
        IdentityStoreId=sid,
        UserId=user_id,
        Operations=[{"AttributePath": "name.givenName", "AttributeValue": "Alicia"}],
    )
    assert client.describe_user(IdentityStoreId=sid, UserId=user_id)["Name"]["GivenName"] == (
        "Alicia"
    )
    group_id = client.create_group(IdentityStoreId=sid, DisplayName="Admins")["GroupId"]
    other_id = client.create_group(IdentityStoreId=sid, DisplayName="Other")["GroupId"]
    client.create_group_membership(
        IdentityStoreId=sid, GroupId=group_id, MemberId={"UserId": user_id}
    )
    results = client.is_member_in_groups(
        IdentityStoreId=sid, MemberId={"UserId": user_id}, GroupIds=[group_id, other_id]
    )["Results"]
    assert [r["MembershipExists"] for r in results] == [True, False]
    found = client.get_user_id(
        IdentityStoreId=sid,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "ALICE"}
        },
    )
    assert found["UserId"] == user_id

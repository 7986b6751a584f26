"""A moto-style suite, moved over by changing its decorator.

Written the way moto's own identitystore tests are (a decorator per test, a made-up store id per
test, a client in a region), with `@mock_aws` replaced by
`@mock_identitystore(auto_create_stores=True)`. Two things had to change, and both are moto's
unfaithfulness: store ids must match the model's pattern (`d-` + 10 hex digits, where moto's
suite uses letters), and deleting something that does not exist is ResourceNotFoundException,
not a silent success.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from idstore.testing import mock_identitystore

REGION = "us-east-2"


def random_store_id() -> str:
    return "d-" + secrets.token_hex(5)


def create_user(client: Any, store_id: str, name: str) -> str:
    return str(
        client.create_user(
            IdentityStoreId=store_id,
            UserName=name,
            DisplayName=name,
            Name={"GivenName": name, "FamilyName": "Doe"},
        )["UserId"]
    )


@mock_identitystore(auto_create_stores=True)
def test_create_group() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    created = client.create_group(
        IdentityStoreId=store_id, DisplayName="test_group", Description="desc"
    )
    assert created["IdentityStoreId"] == store_id
    group_id = created["GroupId"]
    assert uuid.UUID(group_id)
    described = client.describe_group(IdentityStoreId=store_id, GroupId=group_id)
    assert described["DisplayName"] == "test_group"
    assert described["Description"] == "desc"


@mock_identitystore(auto_create_stores=True)
def test_create_group_duplicate_name() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    client.create_group(IdentityStoreId=store_id, DisplayName="test_group")
    with pytest.raises(ClientError) as caught:
        client.create_group(IdentityStoreId=store_id, DisplayName="test_group")
    err = caught.value.response
    assert err["Error"]["Code"] == "ConflictException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"


@mock_identitystore(auto_create_stores=True)
def test_group_multiple_identity_stores() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    first, second = random_store_id(), random_store_id()
    client.create_group(IdentityStoreId=first, DisplayName="g1")
    client.create_group(IdentityStoreId=second, DisplayName="g2")

    def find(store_id: str, name: str) -> str | None:
        try:
            return str(
                client.get_group_id(
                    IdentityStoreId=store_id,
                    AlternateIdentifier={
                        "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": name}
                    },
                )["GroupId"]
            )
        except client.exceptions.ResourceNotFoundException:
            return None

    assert find(first, "g1") and not find(first, "g2")
    assert find(second, "g2") and not find(second, "g1")


@mock_identitystore(auto_create_stores=True)
def test_create_group_membership() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    group_id = client.create_group(IdentityStoreId=store_id, DisplayName="g")["GroupId"]
    user_id = create_user(client, store_id, "alice")
    created = client.create_group_membership(
        IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
    )
    memberships = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)
    assert [m["MembershipId"] for m in memberships["GroupMemberships"]] == [created["MembershipId"]]
    assert memberships["GroupMemberships"][0]["MemberId"] == {"UserId": user_id}


@mock_identitystore(auto_create_stores=True)
def test_create_duplicate_username() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    create_user(client, store_id, "deleteme_username")
    with pytest.raises(ClientError) as caught:
        create_user(client, store_id, "deleteme_username")
    assert caught.value.response["Error"]["Code"] == "ConflictException"


@mock_identitystore(auto_create_stores=True)
def test_describe_user_doesnt_exist() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    create_user(client, store_id, "someone")  # the store exists: the user is what is missing
    with pytest.raises(ClientError) as caught:
        client.describe_user(IdentityStoreId=store_id, UserId=str(uuid.uuid4()))
    err = caught.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResourceType"] == "USER"
    assert "RequestId" in err["ResponseMetadata"]


@mock_identitystore(auto_create_stores=True)
def test_list_users_in_pages() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    expected = [create_user(client, store_id, f"user{i}") for i in range(240)]
    seen: list[str] = []
    sizes: list[int] = []
    token: dict[str, str] = {}
    while True:
        page = client.list_users(IdentityStoreId=store_id, MaxResults=100, **token)
        sizes.append(len(page["Users"]))
        seen += [u["UserId"] for u in page["Users"]]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert sizes == [100, 100, 40]
    assert seen == expected


@mock_identitystore(auto_create_stores=True)
def test_list_groups_filter() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    for name in ("a", "b", "c"):
        client.create_group(IdentityStoreId=store_id, DisplayName=name)
    found = client.list_groups(
        IdentityStoreId=store_id, Filters=[{"AttributePath": "DisplayName", "AttributeValue": "b"}]
    )["Groups"]
    assert [g["DisplayName"] for g in found] == ["b"]
    none = client.list_groups(
        IdentityStoreId=store_id, Filters=[{"AttributePath": "DisplayName", "AttributeValue": "z"}]
    )["Groups"]
    assert none == []


@mock_identitystore(auto_create_stores=True)
def test_delete_group_and_a_missing_one() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    group_id = client.create_group(IdentityStoreId=store_id, DisplayName="g")["GroupId"]
    client.delete_group(IdentityStoreId=store_id, GroupId=group_id)
    assert client.list_groups(IdentityStoreId=store_id)["Groups"] == []
    # moto answers 200 here; AWS (and idstore) report the missing group.
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_group(IdentityStoreId=store_id, GroupId=group_id)


@mock_identitystore(auto_create_stores=True)
def test_delete_user_removes_its_memberships() -> None:
    client = boto3.client("identitystore", region_name=REGION)
    store_id = random_store_id()
    group_id = client.create_group(IdentityStoreId=store_id, DisplayName="g")["GroupId"]
    user_id = create_user(client, store_id, "alice")
    client.create_group_membership(
        IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
    )
    client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    # moto keeps the membership of a deleted user; AWS does not.
    assert (
        client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)[
            "GroupMemberships"
        ]
        == []
    )

"""Errors as boto3 sees them, unknown identity stores on every operation, and ARNs as
identifiers (docs/behaviour.md#wire-protocol, #identifiers, #uniqueness)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from tests.helpers import (
    describe_group,
    describe_user,
    expect_error,
    is_uuid,
    make_group,
    make_membership,
    make_user,
    unknown_id,
    user_params,
    without_metadata,
)

UNKNOWN_STORE = "d-0123456789"


def _store_arn(store_id: str, account: str = "000000000000") -> str:
    return f"arn:aws:identitystore::{account}:identitystore/{store_id}"


def _arn(kind: str, resource_id: str) -> str:
    return f"arn:aws:identitystore:::{kind}/{resource_id}"


def _store_scoped_calls(user: str, group: str, membership: str) -> dict[str, dict[str, Any]]:
    """Valid parameters (less IdentityStoreId) for every operation that names a store."""
    member = {"UserId": user}
    by_name = {"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}}
    by_display = {"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Eng"}}
    return {
        "CreateUser": {k: v for k, v in user_params("").items() if k != "IdentityStoreId"},
        "DescribeUser": {"UserId": user},
        "ListUsers": {},
        "GetUserId": {"AlternateIdentifier": by_name},
        "UpdateUser": {
            "UserId": user,
            "Operations": [{"AttributePath": "nickName", "AttributeValue": "x"}],
        },
        "DeleteUser": {"UserId": user},
        "CreateGroup": {"DisplayName": "Eng"},
        "DescribeGroup": {"GroupId": group},
        "ListGroups": {},
        "GetGroupId": {"AlternateIdentifier": by_display},
        "UpdateGroup": {
            "GroupId": group,
            "Operations": [{"AttributePath": "description", "AttributeValue": "x"}],
        },
        "DeleteGroup": {"GroupId": group},
        "CreateGroupMembership": {"GroupId": group, "MemberId": member},
        "DescribeGroupMembership": {"MembershipId": membership},
        "GetGroupMembershipId": {"GroupId": group, "MemberId": member},
        "DeleteGroupMembership": {"MembershipId": membership},
        "ListGroupMemberships": {"GroupId": group},
        "ListGroupMembershipsForMember": {"MemberId": member},
        "IsMemberInGroups": {"MemberId": member, "GroupIds": [group]},
        "DescribeIdentityStore": {},
        "UpdateIdentityStore": {"NetworkConfiguration": {"VpceAccessRequired": False}},
    }


STORE_SCOPED = sorted(_store_scoped_calls("u", "g", "m"))


def test_every_store_scoped_operation_is_covered() -> None:
    model = botocore.session.get_session().get_service_model("identitystore")
    scoped = {
        name
        for name in model.operation_names
        if "IdentityStoreId" in model.operation_model(name).input_shape.members
    }
    assert set(STORE_SCOPED) == scoped


# -- unknown identity stores -------------------------------------------------------------------


def _not_found_store(client: Any, operation: str, store: str, params: dict[str, Any]) -> str:
    """'' if `operation` reports the unknown identity store `store`, else what it did."""
    try:
        getattr(client, xform_name(operation))(IdentityStoreId=store, **params)
    except ClientError as error:
        got = (error.response["Error"]["Code"], error.response.get("ResourceType"))
        if got == ("ResourceNotFoundException", "IDENTITY_STORE"):
            resource_id = error.response.get("ResourceId")
            return "" if resource_id == store else f"{operation}: ResourceId {resource_id}"
        return f"{operation}: {got}"
    return f"{operation}: succeeded"


@pytest.mark.parametrize("operation", STORE_SCOPED)
def test_unknown_store_on_every_operation(client: Any, store_id: str, operation: str) -> None:
    calls = _store_scoped_calls(unknown_id(store_id), unknown_id(store_id), unknown_id(store_id))
    error = expect_error(
        "ResourceNotFoundException",
        getattr(client, xform_name(operation)),
        IdentityStoreId=UNKNOWN_STORE,
        **calls[operation],
    )
    assert error["ResourceType"] == "IDENTITY_STORE"
    assert error["ResourceId"] == UNKNOWN_STORE


def test_unknown_store_in_uuid_form_on_every_operation(client: Any, store_id: str) -> None:
    unknown = "01234567-89ab-4cde-8f01-23456789abcd"
    calls = _store_scoped_calls(unknown_id(store_id), unknown_id(store_id), unknown_id(store_id))
    wrong = [_not_found_store(client, op, unknown, params) for op, params in calls.items()]
    assert [w for w in wrong if w] == []


def test_unknown_store_wins_over_existing_resources(client: Any, store_id: str) -> None:
    user = make_user(client, store_id)
    group = make_group(client, store_id, "Eng")
    membership = make_membership(client, store_id, group, user)
    calls = _store_scoped_calls(user, group, membership)
    wrong = [_not_found_store(client, op, UNKNOWN_STORE, params) for op, params in calls.items()]
    assert [w for w in wrong if w] == []
    # Nothing in the real store was touched.
    assert describe_user(client, store_id, user)["Revision"] == "1"
    assert describe_group(client, store_id, group)["Revision"] == "1"
    assert client.list_group_memberships(IdentityStoreId=store_id, GroupId=group)[
        "GroupMemberships"
    ]


def test_unknown_stores_are_never_created_implicitly(client: Any, store_id: str) -> None:
    for operation in ("CreateUser", "CreateGroup", "UpdateIdentityStore"):
        _not_found_store(
            client, operation, UNKNOWN_STORE, _store_scoped_calls("", "", "")[operation]
        )
    listed = client.list_identity_stores()["IdentityStores"]
    assert [s["IdentityStoreId"] for s in listed] == [store_id]


def test_unknown_store_given_as_an_arn(client: Any) -> None:
    error = expect_error(
        "ResourceNotFoundException", client.list_users, IdentityStoreId=_store_arn(UNKNOWN_STORE)
    )
    assert error["ResourceType"] == "IDENTITY_STORE"
    assert error["ResourceId"] == UNKNOWN_STORE


def test_a_store_arn_of_another_account_is_not_found(client: Any, store_id: str) -> None:
    error = expect_error(
        "ResourceNotFoundException",
        client.list_users,
        IdentityStoreId=_store_arn(store_id, "111122223333"),
    )
    assert error["ResourceType"] == "IDENTITY_STORE"


# -- ARNs as identifiers -----------------------------------------------------------------------


def test_every_identifier_may_be_an_arn(client: Any, store_id: str) -> None:
    store = _store_arn(store_id)
    user_id = client.create_user(**user_params(store))["UserId"]
    group_id = client.create_group(IdentityStoreId=store, DisplayName="Eng")["GroupId"]
    user_arn, group_arn = _arn("user", user_id), _arn("group", group_id)

    assert client.describe_user(IdentityStoreId=store, UserId=user_arn)["UserId"] == user_id
    assert client.describe_group(IdentityStoreId=store, GroupId=group_arn)["GroupId"] == group_id
    membership_id = client.create_group_membership(
        IdentityStoreId=store, GroupId=group_arn, MemberId={"UserId": user_arn}
    )["MembershipId"]
    membership_arn = _arn("membership", membership_id)
    described = client.describe_group_membership(IdentityStoreId=store, MembershipId=membership_arn)
    assert described["MembershipId"] == membership_id
    assert described["GroupId"] == group_id
    assert described["MemberId"] == {"UserId": user_id}
    found = client.get_group_membership_id(
        IdentityStoreId=store, GroupId=group_arn, MemberId={"UserId": user_arn}
    )
    assert found["MembershipId"] == membership_id
    (result,) = client.is_member_in_groups(
        IdentityStoreId=store, MemberId={"UserId": user_arn}, GroupIds=[group_arn]
    )["Results"]
    assert result["MembershipExists"] is True
    by_group = client.list_group_memberships(IdentityStoreId=store, GroupId=group_arn)
    assert [m["MembershipId"] for m in by_group["GroupMemberships"]] == [membership_id]
    by_user = client.list_group_memberships_for_member(
        IdentityStoreId=store, MemberId={"UserId": user_arn}
    )
    assert [m["MembershipId"] for m in by_user["GroupMemberships"]] == [membership_id]
    client.update_group(
        IdentityStoreId=store,
        GroupId=group_arn,
        Operations=[{"AttributePath": "description", "AttributeValue": "via ARN"}],
    )
    assert describe_group(client, store_id, group_id)["Description"] == "via ARN"

    client.delete_group_membership(IdentityStoreId=store, MembershipId=membership_arn)
    assert (
        client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)[
            "GroupMemberships"
        ]
        == []
    )
    client.delete_group(IdentityStoreId=store, GroupId=group_arn)
    client.delete_user(IdentityStoreId=store, UserId=user_arn)
    assert client.list_users(IdentityStoreId=store_id)["Users"] == []
    assert client.list_groups(IdentityStoreId=store_id)["Groups"] == []


def test_outputs_name_the_store_by_id_when_given_an_arn(client: Any, store_id: str) -> None:
    store = _store_arn(store_id)
    created = client.create_user(**user_params(store))
    assert created["IdentityStoreId"] == store_id
    assert describe_user(client, store, created["UserId"])["IdentityStoreId"] == store_id
    found = client.get_user_id(
        IdentityStoreId=store,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}
        },
    )
    assert found["IdentityStoreId"] == store_id


def test_missing_resource_given_as_an_arn(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_user,
        IdentityStoreId=store_id,
        UserId=_arn("user", missing),
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


def _arn_of_the_wrong_kind(client: Any, store_id: str) -> list[tuple[Callable[..., Any], dict]]:
    user = make_user(client, store_id)
    group = make_group(client, store_id)
    membership = make_membership(client, store_id, group, user)
    user_arn, group_arn = _arn("user", user), _arn("group", group)
    membership_arn = _arn("membership", membership)
    return [
        (client.describe_group, {"GroupId": user_arn}),
        (client.describe_user, {"UserId": group_arn}),
        (client.describe_group_membership, {"MembershipId": user_arn}),
        (client.delete_user, {"UserId": membership_arn}),
        (client.create_group_membership, {"GroupId": user_arn, "MemberId": {"UserId": user}}),
        (client.create_group_membership, {"GroupId": group, "MemberId": {"UserId": group_arn}}),
        (client.list_group_memberships, {"GroupId": membership_arn}),
        (client.list_group_memberships_for_member, {"MemberId": {"UserId": membership_arn}}),
        (client.is_member_in_groups, {"MemberId": {"UserId": user}, "GroupIds": [user_arn]}),
    ]


def test_an_arn_of_the_wrong_kind_is_refused(client: Any, store_id: str) -> None:
    for call, params in _arn_of_the_wrong_kind(client, store_id):
        expect_error("ValidationException", call, IdentityStoreId=store_id, **params)
    assert len(client.list_users(IdentityStoreId=store_id)["Users"]) == 1
    assert len(client.list_groups(IdentityStoreId=store_id)["Groups"]) == 1


# -- error responses as boto3 sees them --------------------------------------------------------


def _errors(client: Any, raw_client: Any, store_id: str) -> list[tuple[str, dict[str, Any]]]:
    make_user(client, store_id)
    caught = []
    for code, call, params in [
        ("ValidationException", client.create_user, user_params(store_id, "u" * 129)),
        ("ConflictException", client.create_user, user_params(store_id)),
        (
            "ResourceNotFoundException",
            client.describe_user,
            {"IdentityStoreId": store_id, "UserId": unknown_id(store_id)},
        ),
        ("SerializationException", raw_client.create_user, user_params(store_id, UserName=1)),
    ]:
        caught.append((code, expect_error(code, call, **params)))
    return caught


def test_client_errors_are_http_400_with_request_id_and_error_type(
    client: Any, raw_client: Any, store_id: str
) -> None:
    for code, error in _errors(client, raw_client, store_id):
        metadata = error["ResponseMetadata"]
        assert metadata["HTTPStatusCode"] == 400, code
        assert is_uuid(metadata["RequestId"]), code
        assert metadata["HTTPHeaders"]["x-amzn-errortype"] == code
        assert error["Error"]["Message"], code


def test_modelled_errors_carry_message_and_request_id(client: Any, store_id: str) -> None:
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_group,
        IdentityStoreId=store_id,
        GroupId=unknown_id(store_id),
    )
    assert error["Message"] == error["Error"]["Message"]
    assert error["RequestId"] == error["ResponseMetadata"]["RequestId"]


def test_successful_responses_carry_a_request_id(client: Any, store_id: str) -> None:
    first = client.list_users(IdentityStoreId=store_id)["ResponseMetadata"]
    second = client.list_users(IdentityStoreId=store_id)["ResponseMetadata"]
    assert first["HTTPStatusCode"] == 200
    assert is_uuid(first["RequestId"])
    assert first["RequestId"] != second["RequestId"]


def test_delete_operations_return_an_empty_output(client: Any, store_id: str) -> None:
    user = make_user(client, store_id)
    group = make_group(client, store_id)
    membership = make_membership(client, store_id, group, user)
    outputs = [
        client.delete_group_membership(IdentityStoreId=store_id, MembershipId=membership),
        client.delete_group(IdentityStoreId=store_id, GroupId=group),
        client.delete_user(IdentityStoreId=store_id, UserId=user),
    ]
    assert [without_metadata(out) for out in outputs] == [{}, {}, {}]

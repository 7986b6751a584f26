"""Server-side validation (docs/behaviour.md#wire-protocol, #validation): every model constraint and
Identity Center rule is enforced by the server, as ValidationException (wrong JSON types:
SerializationException).

botocore checks only `required`, types and minimums on the client; maximums, patterns, list
sizes and the Identity Center rules reach the server through the ordinary `client`. What
botocore refuses client-side is sent with `raw_client` (parameter validation off).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore import xform_name

from tests.helpers import (
    body_edit,
    describe_user,
    edited_request,
    expect_error,
    make_group,
    make_user,
    unknown_id,
    user_names,
    user_params,
)


def _invalid(call: Any, /, **params: Any) -> str:
    """Assert a ValidationException (HTTP 400); return its message."""
    error = expect_error("ValidationException", call, **params)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = error["Error"]["Message"]
    assert isinstance(message, str)
    return message


# -- lengths and patterns ----------------------------------------------------------------------


def test_user_name_too_long(client: Any, store_id: str) -> None:
    message = _invalid(client.create_user, **user_params(store_id, "u" * 129))
    assert message == (
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )
    assert user_names(client, store_id) == []


def test_display_name_too_long(client: Any, store_id: str) -> None:
    message = _invalid(client.create_user, **user_params(store_id, DisplayName="d" * 1025))
    assert "displayName" in message
    assert "1024" in message


@pytest.mark.parametrize(
    "member",
    [
        {"NickName": "n" * 1025},
        {"Title": "t" * 1025},
        {"Website": "w" * 1025},
        {"Birthdate": "b" * 1025},
        {"Name": {"GivenName": "g" * 1025, "FamilyName": "Example"}},
        {"Emails": [{"Value": "e" * 1025}]},
        {"Addresses": [{"StreetAddress": "s" * 1025}]},
        {"PhoneNumbers": [{"Type": "t" * 1025}]},
        {"Photos": [{"Value": "p" * 1025}]},
        {"Roles": [{"Value": "r" * 1025}]},
    ],
)
def test_every_string_attribute_has_a_maximum(
    client: Any, store_id: str, member: dict[str, Any]
) -> None:
    _invalid(client.create_user, **user_params(store_id, **member))


def test_group_display_name_and_description_too_long(client: Any, store_id: str) -> None:
    _invalid(client.create_group, IdentityStoreId=store_id, DisplayName="g" * 1025)
    _invalid(client.create_group, IdentityStoreId=store_id, DisplayName="G", Description="d" * 1025)
    assert client.list_groups(IdentityStoreId=store_id)["Groups"] == []


@pytest.mark.parametrize("name", ["al ice", " alice", "alice\t", "alice\n", "ali\u00a0ce"])
def test_user_name_must_not_contain_whitespace(client: Any, store_id: str, name: str) -> None:
    message = _invalid(client.create_user, **user_params(store_id, name))
    assert "userName" in message


@pytest.mark.parametrize("value", ["\x00", "bell\x07", "\x1b[31m"])
def test_control_characters_are_refused(client: Any, store_id: str, value: str) -> None:
    _invalid(client.create_user, **user_params(store_id, NickName=value))


@pytest.mark.parametrize(
    "bad_id",
    [
        "d-012345678",
        "d-01234567890",
        "d-ABCDEF0123",
        "D-0123456789",
        "d-012345678g",
        "store",
        "arn:aws:identitystore::0000:identitystore/d-0123456789",
        "arn:aws:identitystore:::identitystore/d-0123456789",
    ],
)
def test_bad_identity_store_id(client: Any, bad_id: str) -> None:
    message = _invalid(client.list_users, IdentityStoreId=bad_id)
    assert "identityStoreId" in message
    _invalid(client.describe_identity_store, IdentityStoreId=bad_id)


@pytest.mark.parametrize(
    "resource_id",
    [
        "alice",
        "0123456789-not-a-uuid",
        "012345678-01234567-0123-0123-0123-0123456789ab",
        "arn:aws:identitystore:::person/01234567-0123-0123-0123-0123456789ab",
    ],
)
def test_bad_resource_id(client: Any, store_id: str, resource_id: str) -> None:
    _invalid(client.describe_user, IdentityStoreId=store_id, UserId=resource_id)
    _invalid(client.describe_group, IdentityStoreId=store_id, GroupId=resource_id)
    _invalid(client.describe_group_membership, IdentityStoreId=store_id, MembershipId=resource_id)


def test_resource_ids_may_be_plain_uuids(client: Any, store_id: str) -> None:
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_user,
        IdentityStoreId=store_id,
        UserId="01234567-89ab-4def-8123-456789abcdef",
    )
    assert error["ResourceType"] == "USER"


@pytest.mark.parametrize("path", ["emails[0].value", "name.given_name", "a.b.c.d", "user name"])
def test_attribute_path_pattern(client: Any, store_id: str, path: str) -> None:
    user_id = make_user(client, store_id)
    _invalid(
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[{"AttributePath": path, "AttributeValue": "x"}],
    )
    _invalid(
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier={"UniqueAttribute": {"AttributePath": path, "AttributeValue": "x"}},
    )


def test_attribute_path_too_long(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    _invalid(
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[{"AttributePath": "a" * 256, "AttributeValue": "x"}],
    )


@pytest.mark.parametrize("name", ["bogus", "aws:identitystore:", "aws:identitystore:Enterprise"])
def test_extension_name_pattern(client: Any, store_id: str, name: str) -> None:
    user_id = make_user(client, store_id)
    _invalid(client.describe_user, IdentityStoreId=store_id, UserId=user_id, Extensions=[name])


def test_too_many_extension_names(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    _invalid(
        client.describe_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Extensions=["aws:identitystore:enterprise"] * 11,
    )


@pytest.mark.parametrize("revision", ["abc", "1.0", "-1", "9" * 65])
def test_revision_pattern(client: Any, store_id: str, revision: str) -> None:
    user_id = make_user(client, store_id)
    _invalid(
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[{"AttributePath": "nickName", "AttributeValue": "x"}],
        Revision=revision,
    )
    _invalid(client.delete_user, IdentityStoreId=store_id, UserId=user_id, Revision=revision)


def test_next_token_pattern(client: Any, store_id: str) -> None:
    message = _invalid(client.list_users, IdentityStoreId=store_id, NextToken="a.b%c")
    assert "nextToken" in message


def test_external_id_lengths(client: Any, store_id: str) -> None:
    _invalid(
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier={"ExternalId": {"Issuer": "i" * 257, "Id": "x"}},
    )
    _invalid(
        client.get_group_id,
        IdentityStoreId=store_id,
        AlternateIdentifier={"ExternalId": {"Issuer": "i", "Id": "x" * 257}},
    )


# -- list sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "member",
    [
        {"Emails": [{"Value": "a@example.com"}, {"Value": "b@example.com"}]},
        {"Addresses": [{"Locality": "A"}, {"Locality": "B"}]},
        {"PhoneNumbers": [{"Value": "1"}, {"Value": "2"}]},
        {"Roles": [{"Value": "a"}, {"Value": "b"}]},
        {"Photos": [{"Value": f"https://example.com/{i}.png"} for i in range(4)]},
    ],
)
def test_too_many_list_items(client: Any, store_id: str, member: dict[str, Any]) -> None:
    message = _invalid(client.create_user, **user_params(store_id, **member))
    assert "less than or equal to" in message
    assert user_names(client, store_id) == []


def test_at_most_one_primary_photo(client: Any, store_id: str) -> None:
    photos = [
        {"Value": "https://example.com/1.png", "Primary": True},
        {"Value": "https://example.com/2.png", "Primary": True},
    ]
    message = _invalid(client.create_user, **user_params(store_id, Photos=photos))
    assert "primary" in message.lower()


def test_three_photos_with_one_primary_are_fine(client: Any, store_id: str) -> None:
    photos = [
        {"Value": "https://example.com/1.png", "Primary": True},
        {"Value": "https://example.com/2.png", "Primary": False},
        {"Value": "https://example.com/3.png"},
    ]
    make_user(client, store_id, Photos=photos)
    assert user_names(client, store_id) == ["alice"]


def test_too_many_group_ids(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    message = _invalid(
        client.is_member_in_groups,
        IdentityStoreId=store_id,
        MemberId={"UserId": user_id},
        GroupIds=[unknown_id(store_id) for _ in range(101)],
    )
    assert "groupIds" in message


def test_each_bad_group_id_is_named_by_its_position(client: Any, store_id: str) -> None:
    # A list of ids is first tested as a whole; one that fails is reported item by item.
    user_id = make_user(client, store_id)
    message = _invalid(
        client.is_member_in_groups,
        IdentityStoreId=store_id,
        MemberId={"UserId": user_id},
        GroupIds=[unknown_id(store_id), "not-a-group-id", "a" * 48, unknown_id(store_id)],
    )
    assert message.startswith("2 validation errors detected: ")
    assert "Value 'not-a-group-id' at 'groupIds.2.member' failed to satisfy constraint: " in message
    assert "Member must satisfy regular expression pattern" in message
    assert "at 'groupIds.3.member' failed to satisfy constraint: " in message
    assert "groupIds.1.member" not in message
    assert "groupIds.4.member" not in message


def test_too_many_operations(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    group_id = make_group(client, store_id)
    ops = [{"AttributePath": "nickName", "AttributeValue": "x"}] * 101
    assert "operations" in _invalid(
        client.update_user, IdentityStoreId=store_id, UserId=user_id, Operations=ops
    )
    group_ops = [{"AttributePath": "description", "AttributeValue": "x"}] * 101
    _invalid(client.update_group, IdentityStoreId=store_id, GroupId=group_id, Operations=group_ops)


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("list_users", {}),
        ("list_groups", {}),
        ("list_group_memberships", {"GroupId": "g"}),
        ("list_group_memberships_for_member", {"MemberId": {"UserId": "u"}}),
        ("list_identity_stores", None),
    ],
)
def test_max_results_above_100(
    client: Any, store_id: str, operation: str, params: dict[str, Any] | None
) -> None:
    user_id = make_user(client, store_id)
    group_id = make_group(client, store_id)
    if params is None:
        request: dict[str, Any] = {}
    else:
        request = {"IdentityStoreId": store_id, **params}
        if "GroupId" in request:
            request["GroupId"] = group_id
        if "MemberId" in request:
            request["MemberId"] = {"UserId": user_id}
    message = _invalid(getattr(client, operation), MaxResults=101, **request)
    assert "maxResults" in message
    assert "100" in message


# -- Identity Center rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "where"),
    [
        ("UserName", "userName"),
        ("DisplayName", "displayName"),
        ("Name", "name"),
        ("GivenName", "name.givenName"),
        ("FamilyName", "name.familyName"),
    ],
)
def test_identity_center_required_attributes(
    client: Any, store_id: str, missing: str, where: str
) -> None:
    params = user_params(store_id)
    if missing in ("GivenName", "FamilyName"):
        params["Name"] = {k: v for k, v in params["Name"].items() if k != missing}
    else:
        del params[missing]
    message = _invalid(client.create_user, **params)
    assert where in message
    assert user_names(client, store_id) == []


def test_all_missing_required_attributes_are_reported_together(client: Any, store_id: str) -> None:
    message = _invalid(client.create_user, IdentityStoreId=store_id, NickName="nobody")
    assert message.startswith("4 validation errors detected")


@pytest.mark.parametrize(
    "name",
    ["Administrator", "administrator", "ADMINISTRATOR", "AWSAdministrators", "awsadministrators"],
)
def test_reserved_user_names(client: Any, store_id: str, name: str) -> None:
    _invalid(client.create_user, **user_params(store_id, name))
    assert user_names(client, store_id) == []


def test_several_problems_are_reported_in_one_message(client: Any, store_id: str) -> None:
    message = _invalid(
        client.create_user, **user_params(store_id, "u" * 129, DisplayName="d" * 1025)
    )
    assert message.startswith("2 validation errors detected: ")
    assert "userName" in message
    assert "displayName" in message


def test_sensitive_values_are_not_echoed(client: Any, store_id: str) -> None:
    secret = "Sup3rS3cr3tValue"
    message = _invalid(client.create_user, **user_params(store_id, f"has space {secret}"))
    assert secret not in message
    message = _invalid(client.create_user, **user_params(store_id, DisplayName=secret + "x" * 1024))
    assert secret not in message
    user_id = make_user(client, store_id)
    for op in (
        {"AttributePath": "nickName", "AttributeValue": secret + "x" * 1024},
        {"AttributePath": "userName", "AttributeValue": f"{secret} with spaces"},
        {"AttributePath": "emails", "AttributeValue": [{"value": secret + "x" * 1024}]},
    ):
        message = _invalid(
            client.update_user, IdentityStoreId=store_id, UserId=user_id, Operations=[op]
        )
        assert secret not in message
    message = _invalid(
        client.list_users,
        IdentityStoreId=store_id,
        Filters=[{"AttributePath": "UserName", "AttributeValue": secret + "x" * 1024}],
    )
    assert secret not in message


# -- what botocore refuses client-side ---------------------------------------------------------


@pytest.mark.parametrize(
    "member",
    [
        {"UserName": ""},
        {"DisplayName": ""},
        {"NickName": ""},
        {"Name": {"GivenName": "", "FamilyName": "Example"}},
        {"Emails": []},
        {"Photos": []},
        {"Photos": [{"Type": "photo"}]},
        {"Extensions": {}},
    ],
)
def test_minimums_and_required_members_are_checked_on_the_server(
    raw_client: Any, store_id: str, member: dict[str, Any]
) -> None:
    _invalid(raw_client.create_user, **user_params(store_id, **member))
    assert user_names(raw_client, store_id) == []


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("describe_user", {}),
        ("describe_group", {}),
        ("update_user", {"UserId": "0123456789-01234567-0123-4123-8123-0123456789ab"}),
        (
            "update_user",
            {"UserId": "0123456789-01234567-0123-4123-8123-0123456789ab", "Operations": []},
        ),
        (
            "update_user",
            {"UserId": "0123456789-01234567-0123-4123-8123-0123456789ab", "Operations": [{}]},
        ),
        ("is_member_in_groups", {"MemberId": {"UserId": "u"}, "GroupIds": []}),
        ("create_group_membership", {"GroupId": "0123456789-01234567-0123-4123-8123-0123456789ab"}),
        ("list_users", {"MaxResults": 0}),
        ("list_users", {"NextToken": ""}),
        ("list_users", {"Filters": [{"AttributePath": "UserName"}]}),
    ],
)
def test_missing_and_too_small_members(
    raw_client: Any, store_id: str, operation: str, params: dict[str, Any]
) -> None:
    _invalid(getattr(raw_client, operation), IdentityStoreId=store_id, **params)


def test_missing_identity_store_id(raw_client: Any) -> None:
    message = _invalid(raw_client.list_users)
    assert "identityStoreId" in message


@pytest.mark.parametrize(
    "identifier",
    [
        {},
        {
            "ExternalId": {"Issuer": "i", "Id": "x"},
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"},
        },
    ],
)
def test_a_union_needs_exactly_one_member(
    raw_client: Any, store_id: str, identifier: dict[str, Any]
) -> None:
    make_user(raw_client, store_id)
    message = _invalid(
        raw_client.get_user_id, IdentityStoreId=store_id, AlternateIdentifier=identifier
    )
    assert "alternateIdentifier" in message


def test_an_empty_member_id_is_refused(raw_client: Any, store_id: str) -> None:
    group_id = make_group(raw_client, store_id)
    _invalid(
        raw_client.create_group_membership, IdentityStoreId=store_id, GroupId=group_id, MemberId={}
    )
    _invalid(raw_client.list_group_memberships_for_member, IdentityStoreId=store_id, MemberId={})


def _with_members(client: Any, operation: str, members: dict[str, Any]) -> Any:
    """While active, `members` replace the ones botocore serialised for `operation`."""
    return edited_request(client, operation, body_edit(lambda body: {**body, **members}))


def test_a_wrong_json_type_is_a_serialization_error(raw_client: Any, store_id: str) -> None:
    error = expect_error(
        "SerializationException", raw_client.create_user, **user_params(store_id, UserName=123)
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "userName" in error["Error"]["Message"]
    assert user_names(raw_client, store_id) == []


@pytest.mark.parametrize(
    "member",
    [
        {"UserName": ["alice"]},
        {"UserName": 12.5},
        {"DisplayName": True},
        {"Name": "Alice Example"},
        {"Name": {"GivenName": 1, "FamilyName": "Example"}},
        {"Emails": {"Value": "alice@example.com"}},
        {"Emails": ["alice@example.com"]},
        {"Emails": [{"Value": "alice@example.com", "Primary": "yes"}]},
        {"Photos": [{"Value": "https://example.com/a.png", "Primary": 1}]},
        {"Extensions": ["aws:identitystore:enterprise"]},
    ],
)
def test_wrong_json_types_are_serialization_errors(
    client: Any, store_id: str, member: dict[str, Any]
) -> None:
    with _with_members(client, "CreateUser", member):
        error = expect_error("SerializationException", client.create_user, **user_params(store_id))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert user_names(client, store_id) == []


@pytest.mark.parametrize(
    ("operation", "member"),
    [
        ("ListUsers", {"MaxResults": "5"}),
        ("ListUsers", {"MaxResults": 5.5}),
        ("ListUsers", {"MaxResults": True}),
        ("ListUsers", {"IdentityStoreId": 12}),
        ("ListUsers", {"Filters": {"AttributePath": "UserName", "AttributeValue": "a"}}),
        ("ListUsers", {"Filters": [{"AttributePath": "UserName", "AttributeValue": 1}]}),
        ("IsMemberInGroups", {"GroupIds": "g"}),
        ("IsMemberInGroups", {"MemberId": "u"}),
        ("UpdateUser", {"Operations": {"AttributePath": "nickName"}}),
        ("UpdateUser", {"Operations": [{"AttributePath": 5, "AttributeValue": "x"}]}),
        ("UpdateUser", {"Revision": 3}),
        ("GetUserId", {"AlternateIdentifier": "alice"}),
        ("UpdateIdentityStore", {"NetworkConfiguration": {"VpceAccessRequired": "no"}}),
    ],
)
def test_wrong_json_types_in_other_operations(
    client: Any, store_id: str, operation: str, member: dict[str, Any]
) -> None:
    user_id = make_user(client, store_id)
    valid: dict[str, dict[str, Any]] = {
        "ListUsers": {},
        "IsMemberInGroups": {"MemberId": {"UserId": user_id}, "GroupIds": [unknown_id(store_id)]},
        "UpdateUser": {
            "UserId": user_id,
            "Operations": [{"AttributePath": "nickName", "AttributeValue": "x"}],
        },
        "GetUserId": {
            "AlternateIdentifier": {
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}
            }
        },
        "UpdateIdentityStore": {"NetworkConfiguration": {"VpceAccessRequired": False}},
    }
    call = getattr(client, xform_name(operation))
    with _with_members(client, operation, member):
        expect_error("SerializationException", call, IdentityStoreId=store_id, **valid[operation])
    assert describe_user(client, store_id, user_id)["Revision"] == "1"

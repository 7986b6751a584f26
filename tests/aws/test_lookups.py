"""Look-ups: GetUserId, GetGroupId, and the deprecated ListUsers/ListGroups `Filters`
(docs/behaviour.md#lookups)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import expect_error, make_group, make_user, without_metadata


def _unique(path: str, value: Any) -> dict[str, Any]:
    return {"UniqueAttribute": {"AttributePath": path, "AttributeValue": value}}


# -- GetUserId ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("userName", "Alice.Smith"),
        ("UserName", "alice.smith"),
        ("username", "ALICE.SMITH"),
        ("USERNAME", "aLiCe.sMiTh"),
    ],
)
def test_get_user_id_by_user_name(client: Any, store_id: str, path: str, value: str) -> None:
    user_id = make_user(client, store_id, "Alice.Smith")
    make_user(client, store_id, "bob")
    out = client.get_user_id(IdentityStoreId=store_id, AlternateIdentifier=_unique(path, value))
    assert without_metadata(out) == {
        "IdentityStoreId": store_id,
        "UserId": user_id,
        "UserArn": f"arn:aws:identitystore:::user/{user_id}",
    }


def test_get_user_id_by_user_name_uses_unicode_casefolding(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, "straße")
    out = client.get_user_id(
        IdentityStoreId=store_id, AlternateIdentifier=_unique("userName", "STRASSE")
    )
    assert out["UserId"] == user_id


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("emails.value", "Alice@Example.com"),
        ("Emails.Value", "alice@example.com"),
        ("EMAILS.VALUE", "ALICE@EXAMPLE.COM"),
    ],
)
def test_get_user_id_by_email(client: Any, store_id: str, path: str, value: str) -> None:
    make_user(client, store_id, "bob", Emails=[{"Value": "bob@example.com"}])
    user_id = make_user(client, store_id, Emails=[{"Value": "Alice@Example.com", "Primary": True}])
    out = client.get_user_id(IdentityStoreId=store_id, AlternateIdentifier=_unique(path, value))
    assert out["UserId"] == user_id
    assert out["UserArn"] == f"arn:aws:identitystore:::user/{user_id}"


@pytest.mark.parametrize(
    ("path", "value"), [("userName", "nobody"), ("emails.value", "nobody@example.com")]
)
def test_get_user_id_without_a_match(client: Any, store_id: str, path: str, value: str) -> None:
    make_user(client, store_id, Emails=[{"Value": "alice@example.com"}])
    error = expect_error(
        "ResourceNotFoundException",
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique(path, value),
    )
    assert error["ResourceType"] == "USER"


def test_get_user_id_does_not_match_a_user_name_as_email(client: Any, store_id: str) -> None:
    make_user(client, store_id, "alice@example.com")
    error = expect_error(
        "ResourceNotFoundException",
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique("emails.value", "alice@example.com"),
    )
    assert error["ResourceType"] == "USER"


def test_get_user_id_by_external_id(client: Any, store_id: str) -> None:
    # The AWS API cannot set ExternalIds (SCIM does), so no user has one here.
    make_user(client, store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier={"ExternalId": {"Issuer": "https://idp.example.com", "Id": "alice"}},
    )
    assert error["ResourceType"] == "USER"


@pytest.mark.parametrize(
    "path", ["displayName", "name.givenName", "nickName", "userId", "externalIds.id", "title"]
)
def test_get_user_id_by_another_path_is_refused(client: Any, store_id: str, path: str) -> None:
    make_user(client, store_id, NickName="alice", Title="alice")
    expect_error(
        "ValidationException",
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique(path, "alice"),
    )


@pytest.mark.parametrize("value", [42, {"value": "alice"}, ["alice"], ""])
def test_get_user_id_needs_a_string_value(client: Any, store_id: str, value: Any) -> None:
    make_user(client, store_id)
    expect_error(
        "ValidationException",
        client.get_user_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique("userName", value),
    )


# -- GetGroupId --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("displayName", "Site Reliability"),
        ("DisplayName", "site reliability"),
        ("DISPLAYNAME", "SITE RELIABILITY"),
    ],
)
def test_get_group_id_by_display_name(client: Any, store_id: str, path: str, value: str) -> None:
    make_group(client, store_id, "Other")
    group_id = make_group(client, store_id, "Site Reliability")
    out = client.get_group_id(IdentityStoreId=store_id, AlternateIdentifier=_unique(path, value))
    assert without_metadata(out) == {
        "IdentityStoreId": store_id,
        "GroupId": group_id,
        "GroupArn": f"arn:aws:identitystore:::group/{group_id}",
    }


def test_get_group_id_uses_unicode_casefolding(client: Any, store_id: str) -> None:
    group_id = make_group(client, store_id, "Straße Team")
    out = client.get_group_id(
        IdentityStoreId=store_id, AlternateIdentifier=_unique("displayName", "STRASSE TEAM")
    )
    assert out["GroupId"] == group_id


def test_get_group_id_without_a_match(client: Any, store_id: str) -> None:
    make_group(client, store_id, "Engineering")
    error = expect_error(
        "ResourceNotFoundException",
        client.get_group_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique("displayName", "Marketing"),
    )
    assert error["ResourceType"] == "GROUP"


def test_get_group_id_by_external_id(client: Any, store_id: str) -> None:
    make_group(client, store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.get_group_id,
        IdentityStoreId=store_id,
        AlternateIdentifier={"ExternalId": {"Issuer": "https://idp.example.com", "Id": "eng"}},
    )
    assert error["ResourceType"] == "GROUP"


@pytest.mark.parametrize("path", ["description", "userName", "groupId", "emails.value"])
def test_get_group_id_by_another_path_is_refused(client: Any, store_id: str, path: str) -> None:
    make_group(client, store_id, "Engineering", Description="Engineering")
    expect_error(
        "ValidationException",
        client.get_group_id,
        IdentityStoreId=store_id,
        AlternateIdentifier=_unique(path, "Engineering"),
    )


# -- ListUsers / ListGroups Filters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"), [("UserName", "Alice"), ("userName", "alice"), ("USERNAME", "ALICE")]
)
def test_list_users_filter_by_user_name(client: Any, store_id: str, path: str, value: str) -> None:
    make_user(client, store_id, "bob")
    user_id = make_user(client, store_id, "Alice")
    make_user(client, store_id, "alice2")
    out = client.list_users(
        IdentityStoreId=store_id, Filters=[{"AttributePath": path, "AttributeValue": value}]
    )
    assert [u["UserId"] for u in out["Users"]] == [user_id]
    assert out["Users"][0]["UserName"] == "Alice"
    assert "NextToken" not in out


def test_list_users_filter_without_a_match(client: Any, store_id: str) -> None:
    make_user(client, store_id)
    out = client.list_users(
        IdentityStoreId=store_id, Filters=[{"AttributePath": "UserName", "AttributeValue": "zed"}]
    )
    assert without_metadata(out) == {"Users": []}


def test_list_users_with_empty_filters_lists_everyone(client: Any, store_id: str) -> None:
    ids = [make_user(client, store_id, name) for name in ("alice", "bob")]
    out = client.list_users(IdentityStoreId=store_id, Filters=[])
    assert [u["UserId"] for u in out["Users"]] == ids


@pytest.mark.parametrize("path", ["DisplayName", "emails.value", "name.givenName", "userId"])
def test_list_users_filter_by_another_path_is_refused(
    client: Any, store_id: str, path: str
) -> None:
    make_user(client, store_id)
    expect_error(
        "ValidationException",
        client.list_users,
        IdentityStoreId=store_id,
        Filters=[{"AttributePath": path, "AttributeValue": "alice"}],
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("DisplayName", "Engineering"),
        ("displayName", "engineering"),
        ("DISPLAYNAME", "ENGINEERING"),
    ],
)
def test_list_groups_filter_by_display_name(
    client: Any, store_id: str, path: str, value: str
) -> None:
    make_group(client, store_id, "Marketing")
    group_id = make_group(client, store_id, "Engineering")
    out = client.list_groups(
        IdentityStoreId=store_id, Filters=[{"AttributePath": path, "AttributeValue": value}]
    )
    assert [g["GroupId"] for g in out["Groups"]] == [group_id]
    assert out["Groups"][0]["DisplayName"] == "Engineering"


def test_list_groups_filter_without_a_match(client: Any, store_id: str) -> None:
    make_group(client, store_id)
    out = client.list_groups(
        IdentityStoreId=store_id,
        Filters=[{"AttributePath": "DisplayName", "AttributeValue": "Nobody"}],
    )
    assert without_metadata(out) == {"Groups": []}


@pytest.mark.parametrize("path", ["UserName", "Description", "groupId"])
def test_list_groups_filter_by_another_path_is_refused(
    client: Any, store_id: str, path: str
) -> None:
    make_group(client, store_id, "Engineering", Description="Engineering")
    expect_error(
        "ValidationException",
        client.list_groups,
        IdentityStoreId=store_id,
        Filters=[{"AttributePath": path, "AttributeValue": "Engineering"}],
    )


@pytest.mark.parametrize("operation", ["list_users", "list_groups"])
def test_more_than_one_filter_is_refused(client: Any, store_id: str, operation: str) -> None:
    path = "UserName" if operation == "list_users" else "DisplayName"
    expect_error(
        "ValidationException",
        getattr(client, operation),
        IdentityStoreId=store_id,
        Filters=[
            {"AttributePath": path, "AttributeValue": "a"},
            {"AttributePath": path, "AttributeValue": "b"},
        ],
    )


def test_lookups_are_scoped_to_their_store(client: Any, store_id: str, other_store_id: str) -> None:
    make_user(client, store_id, Emails=[{"Value": "alice@example.com"}])
    make_group(client, store_id, "Engineering")
    for path, value in (("userName", "alice"), ("emails.value", "alice@example.com")):
        expect_error(
            "ResourceNotFoundException",
            client.get_user_id,
            IdentityStoreId=other_store_id,
            AlternateIdentifier=_unique(path, value),
        )
    expect_error(
        "ResourceNotFoundException",
        client.get_group_id,
        IdentityStoreId=other_store_id,
        AlternateIdentifier=_unique("displayName", "Engineering"),
    )

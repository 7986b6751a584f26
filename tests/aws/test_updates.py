"""UpdateUser / UpdateGroup (docs/behaviour.md#updates): paths, values, removal, all-or-nothing,
Revision, UpdatedAt/UpdatedBy, and the enterprise extension; Revision preconditions on Delete*."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import (
    describe_group,
    describe_user,
    error_of,
    expect_error,
    make_group,
    make_user,
    unknown_id,
    without_metadata,
)

ENTERPRISE = "aws:identitystore:enterprise"
OTHER_PRINCIPAL = "arn:aws:iam::000000000000:user/AKIDOTHERCLIENT"


def _op(path: str, *value: Any) -> dict[str, Any]:
    """An AttributeOperation; without `value` the AttributeValue member is absent."""
    return {"AttributePath": path, **({"AttributeValue": value[0]} if value else {})}


@pytest.fixture
def user_id(client: Any, store_id: str) -> str:
    return make_user(
        client,
        store_id,
        Name={
            "GivenName": "Alice",
            "FamilyName": "Example",
            "MiddleName": "Marie",
            "Formatted": "Alice M. Example",
        },
        NickName="Al",
        Title="Engineer",
        Emails=[{"Value": "alice@example.com", "Type": "work", "Primary": True}],
        PhoneNumbers=[{"Value": "+1 555 0100", "Type": "work"}],
    )


@pytest.fixture
def group_id(client: Any, store_id: str) -> str:
    return make_group(client, store_id, "Engineering", Description="Builds things")


def _update_user(client: Any, store_id: str, user_id: str, *ops: dict[str, Any]) -> Any:
    return client.update_user(IdentityStoreId=store_id, UserId=user_id, Operations=list(ops))


def _update_group(client: Any, store_id: str, group_id: str, *ops: dict[str, Any]) -> Any:
    return client.update_group(IdentityStoreId=store_id, GroupId=group_id, Operations=list(ops))


def _refused_user_update(
    client: Any,
    store_id: str,
    user_id: str,
    *ops: dict[str, Any],
    code: str = "ValidationException",
) -> dict[str, Any]:
    """Assert the update fails with `code` and changes nothing; return the error."""
    before = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE])
    error = expect_error(
        code, client.update_user, IdentityStoreId=store_id, UserId=user_id, Operations=list(ops)
    )
    assert describe_user(client, store_id, user_id, Extensions=[ENTERPRISE]) == before
    return error


def _refused_group_update(
    client: Any,
    store_id: str,
    group_id: str,
    *ops: dict[str, Any],
    code: str = "ValidationException",
) -> dict[str, Any]:
    before = describe_group(client, store_id, group_id)
    error = expect_error(
        code, client.update_group, IdentityStoreId=store_id, GroupId=group_id, Operations=list(ops)
    )
    assert describe_group(client, store_id, group_id) == before
    return error


# -- outputs, Revision, UpdatedAt/UpdatedBy ----------------------------------------------------


def test_update_user_output(client: Any, store_id: str, user_id: str) -> None:
    before = describe_user(client, store_id, user_id)
    out = without_metadata(_update_user(client, store_id, user_id, _op("nickName", "Ally")))
    assert out == {
        "IdentityStoreId": store_id,
        "UserId": user_id,
        "UserArn": f"arn:aws:identitystore:::user/{user_id}",
        "Revision": out["Revision"],
    }
    assert re.fullmatch(r"[0-9]+", out["Revision"])
    assert int(out["Revision"]) > int(before["Revision"])
    assert describe_user(client, store_id, user_id)["Revision"] == out["Revision"]


def test_update_group_output(client: Any, store_id: str, group_id: str) -> None:
    before = describe_group(client, store_id, group_id)
    out = without_metadata(_update_group(client, store_id, group_id, _op("description", "New")))
    assert out == {
        "IdentityStoreId": store_id,
        "GroupId": group_id,
        "GroupArn": f"arn:aws:identitystore:::group/{group_id}",
        "Revision": out["Revision"],
    }
    assert int(out["Revision"]) > int(before["Revision"])
    assert describe_group(client, store_id, group_id)["Revision"] == out["Revision"]


def test_every_user_change_increases_revision_and_sets_updated(
    client: Any, other_client: Any, store_id: str, user_id: str
) -> None:
    created = describe_user(client, store_id, user_id)
    revisions = [int(created["Revision"])]
    for value in ("One", "Two", "Three"):
        out = _update_user(other_client, store_id, user_id, _op("nickName", value))
        revisions.append(int(out["Revision"]))
    assert revisions == sorted(set(revisions))
    user = describe_user(client, store_id, user_id)
    assert user["NickName"] == "Three"
    assert user["CreatedAt"] == created["CreatedAt"]
    assert user["CreatedBy"] == created["CreatedBy"]
    assert user["UpdatedAt"] >= created["UpdatedAt"]
    assert user["UpdatedBy"] == OTHER_PRINCIPAL


def test_every_group_change_increases_revision_and_sets_updated(
    client: Any, other_client: Any, store_id: str, group_id: str
) -> None:
    created = describe_group(client, store_id, group_id)
    out = _update_group(other_client, store_id, group_id, _op("description", "Changed"))
    group = describe_group(client, store_id, group_id)
    assert int(out["Revision"]) > int(created["Revision"])
    assert group["CreatedBy"] == created["CreatedBy"]
    assert group["CreatedAt"] == created["CreatedAt"]
    assert group["UpdatedAt"] >= created["UpdatedAt"]
    assert group["UpdatedBy"] == OTHER_PRINCIPAL


def test_update_user_by_arn_answers_with_the_plain_id(
    client: Any, store_id: str, user_id: str
) -> None:
    out = client.update_user(
        IdentityStoreId=f"arn:aws:identitystore::000000000000:identitystore/{store_id}",
        UserId=f"arn:aws:identitystore:::user/{user_id}",
        Operations=[_op("title", "Lead")],
    )
    assert out["UserId"] == user_id
    assert out["IdentityStoreId"] == store_id
    assert describe_user(client, store_id, user_id)["Title"] == "Lead"


# -- paths -------------------------------------------------------------------------------------

SIMPLE_PATHS = [
    ("userName", "UserName", "alice.new"),
    ("displayName", "DisplayName", "Alice New"),
    ("nickName", "NickName", "Ace"),
    ("profileUrl", "ProfileUrl", "https://example.com/alice"),
    ("userType", "UserType", "Contractor"),
    ("title", "Title", "Principal Engineer"),
    ("preferredLanguage", "PreferredLanguage", "fr-CA"),
    ("locale", "Locale", "fr_CA"),
    ("timezone", "Timezone", "America/Toronto"),
    ("website", "Website", "https://alice.example.com"),
    ("birthdate", "Birthdate", "1985-12-24"),
]


@pytest.mark.parametrize(("path", "member", "value"), SIMPLE_PATHS)
def test_set_a_string_attribute(
    client: Any, store_id: str, user_id: str, path: str, member: str, value: str
) -> None:
    _update_user(client, store_id, user_id, _op(path, value))
    assert describe_user(client, store_id, user_id)[member] == value


@pytest.mark.parametrize("path", ["nickname", "NICKNAME", "NickName", "nickName"])
def test_paths_match_case_insensitively(
    client: Any, store_id: str, user_id: str, path: str
) -> None:
    _update_user(client, store_id, user_id, _op(path, "Ace"))
    assert describe_user(client, store_id, user_id)["NickName"] == "Ace"


@pytest.mark.parametrize("path", ["name.givenName", "NAME.GIVENNAME", "Name.GivenName"])
def test_set_one_part_of_name(client: Any, store_id: str, user_id: str, path: str) -> None:
    _update_user(client, store_id, user_id, _op(path, "Alicia"))
    assert describe_user(client, store_id, user_id)["Name"] == {
        "GivenName": "Alicia",
        "FamilyName": "Example",
        "MiddleName": "Marie",
        "Formatted": "Alice M. Example",
    }


@pytest.mark.parametrize(
    ("path", "member"),
    [
        ("name.honorificPrefix", "HonorificPrefix"),
        ("name.honorificSuffix", "HonorificSuffix"),
        ("name.formatted", "Formatted"),
        ("name.familyName", "FamilyName"),
        ("name.middleName", "MiddleName"),
    ],
)
def test_set_every_part_of_name(
    client: Any, store_id: str, user_id: str, path: str, member: str
) -> None:
    _update_user(client, store_id, user_id, _op(path, "Value"))
    assert describe_user(client, store_id, user_id)["Name"][member] == "Value"


def test_replace_the_whole_name(client: Any, store_id: str, user_id: str) -> None:
    _update_user(
        client,
        store_id,
        user_id,
        _op("name", {"givenName": "Ada", "FAMILYNAME": "Lovelace", "HonorificPrefix": "Lady"}),
    )
    assert describe_user(client, store_id, user_id)["Name"] == {
        "GivenName": "Ada",
        "FamilyName": "Lovelace",
        "HonorificPrefix": "Lady",
    }


def test_remove_one_part_of_name(client: Any, store_id: str, user_id: str) -> None:
    _update_user(client, store_id, user_id, _op("name.middleName", None), _op("name.formatted"))
    assert describe_user(client, store_id, user_id)["Name"] == {
        "GivenName": "Alice",
        "FamilyName": "Example",
    }


@pytest.mark.parametrize(
    ("path", "value", "member", "expected"),
    [
        (
            "emails",
            [{"value": "new@example.com", "type": "home", "primary": True}],
            "Emails",
            [{"Value": "new@example.com", "Type": "home", "Primary": True}],
        ),
        (
            "emails",
            [{"Value": "new@example.com", "PRIMARY": False}],
            "Emails",
            [{"Value": "new@example.com", "Primary": False}],
        ),
        (
            "addresses",
            [
                {
                    "streetAddress": "2 Side St",
                    "locality": "Shelbyville",
                    "region": "IL",
                    "postalCode": "62565",
                    "country": "US",
                    "formatted": "2 Side St, Shelbyville",
                    "type": "home",
                    "primary": True,
                }
            ],
            "Addresses",
            [
                {
                    "StreetAddress": "2 Side St",
                    "Locality": "Shelbyville",
                    "Region": "IL",
                    "PostalCode": "62565",
                    "Country": "US",
                    "Formatted": "2 Side St, Shelbyville",
                    "Type": "home",
                    "Primary": True,
                }
            ],
        ),
        (
            "phoneNumbers",
            [{"value": "+44 20 7946 0000", "Type": "mobile"}],
            "PhoneNumbers",
            [{"Value": "+44 20 7946 0000", "Type": "mobile"}],
        ),
        (
            "photos",
            [
                {"value": "https://example.com/1.png", "primary": True, "display": "Me"},
                {"Value": "https://example.com/2.jpg", "type": "thumbnail"},
                {"value": "https://example.com/3.gif"},
            ],
            "Photos",
            [
                {"Value": "https://example.com/1.png", "Primary": True, "Display": "Me"},
                {"Value": "https://example.com/2.jpg", "Type": "thumbnail"},
                {"Value": "https://example.com/3.gif"},
            ],
        ),
        (
            "roles",
            [{"value": "Manager", "type": "job", "primary": True}],
            "Roles",
            [{"Value": "Manager", "Type": "job", "Primary": True}],
        ),
    ],
)
def test_replace_a_whole_list_with_keys_in_any_case(
    client: Any,
    store_id: str,
    user_id: str,
    path: str,
    value: Any,
    member: str,
    expected: Any,
) -> None:
    _update_user(client, store_id, user_id, _op(path, value))
    assert describe_user(client, store_id, user_id)[member] == expected


@pytest.mark.parametrize("path", ["EMAILS", "Emails", "eMaIlS"])
def test_list_paths_match_case_insensitively(
    client: Any, store_id: str, user_id: str, path: str
) -> None:
    _update_user(client, store_id, user_id, _op(path, [{"value": "x@example.com"}]))
    assert describe_user(client, store_id, user_id)["Emails"] == [{"Value": "x@example.com"}]


@pytest.mark.parametrize("absent", [True, False])
@pytest.mark.parametrize(
    ("path", "member"),
    [
        ("nickName", "NickName"),
        ("title", "Title"),
        ("emails", "Emails"),
        ("phoneNumbers", "PhoneNumbers"),
    ],
)
def test_null_or_absent_value_removes_the_attribute(
    client: Any, store_id: str, user_id: str, path: str, member: str, absent: bool
) -> None:
    op = _op(path) if absent else _op(path, None)
    _update_user(client, store_id, user_id, op)
    user = describe_user(client, store_id, user_id)
    assert member not in user
    assert user["UserName"] == "alice"


def test_removing_an_absent_attribute_is_allowed(client: Any, store_id: str, user_id: str) -> None:
    out = _update_user(client, store_id, user_id, _op("website", None))
    assert "Website" not in describe_user(client, store_id, user_id)
    assert out["Revision"]


def test_operations_apply_in_order(client: Any, store_id: str, user_id: str) -> None:
    _update_user(
        client,
        store_id,
        user_id,
        _op("nickName", "First"),
        _op("nickName", "Second"),
        _op("title", "Temp"),
        _op("title", None),
        _op("name", {"givenName": "Ann", "familyName": "Other"}),
        _op("name.middleName", "Jo"),
    )
    user = describe_user(client, store_id, user_id)
    assert user["NickName"] == "Second"
    assert "Title" not in user
    assert user["Name"] == {"GivenName": "Ann", "FamilyName": "Other", "MiddleName": "Jo"}


def test_one_hundred_operations_are_accepted(client: Any, store_id: str, user_id: str) -> None:
    ops = [_op("nickName", f"n{i}") for i in range(100)]
    _update_user(client, store_id, user_id, *ops)
    assert describe_user(client, store_id, user_id)["NickName"] == "n99"


# -- refused updates change nothing ------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        _op("displayName", None),
        _op("displayName"),
        _op("userName", None),
        _op("name", None),
        _op("name.givenName", None),
        _op("name.familyName"),
        _op("name", {"givenName": "OnlyGiven"}),
    ],
)
def test_removing_a_required_attribute_is_refused(
    client: Any, store_id: str, user_id: str, op: dict[str, Any]
) -> None:
    _refused_user_update(client, store_id, user_id, op)


@pytest.mark.parametrize(
    "path", ["nickName", "displayName", "name.givenName", "userName", f"{ENTERPRISE}.department"]
)
def test_an_empty_string_is_refused(client: Any, store_id: str, user_id: str, path: str) -> None:
    error = _refused_user_update(client, store_id, user_id, _op(path, ""))
    assert "null" in error["Error"]["Message"]


@pytest.mark.parametrize(
    "path",
    [
        "emails.value",
        "Emails.Value",
        "emails.primary",
        "addresses.streetAddress",
        "phoneNumbers.value",
        "photos.value",
        "roles.value",
    ],
)
def test_a_sub_path_into_a_multi_valued_attribute_is_refused(
    client: Any, store_id: str, user_id: str, path: str
) -> None:
    error = _refused_user_update(client, store_id, user_id, _op(path, "x@example.com"))
    assert "full replacement" in error["Error"]["Message"]


@pytest.mark.parametrize(
    "path",
    [
        "userId",
        "identityStoreId",
        "externalIds",
        "userStatus",
        "createdAt",
        "createdBy",
        "updatedAt",
        "updatedBy",
        "userArn",
        "revision",
        "foo",
        "name.foo",
        "groups",
    ],
)
def test_read_only_and_unknown_paths_are_refused(
    client: Any, store_id: str, user_id: str, path: str
) -> None:
    _refused_user_update(client, store_id, user_id, _op(path, "x"))


@pytest.mark.parametrize(
    "op",
    [
        _op("nickName", "n" * 1025),
        _op("userName", "u" * 129),
        _op("userName", "has space"),
        _op("userName", "Administrator"),
        _op("userName", "awsadministrators"),
        _op("emails", [{"value": "a@example.com"}, {"value": "b@example.com"}]),
        _op("addresses", [{"locality": "A"}, {"locality": "B"}]),
        _op("phoneNumbers", [{"value": "1"}, {"value": "2"}]),
        _op("roles", [{"value": "a"}, {"value": "b"}]),
        _op("photos", [{"value": f"https://example.com/{i}.png"} for i in range(4)]),
        _op("photos", [{"value": "https://e.com/1.png", "primary": True}] * 2),
        _op("photos", [{"type": "photo"}]),
        _op("emails", []),
        _op("emails", [{"value": "a@example.com", "label": "work"}]),
        _op("name", {"givenName": "A", "familyName": "B", "nickname": "C"}),
    ],
)
def test_the_updated_user_is_validated_like_a_new_one(
    client: Any, store_id: str, user_id: str, op: dict[str, Any]
) -> None:
    _refused_user_update(client, store_id, user_id, op)


@pytest.mark.parametrize(
    "op",
    [
        _op("name", "Alice Example"),
        _op("emails", {"value": "a@example.com"}),
        _op("emails", ["a@example.com"]),
        _op("nickName", 42),
        _op("nickName", {"value": "Al"}),
    ],
)
def test_a_value_of_the_wrong_shape_is_refused(
    client: Any, store_id: str, user_id: str, op: dict[str, Any]
) -> None:
    before = describe_user(client, store_id, user_id)
    with pytest.raises(ClientError) as excinfo:
        _update_user(client, store_id, user_id, op)
    error = error_of(excinfo)
    assert error["Error"]["Code"] in {"ValidationException", "SerializationException"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert describe_user(client, store_id, user_id) == before


def test_one_bad_operation_fails_the_whole_batch(client: Any, store_id: str, user_id: str) -> None:
    _refused_user_update(
        client,
        store_id,
        user_id,
        _op("nickName", "Changed"),
        _op("title", "Changed"),
        _op("emails", [{"value": "changed@example.com"}]),
        _op(f"{ENTERPRISE}.department", "Changed"),
        _op("emails.value", "x@example.com"),
        _op("name.givenName", "Changed"),
    )


def test_a_batch_failing_only_after_applying_changes_nothing(
    client: Any, store_id: str, user_id: str
) -> None:
    # Every operation is fine alone; the result lacks a required attribute.
    _refused_user_update(
        client,
        store_id,
        user_id,
        _op("nickName", "Changed"),
        _op("displayName", "Changed"),
        _op("displayName", None),
    )


def test_update_missing_user(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.update_user,
        IdentityStoreId=store_id,
        UserId=missing,
        Operations=[_op("nickName", "x")],
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


# -- enterprise extension ----------------------------------------------------------------------


def _enterprise(client: Any, store_id: str, user_id: str) -> Any:
    user = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE])
    return user.get("Extensions", {}).get(ENTERPRISE)


def test_set_the_whole_enterprise_extension(client: Any, store_id: str, user_id: str) -> None:
    document = {
        "employeeNumber": "42",
        "costCenter": "CC-1",
        "organization": "Example Corp",
        "division": "R&D",
        "department": "Platform",
        "manager": {"value": "boss-id"},
    }
    _update_user(client, store_id, user_id, _op(ENTERPRISE, document))
    assert _enterprise(client, store_id, user_id) == document
    assert "Extensions" not in describe_user(client, store_id, user_id)


def test_set_one_enterprise_attribute(client: Any, store_id: str, user_id: str) -> None:
    _update_user(client, store_id, user_id, _op(ENTERPRISE, {"costCenter": "CC-1"}))
    out = _update_user(client, store_id, user_id, _op(f"{ENTERPRISE}.department", "Platform"))
    assert _enterprise(client, store_id, user_id) == {
        "costCenter": "CC-1",
        "department": "Platform",
    }
    assert describe_user(client, store_id, user_id)["Revision"] == out["Revision"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{ENTERPRISE}.manager", "boss-id"),
        (f"{ENTERPRISE}.manager", {"value": "boss-id"}),
        (f"{ENTERPRISE}.manager.value", "boss-id"),
        (ENTERPRISE, {"manager": "boss-id"}),
    ],
)
def test_manager_is_a_string_or_an_object_with_value(
    client: Any, store_id: str, user_id: str, path: str, value: Any
) -> None:
    _update_user(client, store_id, user_id, _op(path, value))
    assert _enterprise(client, store_id, user_id) == {"manager": {"value": "boss-id"}}


def test_remove_enterprise_attributes(client: Any, store_id: str, user_id: str) -> None:
    _update_user(client, store_id, user_id, _op(ENTERPRISE, {"department": "A", "division": "B"}))
    _update_user(client, store_id, user_id, _op(f"{ENTERPRISE}.department", None))
    assert _enterprise(client, store_id, user_id) == {"division": "B"}
    _update_user(client, store_id, user_id, _op(ENTERPRISE, None))
    assert _enterprise(client, store_id, user_id) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("aws:identitystore:custom", {"department": "x"}),
        ("aws:identitystore:custom.department", "x"),
        (f"{ENTERPRISE}.shoeSize", "42"),
        (ENTERPRISE, {"shoeSize": "42"}),
        (ENTERPRISE, "not an object"),
        (f"{ENTERPRISE}.department", "d" * 1025),
    ],
)
def test_bad_enterprise_updates_are_refused(
    client: Any, store_id: str, user_id: str, path: str, value: Any
) -> None:
    _refused_user_update(client, store_id, user_id, _op(path, value))


# -- groups ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["displayName", "DisplayName", "DISPLAYNAME"])
def test_rename_a_group(client: Any, store_id: str, group_id: str, path: str) -> None:
    _update_group(client, store_id, group_id, _op(path, "Platform Engineering"))
    group = describe_group(client, store_id, group_id)
    assert group["DisplayName"] == "Platform Engineering"
    assert group["Description"] == "Builds things"


@pytest.mark.parametrize("absent", [True, False])
def test_set_and_remove_a_group_description(
    client: Any, store_id: str, group_id: str, absent: bool
) -> None:
    _update_group(client, store_id, group_id, _op("Description", "Runs the platform"))
    assert describe_group(client, store_id, group_id)["Description"] == "Runs the platform"
    _update_group(
        client, store_id, group_id, _op("description") if absent else _op("description", None)
    )
    group = describe_group(client, store_id, group_id)
    assert "Description" not in group
    assert group["DisplayName"] == "Engineering"


@pytest.mark.parametrize(
    "op",
    [
        _op("displayName", ""),
        _op("description", ""),
        _op("displayName", "Administrator"),
        _op("displayName", "AWSADMINISTRATORS"),
        _op("displayName", "g" * 1025),
        _op("description", "d" * 1025),
        _op("groupId", "x"),
        _op("externalIds", [{"issuer": "a", "id": "b"}]),
        _op("userName", "x"),
        _op("members", "x"),
        _op("displayName.value", "x"),
    ],
)
def test_bad_group_updates_are_refused(
    client: Any, store_id: str, group_id: str, op: dict[str, Any]
) -> None:
    _refused_group_update(client, store_id, group_id, op)


def test_one_bad_group_operation_fails_the_whole_batch(
    client: Any, store_id: str, group_id: str
) -> None:
    _refused_group_update(
        client,
        store_id,
        group_id,
        _op("displayName", "Changed"),
        _op("description", "Changed"),
        _op("nickName", "x"),
    )


def test_update_missing_group(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.update_group,
        IdentityStoreId=store_id,
        GroupId=missing,
        Operations=[_op("description", "x")],
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == missing


# -- Revision preconditions --------------------------------------------------------------------


def test_update_user_with_the_current_revision(client: Any, store_id: str, user_id: str) -> None:
    current = describe_user(client, store_id, user_id)["Revision"]
    out = client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[_op("nickName", "Ace")],
        Revision=current,
    )
    assert int(out["Revision"]) > int(current)
    assert describe_user(client, store_id, user_id)["NickName"] == "Ace"


def test_update_user_with_a_stale_revision(client: Any, store_id: str, user_id: str) -> None:
    stale = describe_user(client, store_id, user_id)["Revision"]
    _update_user(client, store_id, user_id, _op("nickName", "Ace"))
    before = describe_user(client, store_id, user_id)
    error = expect_error(
        "ConflictException",
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[_op("nickName", "Lost update")],
        Revision=stale,
    )
    assert error["Reason"] == "CONCURRENT_MODIFICATION"
    assert describe_user(client, store_id, user_id) == before


def test_update_user_with_a_future_revision(client: Any, store_id: str, user_id: str) -> None:
    current = int(describe_user(client, store_id, user_id)["Revision"])
    error = expect_error(
        "ConflictException",
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[_op("nickName", "x")],
        Revision=str(current + 1),
    )
    assert error["Reason"] == "CONCURRENT_MODIFICATION"
    assert describe_user(client, store_id, user_id)["NickName"] == "Al"


def test_update_group_with_the_current_and_a_stale_revision(
    client: Any, store_id: str, group_id: str
) -> None:
    current = describe_group(client, store_id, group_id)["Revision"]
    out = client.update_group(
        IdentityStoreId=store_id,
        GroupId=group_id,
        Operations=[_op("description", "Fresh")],
        Revision=current,
    )
    before = describe_group(client, store_id, group_id)
    error = expect_error(
        "ConflictException",
        client.update_group,
        IdentityStoreId=store_id,
        GroupId=group_id,
        Operations=[_op("description", "Lost update")],
        Revision=current,
    )
    assert error["Reason"] == "CONCURRENT_MODIFICATION"
    assert describe_group(client, store_id, group_id) == before
    assert before["Revision"] == out["Revision"]
    assert before["Description"] == "Fresh"


def test_delete_user_with_a_stale_revision(client: Any, store_id: str, user_id: str) -> None:
    stale = describe_user(client, store_id, user_id)["Revision"]
    current = _update_user(client, store_id, user_id, _op("nickName", "Ace"))["Revision"]
    error = expect_error(
        "ConflictException",
        client.delete_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Revision=stale,
    )
    assert error["Reason"] == "CONCURRENT_MODIFICATION"
    assert describe_user(client, store_id, user_id)["Revision"] == current
    client.delete_user(IdentityStoreId=store_id, UserId=user_id, Revision=current)
    assert client.list_users(IdentityStoreId=store_id)["Users"] == []


def test_delete_group_with_a_stale_revision(client: Any, store_id: str, group_id: str) -> None:
    stale = describe_group(client, store_id, group_id)["Revision"]
    current = _update_group(client, store_id, group_id, _op("description", "x"))["Revision"]
    error = expect_error(
        "ConflictException",
        client.delete_group,
        IdentityStoreId=store_id,
        GroupId=group_id,
        Revision=stale,
    )
    assert error["Reason"] == "CONCURRENT_MODIFICATION"
    assert describe_group(client, store_id, group_id)["Revision"] == current
    client.delete_group(IdentityStoreId=store_id, GroupId=group_id, Revision=current)
    assert client.list_groups(IdentityStoreId=store_id)["Groups"] == []


def test_a_refused_update_does_not_change_the_revision(
    client: Any, store_id: str, user_id: str
) -> None:
    current = describe_user(client, store_id, user_id)["Revision"]
    expect_error(
        "ValidationException",
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[_op("userStatus", "DISABLED")],
    )
    out = client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[_op("nickName", "Ace")],
        Revision=current,
    )
    assert int(out["Revision"]) > int(current)

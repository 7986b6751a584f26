"""Users: CreateUser, DescribeUser, ListUsers, DeleteUser; attributes, system members,
Extensions (docs/behaviour.md#api-surface, #validation, #identifiers, #other-fields)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import (
    UUID4,
    describe_user,
    expect_error,
    make_user,
    unknown_id,
    user_params,
    without_metadata,
)

ENTERPRISE = "aws:identitystore:enterprise"
CREATED_BY = "arn:aws:iam::000000000000:user/AKIDTESTCLIENT"

# Every settable attribute of a user, with every sub-member set.
FULL_PROFILE: dict[str, Any] = {
    "UserName": "jdoe",
    "DisplayName": "Jane Q. Doe",
    "Name": {
        "Formatted": "Dr. Jane Quinn Doe Jr.",
        "FamilyName": "Doe",
        "GivenName": "Jane",
        "MiddleName": "Quinn",
        "HonorificPrefix": "Dr.",
        "HonorificSuffix": "Jr.",
    },
    "NickName": "JD",
    "ProfileUrl": "https://example.com/people/jdoe",
    "Emails": [{"Value": "jane.doe@example.com", "Type": "work", "Primary": True}],
    "Addresses": [
        {
            "StreetAddress": "1 Main Street",
            "Locality": "Springfield",
            "Region": "IL",
            "PostalCode": "62701",
            "Country": "US",
            "Formatted": "1 Main Street\nSpringfield, IL 62701\nUS",
            "Type": "work",
            "Primary": True,
        }
    ],
    "PhoneNumbers": [{"Value": "+1 555 0100", "Type": "mobile", "Primary": False}],
    "UserType": "Employee",
    "Title": "Staff Engineer",
    "PreferredLanguage": "en-US",
    "Locale": "en_US",
    "Timezone": "America/Chicago",
    "Photos": [
        {
            "Value": "https://example.com/jdoe.png",
            "Type": "photo",
            "Display": "Portrait",
            "Primary": True,
        },
        {"Value": "https://example.com/jdoe-thumb.jpg", "Type": "thumbnail"},
        {"Value": "https://example.com/jdoe.gif"},
    ],
    "Website": "https://jane.example.com",
    "Birthdate": "1990-01-31",
    "Roles": [{"Value": "Developer", "Type": "job", "Primary": True}],
}

ENTERPRISE_DOC: dict[str, Any] = {
    "employeeNumber": "701984",
    "costCenter": "4130",
    "organization": "Universal Studios",
    "division": "Theme Park",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
}


def _create_full(client: Any, store_id: str, **extra: Any) -> str:
    return str(client.create_user(IdentityStoreId=store_id, **FULL_PROFILE, **extra)["UserId"])


# -- CreateUser output -------------------------------------------------------------------------


def test_create_user_returns_ids_arn_and_revision(client: Any, store_id: str) -> None:
    out = without_metadata(client.create_user(**user_params(store_id)))
    assert set(out) == {"IdentityStoreId", "UserId", "UserArn", "Revision"}
    assert out["IdentityStoreId"] == store_id
    assert re.fullmatch(UUID4, out["UserId"])
    assert out["UserArn"] == f"arn:aws:identitystore:::user/{out['UserId']}"
    assert re.fullmatch(r"[0-9]+", out["Revision"])


def test_each_user_gets_a_new_id(client: Any, store_id: str) -> None:
    ids = {make_user(client, store_id, f"user{i}") for i in range(5)}
    assert len(ids) == 5


# -- attributes round-trip ---------------------------------------------------------------------


def test_every_attribute_round_trips_through_describe_user(client: Any, store_id: str) -> None:
    user_id = _create_full(client, store_id)
    user = describe_user(client, store_id, user_id)
    for member, value in FULL_PROFILE.items():
        assert user[member] == value, member


def test_every_attribute_round_trips_through_list_users(client: Any, store_id: str) -> None:
    user_id = _create_full(client, store_id)
    (listed,) = client.list_users(IdentityStoreId=store_id)["Users"]
    assert listed["UserId"] == user_id
    for member, value in FULL_PROFILE.items():
        assert listed[member] == value, member


def test_list_users_returns_the_same_user_as_describe(client: Any, store_id: str) -> None:
    user_id = _create_full(client, store_id)
    (listed,) = client.list_users(IdentityStoreId=store_id)["Users"]
    assert listed == describe_user(client, store_id, user_id)


def test_unicode_values_round_trip(client: Any, store_id: str) -> None:
    params = user_params(
        store_id,
        "josé.müller@例え.jp",
        DisplayName="José Müller\u3000(ホセ)",
        Name={"GivenName": "José", "FamilyName": "Müller"},
        NickName="Señor 😀",
    )
    user_id = client.create_user(**params)["UserId"]
    user = describe_user(client, store_id, user_id)
    assert user["UserName"] == "josé.müller@例え.jp"
    assert user["DisplayName"] == "José Müller\u3000(ホセ)"
    assert user["NickName"] == "Señor 😀"


def test_values_at_the_maximum_lengths_are_accepted(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, "u" * 128, DisplayName="d" * 1024, NickName="n" * 1024)
    user = describe_user(client, store_id, user_id)
    assert user["UserName"] == "u" * 128
    assert user["DisplayName"] == "d" * 1024


def test_a_minimal_user_has_only_what_was_set(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    user = describe_user(client, store_id, user_id)
    assert set(user) == {
        "IdentityStoreId",
        "UserId",
        "UserArn",
        "Revision",
        "UserName",
        "DisplayName",
        "Name",
        "UserStatus",
        "CreatedAt",
        "CreatedBy",
        "UpdatedAt",
        "UpdatedBy",
    }
    assert user["Name"] == {"GivenName": "Alice", "FamilyName": "Example"}


def test_email_elements_may_be_partial(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, Emails=[{"Primary": False}])
    assert describe_user(client, store_id, user_id)["Emails"] == [{"Primary": False}]


# -- system members ----------------------------------------------------------------------------


def test_describe_user_has_system_members(client: Any, store_id: str) -> None:
    before = datetime.now(UTC)
    created = client.create_user(**user_params(store_id))
    after = datetime.now(UTC)
    user = describe_user(client, store_id, created["UserId"])
    assert user["IdentityStoreId"] == store_id
    assert user["UserId"] == created["UserId"]
    assert user["UserArn"] == created["UserArn"]
    assert user["Revision"] == created["Revision"]
    assert user["UserStatus"] == "ENABLED"
    assert isinstance(user["CreatedAt"], datetime)
    assert before - timedelta(seconds=1) <= user["CreatedAt"] <= after + timedelta(seconds=1)
    assert user["UpdatedAt"] == user["CreatedAt"]
    assert user["CreatedBy"] == CREATED_BY
    assert user["UpdatedBy"] == CREATED_BY


def test_created_by_is_the_callers_principal(other_client: Any, store_id: str) -> None:
    user_id = make_user(other_client, store_id)
    user = describe_user(other_client, store_id, user_id)
    assert user["CreatedBy"] == "arn:aws:iam::000000000000:user/AKIDOTHERCLIENT"


def test_timestamps_have_millisecond_precision(client: Any, store_id: str) -> None:
    user = describe_user(client, store_id, make_user(client, store_id))
    assert user["CreatedAt"].microsecond % 1000 == 0


# -- Extensions ----------------------------------------------------------------------------------


def test_extensions_are_returned_only_when_requested_by_describe_user(
    client: Any, store_id: str
) -> None:
    user_id = make_user(client, store_id, Extensions={ENTERPRISE: ENTERPRISE_DOC})
    assert "Extensions" not in describe_user(client, store_id, user_id)
    user = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE])
    assert user["Extensions"] == {ENTERPRISE: ENTERPRISE_DOC}


def test_extensions_are_returned_only_when_requested_by_list_users(
    client: Any, store_id: str
) -> None:
    make_user(client, store_id, Extensions={ENTERPRISE: ENTERPRISE_DOC})
    (plain,) = client.list_users(IdentityStoreId=store_id)["Users"]
    assert "Extensions" not in plain
    (extended,) = client.list_users(IdentityStoreId=store_id, Extensions=[ENTERPRISE])["Users"]
    assert extended["Extensions"] == {ENTERPRISE: ENTERPRISE_DOC}


def test_requested_extensions_are_absent_for_a_user_without_them(
    client: Any, store_id: str
) -> None:
    user_id = make_user(client, store_id)
    assert "Extensions" not in describe_user(client, store_id, user_id, Extensions=[ENTERPRISE])


@pytest.mark.parametrize("manager", ["m-123", {"value": "m-123"}, {"Value": "m-123"}])
def test_manager_is_stored_as_an_object_with_value(
    client: Any, store_id: str, manager: Any
) -> None:
    user_id = make_user(client, store_id, Extensions={ENTERPRISE: {"manager": manager}})
    user = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE])
    assert user["Extensions"] == {ENTERPRISE: {"manager": {"value": "m-123"}}}


def test_create_user_refuses_an_unsupported_extension(client: Any, store_id: str) -> None:
    expect_error(
        "ValidationException",
        client.create_user,
        **user_params(store_id, Extensions={"aws:identitystore:custom": {"department": "x"}}),
    )
    assert client.list_users(IdentityStoreId=store_id)["Users"] == []


def test_create_user_refuses_an_unknown_enterprise_attribute(client: Any, store_id: str) -> None:
    expect_error(
        "ValidationException",
        client.create_user,
        **user_params(store_id, Extensions={ENTERPRISE: {"shoeSize": "42"}}),
    )


@pytest.mark.parametrize("operation", ["describe_user", "list_users"])
def test_reading_an_unsupported_extension_is_refused(
    client: Any, store_id: str, operation: str
) -> None:
    user_id = make_user(client, store_id)
    params: dict[str, Any] = {
        "IdentityStoreId": store_id,
        "Extensions": ["aws:identitystore:custom"],
    }
    if operation == "describe_user":
        params["UserId"] = user_id
    expect_error("ValidationException", getattr(client, operation), **params)


# -- DescribeUser / DeleteUser of missing users ------------------------------------------------


def test_describe_missing_user(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException", client.describe_user, IdentityStoreId=store_id, UserId=missing
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


def test_delete_user(client: Any, store_id: str) -> None:
    keep = make_user(client, store_id, "keep")
    gone = make_user(client, store_id, "gone")
    assert without_metadata(client.delete_user(IdentityStoreId=store_id, UserId=gone)) == {}
    error = expect_error(
        "ResourceNotFoundException", client.describe_user, IdentityStoreId=store_id, UserId=gone
    )
    assert error["ResourceType"] == "USER"
    assert [u["UserId"] for u in client.list_users(IdentityStoreId=store_id)["Users"]] == [keep]


def test_delete_missing_user(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    error = expect_error(
        "ResourceNotFoundException", client.delete_user, IdentityStoreId=store_id, UserId=user_id
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == user_id


def test_a_deleted_users_name_and_email_can_be_reused(client: Any, store_id: str) -> None:
    email = [{"Value": "alice@example.com"}]
    first = make_user(client, store_id, Emails=email)
    client.delete_user(IdentityStoreId=store_id, UserId=first)
    second = make_user(client, store_id, Emails=email)
    assert second != first
    assert describe_user(client, store_id, second)["UserName"] == "alice"


def test_list_users_of_an_empty_store(client: Any, store_id: str) -> None:
    out = without_metadata(client.list_users(IdentityStoreId=store_id))
    assert out == {"Users": []}


def test_users_are_scoped_to_their_store(client: Any, store_id: str, other_store_id: str) -> None:
    user_id = make_user(client, store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_user,
        IdentityStoreId=other_store_id,
        UserId=user_id,
    )
    assert error["ResourceType"] == "USER"
    assert client.list_users(IdentityStoreId=other_store_id)["Users"] == []

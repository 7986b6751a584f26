"""Groups: CreateGroup, DescribeGroup, ListGroups, DeleteGroup (docs/behaviour.md#api-surface,
#validation, #identifiers, #uniqueness)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import (
    UUID4,
    describe_group,
    expect_error,
    make_group,
    unknown_id,
    without_metadata,
)

CREATED_BY = "arn:aws:iam::000000000000:user/AKIDTESTCLIENT"


def test_create_group_returns_ids_arn_and_revision(client: Any, store_id: str) -> None:
    out = without_metadata(client.create_group(IdentityStoreId=store_id, DisplayName="Eng"))
    assert set(out) == {"IdentityStoreId", "GroupId", "GroupArn", "Revision"}
    assert out["IdentityStoreId"] == store_id
    assert re.fullmatch(UUID4, out["GroupId"])
    assert out["GroupArn"] == f"arn:aws:identitystore:::group/{out['GroupId']}"
    assert re.fullmatch(r"[0-9]+", out["Revision"])


def test_describe_group_round_trips_and_has_system_members(client: Any, store_id: str) -> None:
    before = datetime.now(UTC)
    created = client.create_group(
        IdentityStoreId=store_id, DisplayName="Engineering", Description="Builds things"
    )
    after = datetime.now(UTC)
    group = describe_group(client, store_id, created["GroupId"])
    assert group == {
        "IdentityStoreId": store_id,
        "GroupId": created["GroupId"],
        "GroupArn": created["GroupArn"],
        "Revision": created["Revision"],
        "DisplayName": "Engineering",
        "Description": "Builds things",
        "CreatedAt": group["CreatedAt"],
        "CreatedBy": CREATED_BY,
        "UpdatedAt": group["CreatedAt"],
        "UpdatedBy": CREATED_BY,
    }
    assert isinstance(group["CreatedAt"], datetime)
    assert before - timedelta(seconds=1) <= group["CreatedAt"] <= after + timedelta(seconds=1)


def test_group_display_name_may_hold_spaces_and_unicode(client: Any, store_id: str) -> None:
    name = "Équipe\u3000d'ingénierie — 東京 🚀"
    group_id = make_group(client, store_id, name, Description="Line one\nLine two\tend")
    group = describe_group(client, store_id, group_id)
    assert group["DisplayName"] == name
    assert group["Description"] == "Line one\nLine two\tend"


def test_display_name_at_the_maximum_length_is_accepted(client: Any, store_id: str) -> None:
    group_id = make_group(client, store_id, "g" * 1024)
    assert describe_group(client, store_id, group_id)["DisplayName"] == "g" * 1024


def test_a_group_without_display_name_is_allowed(client: Any, store_id: str) -> None:
    # The model leaves DisplayName optional; only users have Identity Center's extra rules.
    group_id = client.create_group(IdentityStoreId=store_id, Description="nameless")["GroupId"]
    group = describe_group(client, store_id, group_id)
    assert "DisplayName" not in group
    assert group["Description"] == "nameless"


def test_list_groups_returns_complete_groups_in_creation_order(client: Any, store_id: str) -> None:
    ids = [make_group(client, store_id, name) for name in ("Zeta", "Alpha", "Mu")]
    groups = client.list_groups(IdentityStoreId=store_id)["Groups"]
    assert [g["GroupId"] for g in groups] == ids
    assert groups[0] == describe_group(client, store_id, ids[0])


def test_list_groups_of_an_empty_store(client: Any, store_id: str) -> None:
    assert without_metadata(client.list_groups(IdentityStoreId=store_id)) == {"Groups": []}


@pytest.mark.parametrize(
    "name", ["Administrator", "administrator", "AWSAdministrators", "awsADMINISTRATORS"]
)
def test_reserved_group_names_are_refused(client: Any, store_id: str, name: str) -> None:
    expect_error(
        "ValidationException", client.create_group, IdentityStoreId=store_id, DisplayName=name
    )
    assert client.list_groups(IdentityStoreId=store_id)["Groups"] == []


@pytest.mark.parametrize("name", ["Administrators", "AWSAdministrator", "Administrator Team"])
def test_names_close_to_reserved_ones_are_allowed(client: Any, store_id: str, name: str) -> None:
    assert (
        describe_group(client, store_id, make_group(client, store_id, name))["DisplayName"] == name
    )


def test_describe_missing_group(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_group,
        IdentityStoreId=store_id,
        GroupId=missing,
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == missing


def test_delete_group(client: Any, store_id: str) -> None:
    keep = make_group(client, store_id, "Keep")
    gone = make_group(client, store_id, "Gone")
    assert without_metadata(client.delete_group(IdentityStoreId=store_id, GroupId=gone)) == {}
    error = expect_error(
        "ResourceNotFoundException", client.describe_group, IdentityStoreId=store_id, GroupId=gone
    )
    assert error["ResourceType"] == "GROUP"
    assert [g["GroupId"] for g in client.list_groups(IdentityStoreId=store_id)["Groups"]] == [keep]


def test_delete_missing_group(client: Any, store_id: str) -> None:
    group_id = make_group(client, store_id)
    client.delete_group(IdentityStoreId=store_id, GroupId=group_id)
    error = expect_error(
        "ResourceNotFoundException", client.delete_group, IdentityStoreId=store_id, GroupId=group_id
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == group_id


def test_a_deleted_groups_name_can_be_reused(client: Any, store_id: str) -> None:
    first = make_group(client, store_id, "Eng")
    client.delete_group(IdentityStoreId=store_id, GroupId=first)
    second = make_group(client, store_id, "Eng")
    assert second != first


def test_groups_are_scoped_to_their_store(client: Any, store_id: str, other_store_id: str) -> None:
    group_id = make_group(client, store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_group,
        IdentityStoreId=other_store_id,
        GroupId=group_id,
    )
    assert error["ResourceType"] == "GROUP"
    assert client.list_groups(IdentityStoreId=other_store_id)["Groups"] == []

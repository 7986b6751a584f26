"""Group memberships: CreateGroupMembership, DescribeGroupMembership, GetGroupMembershipId,
DeleteGroupMembership, ListGroupMemberships, ListGroupMembershipsForMember, IsMemberInGroups
(docs/behaviour.md#uniqueness, #lookups)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.helpers import (
    UUID4,
    expect_error,
    make_group,
    make_membership,
    make_user,
    unknown_id,
    without_metadata,
)

CREATED_BY = "arn:aws:iam::000000000000:user/AKIDTESTCLIENT"


@pytest.fixture
def user_id(client: Any, store_id: str) -> str:
    return make_user(client, store_id)


@pytest.fixture
def group_id(client: Any, store_id: str) -> str:
    return make_group(client, store_id)


def _memberships_of_group(client: Any, store_id: str, group_id: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=store_id, GroupId=group_id
    )
    return [m for page in pages for m in page["GroupMemberships"]]


def _memberships_of_user(client: Any, store_id: str, user_id: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("list_group_memberships_for_member").paginate(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}
    )
    return [m for page in pages for m in page["GroupMemberships"]]


# -- create / describe / get / delete ----------------------------------------------------------


def test_create_group_membership_output(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    out = without_metadata(
        client.create_group_membership(
            IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
        )
    )
    assert set(out) == {"IdentityStoreId", "MembershipId", "MembershipArn"}
    assert out["IdentityStoreId"] == store_id
    assert re.fullmatch(UUID4, out["MembershipId"])
    assert out["MembershipArn"] == f"arn:aws:identitystore:::membership/{out['MembershipId']}"


def test_describe_group_membership(client: Any, store_id: str, user_id: str, group_id: str) -> None:
    membership_id = make_membership(client, store_id, group_id, user_id)
    out = without_metadata(
        client.describe_group_membership(IdentityStoreId=store_id, MembershipId=membership_id)
    )
    assert out == {
        "IdentityStoreId": store_id,
        "MembershipId": membership_id,
        "MembershipArn": f"arn:aws:identitystore:::membership/{membership_id}",
        "GroupId": group_id,
        "MemberId": {"UserId": user_id},
        "CreatedAt": out["CreatedAt"],
        "CreatedBy": CREATED_BY,
        "UpdatedAt": out["CreatedAt"],
        "UpdatedBy": CREATED_BY,
    }
    assert isinstance(out["CreatedAt"], datetime)


def test_get_group_membership_id(client: Any, store_id: str, user_id: str, group_id: str) -> None:
    membership_id = make_membership(client, store_id, group_id, user_id)
    out = without_metadata(
        client.get_group_membership_id(
            IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
        )
    )
    assert out == {
        "IdentityStoreId": store_id,
        "MembershipId": membership_id,
        "MembershipArn": f"arn:aws:identitystore:::membership/{membership_id}",
    }


def test_get_group_membership_id_of_a_non_member(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    error = expect_error(
        "ResourceNotFoundException",
        client.get_group_membership_id,
        IdentityStoreId=store_id,
        GroupId=group_id,
        MemberId={"UserId": user_id},
    )
    assert error["ResourceType"] == "GROUP_MEMBERSHIP"


def test_get_group_membership_id_of_a_missing_group(
    client: Any, store_id: str, user_id: str
) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.get_group_membership_id,
        IdentityStoreId=store_id,
        GroupId=missing,
        MemberId={"UserId": user_id},
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == missing


def test_get_group_membership_id_of_a_missing_user(
    client: Any, store_id: str, group_id: str
) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.get_group_membership_id,
        IdentityStoreId=store_id,
        GroupId=group_id,
        MemberId={"UserId": missing},
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


def test_delete_group_membership(client: Any, store_id: str, user_id: str, group_id: str) -> None:
    membership_id = make_membership(client, store_id, group_id, user_id)
    out = client.delete_group_membership(IdentityStoreId=store_id, MembershipId=membership_id)
    assert without_metadata(out) == {}
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_group_membership,
        IdentityStoreId=store_id,
        MembershipId=membership_id,
    )
    assert error["ResourceType"] == "GROUP_MEMBERSHIP"
    assert error["ResourceId"] == membership_id
    assert _memberships_of_group(client, store_id, group_id) == []
    # The user and the group are untouched, and may be joined again.
    make_membership(client, store_id, group_id, user_id)


@pytest.mark.parametrize("operation", ["describe_group_membership", "delete_group_membership"])
def test_missing_membership(client: Any, store_id: str, operation: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        getattr(client, operation),
        IdentityStoreId=store_id,
        MembershipId=missing,
    )
    assert error["ResourceType"] == "GROUP_MEMBERSHIP"
    assert error["ResourceId"] == missing


def test_duplicate_membership_is_a_conflict(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    first = make_membership(client, store_id, group_id, user_id)
    error = expect_error(
        "ConflictException",
        client.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=group_id,
        MemberId={"UserId": user_id},
    )
    assert error["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    assert [m["MembershipId"] for m in _memberships_of_group(client, store_id, group_id)] == [first]


def test_create_membership_of_a_missing_user(client: Any, store_id: str, group_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=group_id,
        MemberId={"UserId": missing},
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing
    assert _memberships_of_group(client, store_id, group_id) == []


def test_create_membership_in_a_missing_group(client: Any, store_id: str, user_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=missing,
        MemberId={"UserId": user_id},
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == missing
    assert _memberships_of_user(client, store_id, user_id) == []


def test_membership_across_stores_is_refused(
    client: Any, store_id: str, other_store_id: str, user_id: str
) -> None:
    foreign_group = make_group(client, other_store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.create_group_membership,
        IdentityStoreId=store_id,
        GroupId=foreign_group,
        MemberId={"UserId": user_id},
    )
    assert error["ResourceType"] == "GROUP"


def test_memberships_are_scoped_to_their_store(
    client: Any, store_id: str, other_store_id: str, user_id: str, group_id: str
) -> None:
    membership_id = make_membership(client, store_id, group_id, user_id)
    for operation in ("describe_group_membership", "delete_group_membership"):
        error = expect_error(
            "ResourceNotFoundException",
            getattr(client, operation),
            IdentityStoreId=other_store_id,
            MembershipId=membership_id,
        )
        assert error["ResourceType"] == "GROUP_MEMBERSHIP"
    assert [m["MembershipId"] for m in _memberships_of_group(client, store_id, group_id)] == [
        membership_id
    ]


# -- listing -----------------------------------------------------------------------------------


def test_list_group_memberships(client: Any, store_id: str, group_id: str) -> None:
    users = [make_user(client, store_id, f"user{i}") for i in range(3)]
    other_group = make_group(client, store_id, "Other")
    ids = [make_membership(client, store_id, group_id, u) for u in users]
    make_membership(client, store_id, other_group, users[0])
    listed = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)
    assert "NextToken" not in listed
    memberships = listed["GroupMemberships"]
    assert [m["MembershipId"] for m in memberships] == ids
    assert [m["MemberId"] for m in memberships] == [{"UserId": u} for u in users]
    assert {m["GroupId"] for m in memberships} == {group_id}
    first = without_metadata(
        client.describe_group_membership(IdentityStoreId=store_id, MembershipId=ids[0])
    )
    assert memberships[0] == first


def test_list_group_memberships_for_member(client: Any, store_id: str, user_id: str) -> None:
    groups = [make_group(client, store_id, f"Group {i}") for i in range(3)]
    other_user = make_user(client, store_id, "bob")
    ids = [make_membership(client, store_id, g, user_id) for g in groups]
    make_membership(client, store_id, groups[0], other_user)
    listed = client.list_group_memberships_for_member(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}
    )
    assert "NextToken" not in listed
    memberships = listed["GroupMemberships"]
    assert [m["MembershipId"] for m in memberships] == ids
    assert [m["GroupId"] for m in memberships] == groups
    assert all(m["MemberId"] == {"UserId": user_id} for m in memberships)
    assert all(m["MembershipArn"].endswith(m["MembershipId"]) for m in memberships)


def test_empty_membership_lists_are_present(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    by_group = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)
    by_user = client.list_group_memberships_for_member(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}
    )
    assert without_metadata(by_group) == {"GroupMemberships": []}
    assert without_metadata(by_user) == {"GroupMemberships": []}


def test_list_group_memberships_of_a_missing_group(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.list_group_memberships,
        IdentityStoreId=store_id,
        GroupId=missing,
    )
    assert error["ResourceType"] == "GROUP"
    assert error["ResourceId"] == missing


def test_list_group_memberships_for_a_missing_member(client: Any, store_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.list_group_memberships_for_member,
        IdentityStoreId=store_id,
        MemberId={"UserId": missing},
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


# -- IsMemberInGroups --------------------------------------------------------------------------


def test_is_member_in_groups_answers_per_group_in_request_order(
    client: Any, store_id: str, user_id: str
) -> None:
    a, b, c = (make_group(client, store_id, name) for name in ("A", "B", "C"))
    make_membership(client, store_id, a, user_id)
    make_membership(client, store_id, c, user_id)
    out = without_metadata(
        client.is_member_in_groups(
            IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[c, b, a]
        )
    )
    assert out == {
        "Results": [
            {"GroupId": c, "MemberId": {"UserId": user_id}, "MembershipExists": True},
            {"GroupId": b, "MemberId": {"UserId": user_id}, "MembershipExists": False},
            {"GroupId": a, "MemberId": {"UserId": user_id}, "MembershipExists": True},
        ]
    }


def test_is_member_in_a_missing_group_is_false(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    make_membership(client, store_id, group_id, user_id)
    missing = unknown_id(store_id)
    results = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[missing, group_id]
    )["Results"]
    assert [(r["GroupId"], r["MembershipExists"]) for r in results] == [
        (missing, False),
        (group_id, True),
    ]


def test_is_member_in_groups_answers_every_requested_group(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    make_membership(client, store_id, group_id, user_id)
    other = make_group(client, store_id, "Other")
    results = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[group_id, other, group_id]
    )["Results"]
    assert [(r["GroupId"], r["MembershipExists"]) for r in results] == [
        (group_id, True),
        (other, False),
        (group_id, True),
    ]


def test_is_member_in_groups_with_100_groups(client: Any, store_id: str, user_id: str) -> None:
    group_ids = [unknown_id(store_id) for _ in range(100)]
    results = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=group_ids
    )["Results"]
    assert [r["GroupId"] for r in results] == group_ids
    assert not any(r["MembershipExists"] for r in results)


def test_is_member_in_groups_of_a_user_in_hundreds_of_groups(
    client: Any, store_id: str, user_id: str
) -> None:
    # Past 200 memberships the store probes the asked-for groups instead of walking the
    # user's memberships: both ways must give the same answers.
    groups = [make_group(client, store_id, f"G{i}") for i in range(230)]
    for group in groups[:210]:
        make_membership(client, store_id, group, user_id)
    asked = [groups[0], groups[209], groups[210], groups[229], unknown_id(store_id), groups[5]]
    results = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=asked
    )["Results"]
    assert [(r["GroupId"], r["MembershipExists"]) for r in results] == list(
        zip(asked, [True, True, False, False, False, True], strict=True)
    )


def test_is_member_in_groups_of_a_missing_user(client: Any, store_id: str, group_id: str) -> None:
    missing = unknown_id(store_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.is_member_in_groups,
        IdentityStoreId=store_id,
        MemberId={"UserId": missing},
        GroupIds=[group_id],
    )
    assert error["ResourceType"] == "USER"
    assert error["ResourceId"] == missing


# -- cascades ----------------------------------------------------------------------------------


def test_deleting_a_user_deletes_its_memberships(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    other_group = make_group(client, store_id, "Other")
    bob = make_user(client, store_id, "bob")
    gone = [
        make_membership(client, store_id, group_id, user_id),
        make_membership(client, store_id, other_group, user_id),
    ]
    kept = make_membership(client, store_id, group_id, bob)
    client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    for membership_id in gone:
        error = expect_error(
            "ResourceNotFoundException",
            client.describe_group_membership,
            IdentityStoreId=store_id,
            MembershipId=membership_id,
        )
        assert error["ResourceType"] == "GROUP_MEMBERSHIP"
    assert [m["MembershipId"] for m in _memberships_of_group(client, store_id, group_id)] == [kept]
    assert _memberships_of_group(client, store_id, other_group) == []


def test_deleting_a_group_deletes_its_memberships(
    client: Any, store_id: str, user_id: str, group_id: str
) -> None:
    other_group = make_group(client, store_id, "Other")
    gone = make_membership(client, store_id, group_id, user_id)
    kept = make_membership(client, store_id, other_group, user_id)
    client.delete_group(IdentityStoreId=store_id, GroupId=group_id)
    error = expect_error(
        "ResourceNotFoundException",
        client.describe_group_membership,
        IdentityStoreId=store_id,
        MembershipId=gone,
    )
    assert error["ResourceType"] == "GROUP_MEMBERSHIP"
    assert [m["MembershipId"] for m in _memberships_of_user(client, store_id, user_id)] == [kept]
    results = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[group_id]
    )["Results"]
    assert results[0]["MembershipExists"] is False

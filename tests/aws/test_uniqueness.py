"""Uniqueness per identity store (docs/behaviour.md#uniqueness): user names and e-mails, group
display names and memberships, compared case-insensitively; a violation is a ConflictException with
Reason UNIQUENESS_CONSTRAINT_VIOLATION and changes nothing."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import (
    describe_group,
    describe_user,
    expect_error,
    make_group,
    make_user,
    user_names,
    user_params,
)

UNIQUENESS = "UNIQUENESS_CONSTRAINT_VIOLATION"

SAME_NAMES = [
    ("alice", "ALICE"),
    ("Alice", "aLiCe"),
    ("straße", "STRASSE"),
    ("Σίσυφος", "ΣΊΣΥΦΟΣ"),
    ("ǅemal", "ǆEMAL"),
]


def _conflict(call: Any, /, **params: Any) -> dict[str, Any]:
    error = expect_error("ConflictException", call, **params)
    assert error["Reason"] == UNIQUENESS
    return error


# -- users -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), SAME_NAMES)
def test_user_names_are_unique_case_insensitively(
    client: Any, store_id: str, first: str, second: str
) -> None:
    user_id = make_user(client, store_id, first)
    _conflict(client.create_user, **user_params(store_id, second))
    assert user_names(client, store_id) == [first]
    assert describe_user(client, store_id, user_id)["UserName"] == first


def test_user_names_are_stored_as_given(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, "McAlice")
    assert describe_user(client, store_id, user_id)["UserName"] == "McAlice"


def test_distinct_user_names_do_not_conflict(client: Any, store_id: str) -> None:
    make_user(client, store_id, "alice")
    make_user(client, store_id, "alice2")
    make_user(client, store_id, "alicé")
    assert user_names(client, store_id) == ["alice", "alice2", "alicé"]


@pytest.mark.parametrize(
    ("first", "second"),
    [("alice@example.com", "ALICE@EXAMPLE.COM"), ("Alice@Example.com", "alice@example.com")],
)
def test_emails_are_unique_case_insensitively(
    client: Any, store_id: str, first: str, second: str
) -> None:
    make_user(client, store_id, "alice", Emails=[{"Value": first}])
    _conflict(client.create_user, **user_params(store_id, "bob", Emails=[{"Value": second}]))
    assert user_names(client, store_id) == ["alice"]


def test_users_without_email_do_not_conflict(client: Any, store_id: str) -> None:
    make_user(client, store_id, "alice")
    make_user(client, store_id, "bob")
    make_user(client, store_id, "carol", Emails=[{"Type": "work"}])
    make_user(client, store_id, "dave", Emails=[{"Type": "home"}])
    assert user_names(client, store_id) == ["alice", "bob", "carol", "dave"]


def test_renaming_a_user_onto_another_name_is_a_conflict(client: Any, store_id: str) -> None:
    make_user(client, store_id, "alice")
    bob = make_user(client, store_id, "bob")
    before = describe_user(client, store_id, bob)
    _conflict(
        client.update_user,
        IdentityStoreId=store_id,
        UserId=bob,
        Operations=[
            {"AttributePath": "nickName", "AttributeValue": "Bobby"},
            {"AttributePath": "userName", "AttributeValue": "ALICE"},
        ],
    )
    assert describe_user(client, store_id, bob) == before


def test_changing_a_users_email_onto_another_is_a_conflict(client: Any, store_id: str) -> None:
    make_user(client, store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    bob = make_user(client, store_id, "bob", Emails=[{"Value": "bob@example.com"}])
    before = describe_user(client, store_id, bob)
    _conflict(
        client.update_user,
        IdentityStoreId=store_id,
        UserId=bob,
        Operations=[
            {"AttributePath": "emails", "AttributeValue": [{"value": "Alice@Example.COM"}]}
        ],
    )
    assert describe_user(client, store_id, bob) == before


def test_a_user_may_change_the_case_of_its_own_name(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[
            {"AttributePath": "userName", "AttributeValue": "ALICE"},
            {"AttributePath": "emails", "AttributeValue": [{"value": "ALICE@example.com"}]},
        ],
    )
    user = describe_user(client, store_id, user_id)
    assert user["UserName"] == "ALICE"
    assert user["Emails"] == [{"Value": "ALICE@example.com"}]


def test_a_renamed_users_old_name_and_email_are_free(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[
            {"AttributePath": "userName", "AttributeValue": "alicia"},
            {"AttributePath": "emails", "AttributeValue": None},
        ],
    )
    make_user(client, store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    assert user_names(client, store_id) == ["alicia", "alice"]


def test_the_same_user_name_may_exist_in_another_store(
    client: Any, store_id: str, other_store_id: str
) -> None:
    make_user(client, store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    make_user(client, other_store_id, "alice", Emails=[{"Value": "alice@example.com"}])
    assert user_names(client, other_store_id) == ["alice"]


def test_concurrent_creates_of_one_user_name_let_exactly_one_win(
    client: Any, store_id: str
) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def create(i: int) -> None:
        start.wait()
        try:
            client.create_user(**user_params(store_id, "alice" if i % 2 else "ALICE"))
            outcome = "created"
        except ClientError as error:
            outcome = f"{error.response['Error']['Code']}/{error.response.get('Reason')}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(outcomes) == {"created": 1, f"ConflictException/{UNIQUENESS}": 5}
    assert len(user_names(client, store_id)) == 1


# -- groups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"), [("Engineering", "ENGINEERING"), ("Straße Team", "STRASSE TEAM")]
)
def test_group_display_names_are_unique_case_insensitively(
    client: Any, store_id: str, first: str, second: str
) -> None:
    make_group(client, store_id, first)
    _conflict(client.create_group, IdentityStoreId=store_id, DisplayName=second)
    groups = client.list_groups(IdentityStoreId=store_id)["Groups"]
    assert [g["DisplayName"] for g in groups] == [first]


def test_renaming_a_group_onto_another_name_is_a_conflict(client: Any, store_id: str) -> None:
    make_group(client, store_id, "Engineering")
    ops = make_group(client, store_id, "Operations")
    before = describe_group(client, store_id, ops)
    _conflict(
        client.update_group,
        IdentityStoreId=store_id,
        GroupId=ops,
        Operations=[
            {"AttributePath": "description", "AttributeValue": "Runs things"},
            {"AttributePath": "displayName", "AttributeValue": "engineering"},
        ],
    )
    assert describe_group(client, store_id, ops) == before


def test_a_group_may_change_the_case_of_its_own_name(client: Any, store_id: str) -> None:
    group_id = make_group(client, store_id, "engineering")
    client.update_group(
        IdentityStoreId=store_id,
        GroupId=group_id,
        Operations=[{"AttributePath": "displayName", "AttributeValue": "Engineering"}],
    )
    assert describe_group(client, store_id, group_id)["DisplayName"] == "Engineering"


def test_users_and_groups_do_not_share_names(client: Any, store_id: str) -> None:
    make_user(client, store_id, "Engineering")
    make_group(client, store_id, "Engineering")
    assert user_names(client, store_id) == ["Engineering"]

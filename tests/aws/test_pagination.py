"""Listing and pagination (docs/behaviour.md#pagination): MaxResults, creation order, keyset walks
that survive concurrent writes, and signed NextTokens bound to store, operation and filter."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from idstore.store import Store
from tests.helpers import (
    expect_error,
    make_group,
    make_membership,
    make_user,
    without_metadata,
)

TOKEN_PATTERN = re.compile(r"[-a-zA-Z0-9+=/:_]+")


def _walk(call: Callable[..., Any], key: str, id_key: str, **params: Any) -> list[list[str]]:
    """Every page of a listing, by hand, as lists of ids; checks page invariants on the way."""
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        out = call(**params, **({"NextToken": token} if token else {}))
        assert key in out
        pages.append([item[id_key] for item in out[key]])
        token = out.get("NextToken")
        if token is None:
            return pages
        assert TOKEN_PATTERN.fullmatch(token), token
        assert len(pages) < 1000, "the listing does not end"


def _first_token(call: Callable[..., Any], **params: Any) -> str:
    token = call(**params).get("NextToken")
    assert isinstance(token, str)
    return token


# -- MaxResults --------------------------------------------------------------------------------


def test_default_page_size_is_100(client: Any, store_id: str) -> None:
    ids = [make_group(client, store_id, f"Group {i:03}") for i in range(101)]
    first = client.list_groups(IdentityStoreId=store_id)
    assert [g["GroupId"] for g in first["Groups"]] == ids[:100]
    second = client.list_groups(IdentityStoreId=store_id, NextToken=first["NextToken"])
    assert [g["GroupId"] for g in second["Groups"]] == ids[100:]
    assert "NextToken" not in second


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_max_results_bounds_the_page(client: Any, store_id: str, size: int) -> None:
    ids = [make_user(client, store_id, f"user{i}") for i in range(5)]
    pages = _walk(client.list_users, "Users", "UserId", IdentityStoreId=store_id, MaxResults=size)
    assert all(len(page) <= size for page in pages)
    assert all(len(page) == size for page in pages[:-1])
    assert [i for page in pages for i in page] == ids


def test_a_full_last_page_has_no_next_token(client: Any, store_id: str) -> None:
    ids = [make_group(client, store_id, f"G{i}") for i in range(4)]
    pages = _walk(client.list_groups, "Groups", "GroupId", IdentityStoreId=store_id, MaxResults=2)
    assert pages == [ids[:2], ids[2:]]


def test_lists_are_present_on_every_page_even_when_empty(client: Any, store_id: str) -> None:
    group_id = make_group(client, store_id)
    user_id = make_user(client, store_id)
    empty_calls: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
        (
            client.list_users,
            {"Filters": [{"AttributePath": "UserName", "AttributeValue": "x"}]},
            "Users",
        ),
        (
            client.list_groups,
            {"Filters": [{"AttributePath": "DisplayName", "AttributeValue": "x"}]},
            "Groups",
        ),
        (client.list_group_memberships, {"GroupId": group_id}, "GroupMemberships"),
        (
            client.list_group_memberships_for_member,
            {"MemberId": {"UserId": user_id}},
            "GroupMemberships",
        ),
    ]
    for call, params, key in empty_calls:
        out = without_metadata(call(IdentityStoreId=store_id, **params))
        assert out == {key: []}


# -- walks -------------------------------------------------------------------------------------


def test_paginators_walk_users_and_groups_in_creation_order(client: Any, store_id: str) -> None:
    users = [make_user(client, store_id, name) for name in ("zoe", "adam", "mia", "bob", "eve")]
    groups = [make_group(client, store_id, name) for name in ("Zeta", "Alpha", "Mu", "Beta")]
    pages = client.get_paginator("list_users").paginate(
        IdentityStoreId=store_id, PaginationConfig={"PageSize": 2}
    )
    assert [u["UserId"] for page in pages for u in page["Users"]] == users
    pages = client.get_paginator("list_groups").paginate(
        IdentityStoreId=store_id, PaginationConfig={"PageSize": 3}
    )
    assert [g["GroupId"] for page in pages for g in page["Groups"]] == groups


def test_paginators_walk_memberships_in_creation_order(client: Any, store_id: str) -> None:
    users = [make_user(client, store_id, f"user{i}") for i in range(5)]
    groups = [make_group(client, store_id, f"Group {i}") for i in range(5)]
    by_group = [make_membership(client, store_id, groups[0], u) for u in reversed(users)]
    by_user = [by_group[-1]] + [make_membership(client, store_id, g, users[0]) for g in groups[1:]]
    pages = client.get_paginator("list_group_memberships").paginate(
        IdentityStoreId=store_id, GroupId=groups[0], PaginationConfig={"PageSize": 2}
    )
    assert [m["MembershipId"] for page in pages for m in page["GroupMemberships"]] == by_group
    pages = client.get_paginator("list_group_memberships_for_member").paginate(
        IdentityStoreId=store_id, MemberId={"UserId": users[0]}, PaginationConfig={"PageSize": 2}
    )
    assert [m["MembershipId"] for page in pages for m in page["GroupMemberships"]] == by_user


def test_paginator_of_list_identity_stores(client: Any, store_id: str, store: Store) -> None:
    more = [store.create_identity_store(datetime.now(UTC)).store_id for _ in range(3)]
    pages = client.get_paginator("list_identity_stores").paginate(PaginationConfig={"PageSize": 1})
    listed = [s["IdentityStoreId"] for page in pages for s in page["IdentityStores"]]
    assert listed == [store_id, *more]


def test_writes_between_pages_never_repeat_or_skip_items(client: Any, store_id: str) -> None:
    ids = {name: make_user(client, store_id, name) for name in ("u0", "u1", "u2", "u3", "u4", "u5")}
    seen: list[str] = []
    out = client.list_users(IdentityStoreId=store_id, MaxResults=2)
    seen += [u["UserName"] for u in out["Users"]]
    assert seen == ["u0", "u1"]
    # Between pages: delete the last item seen and one not seen yet, insert, and rename.
    client.delete_user(IdentityStoreId=store_id, UserId=ids["u1"])
    client.delete_user(IdentityStoreId=store_id, UserId=ids["u3"])
    make_user(client, store_id, "a-new-first-by-name")
    client.update_user(
        IdentityStoreId=store_id,
        UserId=ids["u4"],
        Operations=[{"AttributePath": "nickName", "AttributeValue": "renamed"}],
    )
    token = out["NextToken"]
    while token:
        out = client.list_users(IdentityStoreId=store_id, MaxResults=2, NextToken=token)
        seen += [u["UserName"] for u in out["Users"]]
        make_user(client, store_id, f"late{len(seen)}")
        token = out.get("NextToken")
    assert len(seen) == len(set(seen))
    for whole_walk in ("u0", "u2", "u4", "u5"):
        assert whole_walk in seen
    assert "u3" not in seen
    assert seen.index("u2") < seen.index("u4") < seen.index("u5")


def test_a_token_can_be_used_again(client: Any, store_id: str) -> None:
    for i in range(4):
        make_group(client, store_id, f"G{i}")
    token = _first_token(client.list_groups, IdentityStoreId=store_id, MaxResults=2)
    again = [
        client.list_groups(IdentityStoreId=store_id, MaxResults=2, NextToken=token)
        for _ in range(2)
    ]
    assert again[0]["Groups"] == again[1]["Groups"]
    assert [g["DisplayName"] for g in again[0]["Groups"]] == ["G2", "G3"]


# -- tokens ------------------------------------------------------------------------------------


def _tampered(token: str) -> list[str]:
    head, _, mac = token.rpartition(":")
    version, _, position = head.partition(":")
    flip = {"A": "B"}.get(mac[0], "A")
    variants = [
        f"{head}:{flip}{mac[1:]}",  # another signature
        f"{head}:{mac[:-2]}",  # a truncated signature
        f"{head}:",  # no signature
        head,
        f"{version}:{position}0:{mac}",  # another position, same signature
        f"{version}:1:{mac}",
        f"v9:{position}:{mac}",
        token + "A",
        "bm90LWEtdG9rZW4=",
        "x",
    ]
    return [v for v in variants if v != token]


def test_tampered_tokens_are_refused(client: Any, store_id: str) -> None:
    for i in range(3):
        make_user(client, store_id, f"user{i}")
    token = _first_token(client.list_users, IdentityStoreId=store_id, MaxResults=1)
    for bad in _tampered(token):
        expect_error(
            "ValidationException",
            client.list_users,
            IdentityStoreId=store_id,
            MaxResults=1,
            NextToken=bad,
        )


def test_a_token_is_bound_to_the_operation(client: Any, store_id: str) -> None:
    for i in range(3):
        make_user(client, store_id, f"user{i}")
        make_group(client, store_id, f"Group {i}")
    users_token = _first_token(client.list_users, IdentityStoreId=store_id, MaxResults=1)
    groups_token = _first_token(client.list_groups, IdentityStoreId=store_id, MaxResults=1)
    expect_error(
        "ValidationException", client.list_groups, IdentityStoreId=store_id, NextToken=users_token
    )
    expect_error(
        "ValidationException", client.list_users, IdentityStoreId=store_id, NextToken=groups_token
    )
    expect_error("ValidationException", client.list_identity_stores, NextToken=users_token)


def test_a_token_is_bound_to_the_store(client: Any, store_id: str, other_store_id: str) -> None:
    for i in range(3):
        make_user(client, store_id, f"user{i}")
        make_user(client, other_store_id, f"user{i}")
    token = _first_token(client.list_users, IdentityStoreId=store_id, MaxResults=1)
    expect_error(
        "ValidationException", client.list_users, IdentityStoreId=other_store_id, NextToken=token
    )


def test_a_token_is_bound_to_the_filter(client: Any, store_id: str) -> None:
    for i in range(3):
        make_user(client, store_id, f"user{i}")
        make_group(client, store_id, f"Group {i}")
    users_token = _first_token(client.list_users, IdentityStoreId=store_id, MaxResults=1)
    expect_error(
        "ValidationException",
        client.list_users,
        IdentityStoreId=store_id,
        NextToken=users_token,
        Filters=[{"AttributePath": "UserName", "AttributeValue": "user2"}],
    )
    groups_token = _first_token(client.list_groups, IdentityStoreId=store_id, MaxResults=1)
    expect_error(
        "ValidationException",
        client.list_groups,
        IdentityStoreId=store_id,
        NextToken=groups_token,
        Filters=[{"AttributePath": "DisplayName", "AttributeValue": "Group 2"}],
    )


def test_a_membership_token_is_bound_to_its_group_and_member(client: Any, store_id: str) -> None:
    users = [make_user(client, store_id, f"user{i}") for i in range(3)]
    groups = [make_group(client, store_id, f"Group {i}") for i in range(3)]
    for user in users:
        for group in groups:
            make_membership(client, store_id, group, user)
    token = _first_token(
        client.list_group_memberships, IdentityStoreId=store_id, GroupId=groups[0], MaxResults=1
    )
    expect_error(
        "ValidationException",
        client.list_group_memberships,
        IdentityStoreId=store_id,
        GroupId=groups[1],
        NextToken=token,
    )
    expect_error(
        "ValidationException",
        client.list_group_memberships_for_member,
        IdentityStoreId=store_id,
        MemberId={"UserId": users[0]},
        NextToken=token,
    )
    member_token = _first_token(
        client.list_group_memberships_for_member,
        IdentityStoreId=store_id,
        MemberId={"UserId": users[0]},
        MaxResults=1,
    )
    expect_error(
        "ValidationException",
        client.list_group_memberships_for_member,
        IdentityStoreId=store_id,
        MemberId={"UserId": users[1]},
        NextToken=member_token,
    )


def test_tokens_stay_within_the_model_pattern(client: Any, store_id: str, store: Store) -> None:
    users = [make_user(client, store_id, f"user{i}") for i in range(3)]
    groups = [make_group(client, store_id, f"Group {i}") for i in range(3)]
    for user in users:
        for group in groups:
            make_membership(client, store_id, group, user)
    store.create_identity_store(datetime.now(UTC))
    tokens = [
        _first_token(client.list_users, IdentityStoreId=store_id, MaxResults=1),
        _first_token(client.list_groups, IdentityStoreId=store_id, MaxResults=1),
        _first_token(
            client.list_group_memberships, IdentityStoreId=store_id, GroupId=groups[0], MaxResults=1
        ),
        _first_token(
            client.list_group_memberships_for_member,
            IdentityStoreId=store_id,
            MemberId={"UserId": users[0]},
            MaxResults=1,
        ),
        _first_token(client.list_identity_stores, MaxResults=1),
    ]
    for token in tokens:
        assert TOKEN_PATTERN.fullmatch(token), token
        assert 1 <= len(token) <= 65535


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def test_tokens_reveal_no_row_numbers(
    client: Any, store_id: str, other_store_id: str, store: Store
) -> None:
    """A token's position is a row number shared by every store: it is sealed, so a client
    of one store cannot read how many rows the others wrote."""
    mine = [make_user(client, store_id, "first")]
    for i in range(40):  # another store's activity moves the shared counter
        make_user(client, other_store_id, f"theirs{i}")
    mine += [make_user(client, store_id, f"mine{i}") for i in range(3)]
    seqs = [store.get_user(store_id, user_id).seq for user_id in mine]
    assert seqs[1] - seqs[0] > 40  # the positions the tokens carry are global row numbers
    tokens: list[str] = []
    for _ in range(3):
        after = {"NextToken": tokens[-1]} if tokens else {}
        tokens.append(
            client.list_users(IdentityStoreId=store_id, MaxResults=1, **after)["NextToken"]
        )
    for token, seq in zip(tokens, seqs, strict=False):
        version, _, body = token.partition(":")
        assert version == "v2" and len(body) == 32
        raw = base64.urlsafe_b64decode(body)
        for width in (4, 8):
            for order in ("big", "little"):
                assert seq.to_bytes(width, order) not in raw, (token, seq)
        assert not {str(seq), _base36(seq)} & set(token.split(":")), (token, seq)
    # Stable: the same page of the same listing yields the same token.
    again = client.list_users(IdentityStoreId=store_id, MaxResults=1, NextToken=tokens[0])
    assert again["NextToken"] == tokens[1]
    assert len(set(tokens)) == 3


def test_old_readable_tokens_are_refused(client: Any, store_id: str, store: Store) -> None:
    """The v1 format carried its position in clear (base36); such a token opens nothing."""
    ids = [make_user(client, store_id, f"user{i}") for i in range(3)]
    seq = store.get_user(store_id, ids[0]).seq
    for old in (f"v1:{seq}:AAAAAAAAAAAAAAAAAAAAAAAA", f"v2:{'A' * 32}", f"v2:{'+' * 32}"):
        expect_error(
            "ValidationException",
            client.list_users,
            IdentityStoreId=store_id,
            MaxResults=1,
            NextToken=old,
        )

"""The Store methods SCIM adds (store/scim.py, store/tokens.py), on every database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from idstore.errors import InvalidInput, NotFound
from idstore.model import GroupData, UserData, now
from idstore.store import Store
from idstore.store.groups import MemberChange


def user(store: Store, store_id: str, name: str) -> str:
    data = UserData(
        {"UserName": name, "DisplayName": name, "Name": {"GivenName": "a", "FamilyName": "b"}}
    )
    return store.create_user(store_id, data, actor="SCIM", at=now(), max_users=1000).user_id


def test_offset_pages_follow_creation_order_with_a_true_total(store: Store, store_id: str) -> None:
    ids = [user(store, store_id, f"u{i}") for i in range(6)]
    assert store.users_at(store_id, 0, 4) == (6, [store.get_user(store_id, i) for i in ids[:4]])
    total, page = store.users_at(store_id, 4, 4)
    assert (total, [u.user_id for u in page]) == (6, ids[4:])
    store.delete_user(store_id, ids[1], expected_revision=None)
    total, page = store.users_at(store_id, 1, 2)
    assert (total, [u.user_id for u in page]) == (5, ids[2:4])
    assert store.users_at(store_id, 5, 10) == (5, [])
    assert store.users_at(store_id, 0, 0) == (5, [])
    group = store.create_group(
        store_id, GroupData({"DisplayName": "g"}), actor="x", at=now(), max_groups=9
    )
    assert store.groups_at(store_id, 0, 10) == (1, [group])
    assert store.groups_at(store_id, 1, 10) == (1, [])
    with pytest.raises(NotFound):
        store.users_at("d-0000000000", 0, 1)


def test_membership_changes_apply_in_order_in_one_transaction(store: Store, store_id: str) -> None:
    a, b, c = (user(store, store_id, n) for n in "abc")
    group = store.create_group(
        store_id, GroupData({"DisplayName": "g"}), actor="x", at=now(), max_groups=9
    )
    gid = group.group_id

    def change(*steps: MemberChange, limit: int = 100) -> None:
        store.change_group(
            store_id,
            gid,
            lambda _: None,
            list(steps),
            actor="SCIM",
            at=now(),
            max_member_changes=limit,
        )

    change(MemberChange("add", (a, b, a)), MemberChange("remove", (a, "nobody")))
    assert store.group_member_ids(store_id, gid) == [b]
    change(MemberChange("clear"), MemberChange("add", (c, a)))
    assert store.group_member_ids(store_id, gid) == [c, a]
    change(MemberChange("replace", (a, b)))
    assert store.group_member_ids(store_id, gid) == [a, b]
    with pytest.raises(InvalidInput):
        change(MemberChange("replace", (c,)), limit=2)  # three changes
    with pytest.raises(NotFound) as missing:
        change(MemberChange("add", (c, "nobody")))
    assert missing.value.resource_type == "USER"
    assert store.group_member_ids(store_id, gid) == [a, b]  # both rolled back
    renamed = store.change_group(
        store_id,
        gid,
        lambda _: GroupData({"DisplayName": "h"}),
        [],
        actor="SCIM",
        at=now(),
        max_member_changes=1,
    )
    assert (renamed.revision, renamed.attributes, renamed.audit.updated_by) == (
        2,
        {"DisplayName": "h"},
        "SCIM",
    )
    with pytest.raises(NotFound):
        store.change_group(
            store_id, "nope", lambda _: None, [], actor="x", at=now(), max_member_changes=1
        )


def test_concurrent_member_adds_all_land(store: Store, store_id: str) -> None:
    users = [user(store, store_id, f"c{i}") for i in range(8)]
    gid = store.create_group(
        store_id, GroupData({"DisplayName": "g"}), actor="x", at=now(), max_groups=9
    ).group_id
    failures: list[BaseException] = []

    def add(user_id: str) -> None:
        try:
            store.change_group(
                store_id,
                gid,
                lambda _: None,
                [MemberChange("add", (user_id,))],
                actor="SCIM",
                at=now(),
                max_member_changes=100,
            )
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=add, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sorted(store.group_member_ids(store_id, gid)) == sorted(users)


def test_token_records(store: Store, store_id: str) -> None:
    at = now()
    record = store.create_scim_token(
        store_id, "t1", "d" * 64, at=at, expires_at=at + timedelta(days=1), max_active=1
    )
    assert store.find_scim_token("d" * 64) == record
    assert store.find_scim_token("e" * 64) is None
    with pytest.raises(NotFound):
        store.create_scim_token("d-0000000000", "t2", "f" * 64, at=at, expires_at=at, max_active=1)

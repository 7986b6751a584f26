"""Nothing half-visible: a SCIM group write is one transaction, seen whole or not at all.

A POST /Groups with members creates the group and its memberships together: when a member is
not a user, nothing is left behind (the name stays free, the counter unchanged), and no other
connection ever sees the group while the request runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idstore.errors import NotFound
from idstore.model import GroupData, UserData, now
from idstore.store import Store, open_store
from idstore.store.groups import Members
from tests.scim.conftest import Scim, create_group, create_user, scim_error


@pytest.fixture
def two_stores(db_url: str, tmp_path: Path, store: Store) -> Iterator[tuple[Store, Store]]:
    """A writer and a reader on the same database, each with connections of its own (an
    in-memory SQLite database is one connection, so SQLite uses a file here)."""
    if db_url == "sqlite://":
        url = f"sqlite:///{tmp_path / 'atomic.db'}"
        writer = open_store(url)
    else:
        url, writer = db_url, store
    reader = open_store(url)
    yield writer, reader
    reader.close()
    if writer is not store:
        writer.close()


def test_a_group_is_not_visible_while_its_creation_runs(
    two_stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, reader = two_stores
    store_id = writer.create_identity_store(now()).store_id
    user = writer.create_user(
        store_id, UserData({"UserName": "member"}), actor="test", at=now(), max_users=10
    )
    seen: list[int] = []
    original = Members._add

    def add(self: Members, user_id: str) -> None:
        if user_id == "nobody":  # mid-request: the group row is written, not committed
            with pytest.raises(NotFound):
                reader.find_group_id(store_id, display_name="Ghost")
            seen.append(reader.get_identity_store(store_id).group_count)
        original(self, user_id)

    monkeypatch.setattr(Members, "_add", add)
    with pytest.raises(NotFound) as missing:
        writer.create_group(
            store_id,
            GroupData({"DisplayName": "Ghost"}),
            actor="test",
            at=now(),
            max_groups=10,
            member_ids=[user.user_id, "nobody"],
        )
    assert missing.value.resource_type == "USER"
    assert seen == [0]
    # Nothing was left behind: no group, no membership, the name is free.
    assert reader.get_identity_store(store_id).group_count == 0
    assert reader.list_user_memberships(store_id, user.user_id, None, 10).items == []
    group = writer.create_group(
        store_id, GroupData({"DisplayName": "Ghost"}), actor="test", at=now(), max_groups=10
    )
    assert reader.get_group(store_id, group.group_id).revision == 1


def test_a_failed_create_leaves_nothing_behind(scim: Scim) -> None:
    alice = create_user(scim, "alice@example.com")
    members = [{"value": alice["id"]}, {"value": "nobody"}]
    for _ in range(2):  # the name stays free for the next attempt
        scim_error(scim.post("/Groups", {"displayName": "H", "members": members}), 400)
    assert scim.get("/Groups", filter='displayName eq "H"').json()["totalResults"] == 0
    assert scim.get("/Groups").json()["totalResults"] == 0
    created = create_group(scim, "H", members=[{"value": alice["id"]}])
    assert [m["value"] for m in created["members"]] == [alice["id"]]


def test_concurrent_readers_see_groups_whole_or_not_at_all(
    scim: Scim, scim_for: Any, store_id: str, scim_token: str
) -> None:
    """Writers create groups with two members (half of them failing on a third, unknown
    member) while a reader polls for them: every group seen has both members; no failed one
    is ever seen."""
    alice = create_user(scim, "alice@example.com")["id"]
    bob = create_user(scim, "bob@example.com")["id"]
    rounds, writers = 15, 3
    problems: list[str] = []
    done = threading.Event()
    reader = scim_for(store_id, scim_token)

    def write(w: int) -> None:
        other = scim_for(store_id, scim_token)
        for i in range(rounds):
            members = [{"value": alice}, {"value": bob}]
            if i % 2:
                members.append({"value": f"nobody-{w}-{i}"})
            response = other.post("/Groups", {"displayName": f"T{w}-{i}", "members": members})
            expected = 400 if i % 2 else 201
            if response.status_code != expected:
                problems.append(f"T{w}-{i}: {response.status_code} {response.text}")

    def read() -> None:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            page = reader.get("/Groups", count="100").json()
            for listed in page.get("Resources", []):  # lists embed no members: read each
                name = listed["displayName"]
                if int(name.split("-")[1]) % 2:
                    problems.append(f"a failed create was visible: {name}")
                group = reader.get(f"/Groups/{listed['id']}").json()
                got = sorted(m["value"] for m in group.get("members", []))
                if got != sorted([alice, bob]):
                    problems.append(f"{name} seen with members {got}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    poller = threading.Thread(target=read)
    poller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    poller.join(120)
    assert problems == []
    listed = scim.get("/Groups", count="100").json()
    assert listed["totalResults"] == writers * ((rounds + 1) // 2)

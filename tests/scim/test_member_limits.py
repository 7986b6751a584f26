"""Large groups over SCIM (docs/limits.md): lists embed no members, and a single group read
embeds at most `scim_max_members`, so a response costs its page size, not the group's size.
The groups have 50,000 members each, the size at which a read used to answer 36 MB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest

from idstore.config import Config
from idstore.model import now
from idstore.store import Store
from idstore.transfer import Reader, import_records
from tests.scim.conftest import Scim

MEMBERS = 50_000
GROUPS = 2


@pytest.fixture
def config() -> Config:
    return Config(scim_max_members=500)


@pytest.fixture
def big_groups(store: Store, store_id: str) -> Iterator[list[str]]:
    """`GROUPS` groups of `MEMBERS` members each, loaded as `idstore import` loads them."""
    prefix = store_id[2:]
    users = [f"{prefix}-{uuid.uuid4()}" for _ in range(MEMBERS)]
    groups = [f"{prefix}-{uuid.uuid4()}" for _ in range(GROUPS)]
    lines = [
        orjson.dumps(
            {
                "kind": "user",
                "UserId": user_id,
                "UserName": f"big{i}",
                "DisplayName": f"Big {i}",
                "Name": {"GivenName": "Big", "FamilyName": str(i)},
            }
        )
        for i, user_id in enumerate(users)
    ]
    lines += [
        orjson.dumps({"kind": "group", "GroupId": g, "DisplayName": f"big group {n}"})
        for n, g in enumerate(groups)
    ]
    lines += [
        orjson.dumps({"kind": "membership", "GroupId": g, "MemberId": {"UserId": u}})
        for g in groups
        for u in users
    ]
    records = Reader(store_id, actor="test", at=now()).read(lines)
    import_records(store, store_id, records)
    yield groups


@pytest.mark.slow  # loads 150,000 records
def test_large_groups_cost_a_page_not_their_size(scim: Scim, big_groups: list[str]) -> None:
    # Lists embed no members, whatever the projection asks for.
    for query in ({}, {"attributes": "members"}, {"filter": 'displayName eq "big group 1"'}):
        response = scim.get("/Groups", **query)
        assert response.status_code == 200
        resources = response.json()["Resources"]
        assert resources
        assert all("members" not in group for group in resources)
        assert len(response.content) < 2_000 * len(resources)
    # A single group embeds the configured number, the first added.
    response = scim.get(f"/Groups/{big_groups[0]}")
    assert response.status_code == 200
    members = response.json()["members"]
    assert len(members) == 500  # of 50,000
    assert len(response.content) < 500 * 200
    response = scim.get(f"/Groups/{big_groups[0]}", excludedAttributes="members")
    assert "members" not in response.json()
    # Membership of any member is still answered, by the filter IdPs use for it.
    first = members[0]["value"]
    found = scim.get("/Groups", filter=f'id eq "{big_groups[1]}" and members eq "{first}"')
    assert found.json()["totalResults"] == 1

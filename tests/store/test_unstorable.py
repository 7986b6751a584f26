"""Text no database can hold, at the Store, and exact timestamps (issue 12, Why items 3 and 5).

PostgreSQL text cannot hold NUL, and no UTF-8 database holds a lone surrogate: the drivers
refuse such parameters before sending anything. The Store answers for them what SQLite
answers for any value that is not there: lookups find nothing, deletes delete nothing, a
membership change naming such a user fails as for an unknown user; and storing one is
InvalidInput, never a driver error. Within one write transaction the refusal leaves the
transaction usable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idstore.errors import InvalidInput, NotFound
from idstore.model import (
    MAX_MS,
    Audit,
    ExternalId,
    GroupData,
    UserData,
    from_ms,
    now,
    storable,
    to_ms,
)
from idstore.store import Store
from idstore.store.bulk import BulkUser
from idstore.store.groups import MemberChange

ODD = ["\x00", "a\x00b", "\ud800", "a\udfffb"]


def _user(name: str) -> UserData:
    return UserData(
        {"UserName": name, "DisplayName": name, "Name": {"GivenName": "A", "FamilyName": "B"}}
    )


@pytest.fixture
def store_id(store: Store) -> str:
    return store.create_identity_store(now()).store_id


@pytest.mark.parametrize("odd", ODD)
def test_lookups_of_text_that_cannot_be_stored_find_nothing(
    store: Store, store_id: str, odd: str
) -> None:
    with pytest.raises(NotFound):
        store.get_user(store_id, odd)
    with pytest.raises(NotFound):
        store.get_group(store_id, odd)
    with pytest.raises(NotFound):
        store.get_membership(store_id, odd)
    for key in ({"user_name": odd}, {"email": odd}, {"external_id": ExternalId("SCIM", odd)}):
        with pytest.raises(NotFound):
            store.find_user_id(store_id, **key)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.find_group_id(store_id, display_name=odd)
    assert store.list_users(store_id, None, 10, user_name=odd).items == []
    with pytest.raises(NotFound):
        store.delete_user(store_id, odd, expected_revision=None)


@pytest.mark.parametrize("odd", ODD)
def test_membership_changes_naming_such_a_user(store: Store, store_id: str, odd: str) -> None:
    user = store.create_user(store_id, _user("alice"), actor="t", at=now(), max_users=10)
    group = store.create_group(
        store_id, GroupData({"DisplayName": "G"}), actor="t", at=now(), max_groups=10
    )

    def change(members: list[MemberChange]) -> None:
        store.change_group(
            store_id,
            group.group_id,
            lambda _: None,
            members,
            actor="t",
            at=now(),
            max_member_changes=100,
        )

    # A remove of it is a no-op, and the transaction goes on to add a real user.
    change([MemberChange("remove", (odd,)), MemberChange("add", (user.user_id,))])
    assert store.group_member_ids(store_id, group.group_id) == [user.user_id]
    with pytest.raises(NotFound) as missing:
        change([MemberChange("add", (odd,))])
    assert missing.value.resource_type == "USER"
    assert store.group_member_ids(store_id, group.group_id) == [user.user_id]


# (SQLite text holds NUL, PostgreSQL's does not: the front ends keep NUL out of every value
# they store, by the model's patterns and the import's checks.)
@pytest.mark.parametrize("odd", ["a\ud800b", "\udfff"])
def test_storing_such_text_is_invalid_input(store: Store, store_id: str, odd: str) -> None:
    with pytest.raises(InvalidInput, match="cannot be stored"):
        store.create_user(store_id, _user("alice"), actor=odd, at=now(), max_users=10)
    record = BulkUser.of(f"{store_id[2:12]}-x", _user("bob"), 1, Audit(0, odd, 0, odd))
    with pytest.raises(InvalidInput, match="cannot be stored"):
        store.import_records(store_id, [record], [], [])
    assert store.list_users(store_id, None, 10).items == []


def test_storable() -> None:
    assert storable("") and storable("alice") and storable("é\U0010ffff\ufffe")
    assert not any(storable(t) for t in ODD)


@pytest.mark.parametrize(
    "at",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_milliseconds_convert_exactly(at: datetime) -> None:
    """Integer arithmetic: floats read 9999-12-31T23:59:59.999 as .998993."""
    assert from_ms(to_ms(at)) == at
    assert to_ms(at + timedelta(microseconds=999)) == to_ms(at)  # floored, whatever the sign
    assert to_ms(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1
    assert MAX_MS == 253402300799999

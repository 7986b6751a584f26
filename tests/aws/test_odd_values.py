"""Regressions of issue 12 (Why items 2 and 5) on the AWS API, through boto3.

- An UpdateUser that sets the whole enterprise extension to a value that is not an object,
  then a member of it, raised ValueError (`dict("0")`): a 500. A list of pairs was silently
  turned into an object. Both are ValidationException now, and change nothing.
- A timestamp before 1970 (stores written before imports were bounded may hold one) read
  one second early: `-1.5` as `-2.500`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from idstore.model import ENTERPRISE_EXTENSION, Audit, UserData
from idstore.store import Store
from idstore.store.bulk import BulkUser
from tests.helpers import describe_user, expect_error, make_user


@pytest.mark.parametrize("whole", ["0", 0, True, ["costCenter", "x"], [["costCenter", "x"]]])
@pytest.mark.parametrize("member", ["costCenter", "manager", "manager.value"])
def test_a_whole_extension_that_is_not_an_object_is_a_validation_error(
    client: Any, store_id: str, whole: Any, member: str
) -> None:
    user_id = make_user(client, store_id)
    before = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE_EXTENSION])
    response = expect_error(
        "ValidationException",
        client.update_user,
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[
            {"AttributePath": ENTERPRISE_EXTENSION, "AttributeValue": whole},
            {"AttributePath": f"{ENTERPRISE_EXTENSION}.{member}", "AttributeValue": "x"},
        ],
    )
    assert "must be an object" in response["Error"]["Message"]
    assert describe_user(client, store_id, user_id, Extensions=[ENTERPRISE_EXTENSION]) == before


def test_a_whole_extension_object_then_a_member_still_works(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[
            {"AttributePath": ENTERPRISE_EXTENSION, "AttributeValue": {"division": "D"}},
            {"AttributePath": f"{ENTERPRISE_EXTENSION}.costCenter", "AttributeValue": "C"},
        ],
    )
    user = describe_user(client, store_id, user_id, Extensions=[ENTERPRISE_EXTENSION])
    assert user["Extensions"] == {ENTERPRISE_EXTENSION: {"division": "D", "costCenter": "C"}}


@pytest.mark.parametrize(
    ("ms", "text"), [(-1500, "-1.500"), (-1, "-0.001"), (-1000, "-1.000"), (1500, "1.500")]
)
def test_timestamps_before_1970_render_exactly(
    client: Any, store: Store, store_id: str, ms: int, text: str
) -> None:
    user_id = f"{store_id[2:12]}-00000000-0000-4000-8000-000000000001"
    data = UserData(
        {"UserName": "old", "DisplayName": "Old", "Name": {"GivenName": "O", "FamilyName": "L"}}
    )
    store.import_records(store_id, [BulkUser.of(user_id, data, 1, Audit(ms, "a", ms, "a"))], [], [])
    raw: dict[str, bytes] = {}
    client.meta.events.register(
        "after-call.identitystore.*",
        lambda http_response, model, **_: raw.__setitem__(model.name, http_response.content),
    )
    client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    client.list_users(IdentityStoreId=store_id)
    for operation in ("DescribeUser", "ListUsers"):
        assert f'"CreatedAt":{text},'.encode() in raw[operation], raw[operation]
    assert json.loads(raw["DescribeUser"])["UpdatedAt"] == ms / 1000

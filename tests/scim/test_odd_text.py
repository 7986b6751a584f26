"""Regressions of issue 12 (Why item 3): text no database can hold, in SCIM requests, over HTTP.

A lone surrogate (`\\ud800`, as a JSON escape in a filter) was a 500 on both databases; a NUL
in a filter value, a member id or a resource id (`/Users/%00`) was a 500 on PostgreSQL, whose
text cannot hold NUL. No stored value can equal such text, so it selects nothing and names
nothing, alike on both databases. And a newline in the path (`%0A`) sent the request to the AWS
front end.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.scim.conftest import CORE_GROUP, LIST, Scim, new_user, scim_error

# As a filter or PATCH path spells them: JSON escapes inside a quoted value. (A raw control
# character in a quoted value is invalid syntax, as in JSON.)
ODD = [r"\ud800", r"a\udfffb", r"\u0000", r"a\u0000b"]


@pytest.fixture
def alice(scim: Scim) -> str:
    response = scim.post("/Users", new_user("alice@example.com"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def group(scim: Scim, alice: str) -> str:
    body = {"schemas": [CORE_GROUP], "displayName": "Admins", "members": [{"value": alice}]}
    response = scim.post("/Groups", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _empty(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["schemas"] == [LIST]
    assert response.json()["totalResults"] == 0


USER_FILTERS = [
    'userName eq "{}"',
    'externalId eq "{}"',
    'id eq "{}"',
    'emails.value eq "{}"',
    'emails[type eq "work"].value eq "{}"',
    'userName eq "alice@example.com" and id eq "{}"',
]
GROUP_FILTERS = [
    'displayName eq "{}"',
    'externalId eq "{}"',
    'id eq "{}"',
    'id eq "<group>" and members eq "{}"',
]


@pytest.mark.parametrize("odd", ODD)
def test_filters_with_odd_text_select_nothing(scim: Scim, group: str, odd: str) -> None:
    for template in USER_FILTERS:
        _empty(scim.get("/Users", filter=template.format(odd)))
        _empty(scim.post("/Users/.search", {"filter": template.format(odd)}))
    for template in GROUP_FILTERS:
        _empty(scim.get("/Groups", filter=template.format(odd).replace("<group>", group)))
    _empty(scim.post("/.search", {"filter": USER_FILTERS[0].format(odd)}))


def test_a_raw_control_character_in_a_filter_value_is_invalid(scim: Scim) -> None:
    scim_error(scim.get("/Users", filter='userName eq "a\x00"'), 400, "invalidFilter")


@pytest.mark.parametrize("kind", ["Users", "Groups"])
@pytest.mark.parametrize("odd", ["%00", "a%00b", "%0A", "%ED%A0%80"])
def test_odd_resource_ids_are_not_found(
    scim: Scim, alice: str, group: str, kind: str, odd: str
) -> None:
    put = new_user("carol@example.com") if kind == "Users" else {"displayName": "C"}
    patch = {"Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}
    for method, body in (("GET", None), ("PUT", put), ("PATCH", patch), ("DELETE", None)):
        scim_error(scim.request(method, f"/{kind}/{odd}", body), 404)
    assert scim.get(f"/Users/{alice}").status_code == 200
    assert scim.get(f"/Groups/{group}").status_code == 200


def test_a_member_id_with_nul_is_not_a_user(scim: Scim, group: str) -> None:
    value = [{"value": "a\x00b"}]
    added = scim.patch(f"/Groups/{group}", {"op": "add", "path": "members", "value": value})
    assert "not a user of this identity store" in scim_error(added, 400, "invalidValue")["detail"]
    created = scim.post(
        "/Groups", {"schemas": [CORE_GROUP], "displayName": "Other", "members": value}
    )
    scim_error(created, 400, "invalidValue")
    # Removing a non-member changes nothing.
    removed = scim.patch(f"/Groups/{group}", {"op": "remove", "path": "members", "value": value})
    assert removed.status_code == 204, removed.text
    assert len(scim.get(f"/Groups/{group}").json()["members"]) == 1


@pytest.mark.parametrize("odd", ODD)
def test_removing_a_member_that_cannot_be_stored_changes_nothing(
    scim: Scim, group: str, odd: str
) -> None:
    removed = scim.patch(f"/Groups/{group}", {"op": "remove", "path": f'members[value eq "{odd}"]'})
    assert removed.status_code == 204, removed.text
    assert len(scim.get(f"/Groups/{group}").json()["members"]) == 1

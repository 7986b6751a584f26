"""Okta: the steps of its "SCIM 2.0 SPEC Test" (Runscope), then the requests Okta sends.

The SPEC test is ported step by step from Okta's guide (as scim2-server's test_okta.py also
translates it), against one pre-existing user. Its optional "GET /Groups within 600 ms" step is
kept without the timing, which measures the machine rather than the server. Then Okta's own
request shapes (its SCIM 2.0 reference): create with `password` and `groups: []`, profile
updates as PUT of the whole user, (de)activation as a no-path PATCH, paging by startIndex, and
groups: create with `members: []`, rename with `id` in the value, membership add/remove, and
group push as `replace members`.
"""

from __future__ import annotations

from typing import Any

from tests.scim.conftest import (
    CORE_GROUP,
    CORE_USER,
    ERROR,
    LIST,
    Scim,
    create_group,
    create_user,
    scim_error,
)

OKTA_HEADERS = {
    "Accept-Charset": "utf-8",
    "Accept": "application/scim+json",
    "User-Agent": "OKTA SCIM Integration",
}
INVALID_USER_EMAIL = "abcdefgh@example.com"
RANDOM_EMAIL = "Runscope300Hfluaklab151@example.com"
RANDOM_FAMILY_NAME = "Hfluaklab151"
RANDOM_GIVEN_NAME = "Runscope300"
RANDOM_USER_NAME = "Runscope300Hfluaklab151@example.com"
RANDOM_USER_NAME_CAPS = "RUNSCOPE300HFLUAKLAB151@example.com"
USER_ID_THAT_DOES_NOT_EXIST = "010101001010101011001010101011"


def okta_user(user_name: str, given: str, family: str, email: str) -> dict[str, Any]:
    """The user body of Okta's SPEC test (with what Okta adds on create)."""
    return {
        "schemas": [CORE_USER],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def get(scim: Scim, path: str, **params: str) -> Any:
    response = scim.request("GET", path, params=params or None, headers=OKTA_HEADERS)
    return response


def test_okta_scim_2_spec_test(scim: Scim) -> None:
    # Setup: the one user the SPEC test expects to find.
    setup = okta_user("bjensen@example.com", "Barbara", "Jensen", "bjensen@example.com")
    setup["externalId"] = "00u1setup"
    assert scim.post("/Users", setup).status_code == 201

    # Required: Test Users endpoint.
    response = get(scim, "/Users", count="1", startIndex="1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/scim+json")
    page = response.json()
    assert page["Resources"]
    assert LIST in page["schemas"]
    assert all(isinstance(page[k], int) for k in ("itemsPerPage", "startIndex", "totalResults"))
    first = page["Resources"][0]
    assert first["id"] and first["userName"]
    assert first["name"]["familyName"] and first["name"]["givenName"]
    assert first["active"] is not None
    assert first["emails"][0]["value"] is not None
    isv_user_id = first["id"]

    # Required: Get Users/{{id}}.
    response = get(scim, f"/Users/{isv_user_id}")
    assert response.status_code == 200
    user = response.json()
    assert user["id"] == isv_user_id
    assert user["name"]["familyName"] and user["name"]["givenName"]
    assert user["userName"] and user["active"] is not None and user["emails"][0]["value"]

    # Required: Test invalid User by username.
    response = get(scim, "/Users", filter=f'userName eq "{INVALID_USER_EMAIL}"')
    assert response.status_code == 200
    assert LIST in response.json()["schemas"]
    assert response.json()["totalResults"] == 0

    # Required: Test invalid User by ID.
    response = get(scim, f"/Users/{USER_ID_THAT_DOES_NOT_EXIST}")
    assert response.status_code == 404
    assert "detail" in response.json()
    assert ERROR in response.json()["schemas"]

    # Required: Make sure random user doesn't exist.
    response = get(scim, "/Users", filter=f'userName eq "{RANDOM_EMAIL}"')
    assert response.status_code == 200
    assert response.json()["totalResults"] == 0

    # Required: Create Okta user with realistic values.
    body = okta_user(RANDOM_USER_NAME, RANDOM_GIVEN_NAME, RANDOM_FAMILY_NAME, RANDOM_EMAIL)
    response = scim.post("/Users", body)
    assert response.status_code == 201
    created = response.json()
    assert created["active"] is True
    assert created["name"]["familyName"] == RANDOM_FAMILY_NAME
    assert created["name"]["givenName"] == RANDOM_GIVEN_NAME
    assert CORE_USER in created["schemas"]
    assert created["userName"] == RANDOM_USER_NAME
    assert created["emails"][0]["value"] == RANDOM_EMAIL
    assert "password" not in created and "groups" not in created
    assert response.headers["location"] == created["meta"]["location"]
    id_user_one = created["id"]

    # Required: Verify that user was created.
    response = get(scim, f"/Users/{id_user_one}")
    assert response.status_code == 200
    assert response.json()["userName"] == RANDOM_USER_NAME
    assert response.json()["name"]["familyName"] == RANDOM_FAMILY_NAME
    assert response.json()["name"]["givenName"] == RANDOM_GIVEN_NAME

    # Required: Expect failure when recreating user with same values.
    again = okta_user(RANDOM_USER_NAME, RANDOM_GIVEN_NAME, RANDOM_FAMILY_NAME, RANDOM_USER_NAME)
    scim_error(scim.post("/Users", again), 409, "uniqueness")

    # Required: Username Case Sensitivity Check.
    response = get(scim, "/Users", filter=f'userName eq "{RANDOM_USER_NAME_CAPS}"')
    assert response.status_code == 200
    assert response.json()["totalResults"] == 1
    assert response.json()["Resources"][0]["id"] == id_user_one

    # Optional: Verify Groups endpoint.
    response = get(scim, "/Groups")
    assert response.status_code == 200
    assert isinstance(response.json()["totalResults"], int)
    assert isinstance(response.json()["Resources"], list)

    # Required: Check status 404.
    response = get(scim, f"/Users/{USER_ID_THAT_DOES_NOT_EXIST}")
    assert response.status_code == 404
    assert response.json()["status"] == "404"
    assert ERROR in response.json()["schemas"]


def test_okta_updates_a_profile_with_put_of_the_whole_user(scim: Scim) -> None:
    created = create_user(scim, "dade@example.com", title="Engineer", nickName="Zero")
    user = get(scim, f"/Users/{created['id']}").json()
    user["name"]["givenName"] = "Dade"
    user["title"] = "Principal Engineer"
    del user["nickName"]  # cleared in Okta: omitted from the PUT
    user["password"] = "t1meMa$heen"
    response = scim.put(f"/Users/{created['id']}", user)
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["name"]["givenName"] == "Dade"
    assert replaced["title"] == "Principal Engineer"
    assert "nickName" not in replaced
    assert replaced["meta"]["created"] == created["meta"]["created"]
    assert get(scim, f"/Users/{created['id']}").json() == replaced


def test_okta_deactivates_and_reactivates_with_a_no_path_patch(scim: Scim) -> None:
    user = create_user(scim, "ramon@example.com")
    response = scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": False}})
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert get(scim, f"/Users/{user['id']}").json()["active"] is False  # still retrievable
    scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": True}})
    assert get(scim, f"/Users/{user['id']}").json()["active"] is True


def test_okta_pages_by_start_index_in_a_stable_order(scim: Scim) -> None:
    names = [f"user{i:02d}@example.com" for i in range(7)]
    for name in names:
        create_user(scim, name)
    seen: list[str] = []
    start = 1
    while True:
        page = get(scim, "/Users", startIndex=str(start), count="3").json()
        assert page["totalResults"] == 7
        assert page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"])
        if not page["Resources"]:
            break
        seen += [u["userName"] for u in page["Resources"]]
        start += page["itemsPerPage"]
    assert seen == names


def test_okta_group_life_cycle(scim: Scim) -> None:
    alice = create_user(scim, "alice@example.com")
    bob = create_user(scim, "bob@example.com")
    carol = create_user(scim, "carol@example.com")

    response = scim.post(
        "/Groups", {"schemas": [CORE_GROUP], "displayName": "Admins", "members": []}
    )
    assert response.status_code == 201
    group = response.json()
    assert group["displayName"] == "Admins"
    path = f"/Groups/{group['id']}"

    # Rename: Okta puts the group's id in the value; it is ignored.
    response = scim.patch(
        path, {"op": "replace", "value": {"id": group["id"], "displayName": "Administrators 2"}}
    )
    assert response.status_code == 204
    assert get(scim, path).json()["displayName"] == "Administrators 2"

    # Membership: remove by path filter, add by value list, in one request.
    scim.patch(path, {"op": "add", "path": "members", "value": [{"value": alice["id"]}]})
    response = scim.patch(
        path,
        {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
        {"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "bob"}]},
    )
    assert response.status_code == 204
    assert [m["value"] for m in get(scim, path).json()["members"]] == [bob["id"]]

    # Group push: replace the whole membership (AWS refuses this form; idstore accepts it).
    response = scim.patch(
        path,
        {
            "op": "replace",
            "path": "members",
            "value": [{"value": carol["id"]}, {"value": alice["id"]}],
        },
    )
    assert response.status_code == 204
    members = [m["value"] for m in get(scim, path).json()["members"]]
    assert sorted(members) == sorted([carol["id"], alice["id"]])

    assert scim.delete(path).status_code == 204
    scim_error(get(scim, path), 404)


def test_okta_creates_a_group_with_its_members(scim: Scim) -> None:
    alice = create_user(scim, "alice@example.com")
    group = create_group(scim, "Everyone", members=[{"value": alice["id"], "display": "Alice"}])
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    assert group["members"][0]["$ref"].endswith(f"/Users/{alice['id']}")

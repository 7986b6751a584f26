"""The SCIM protocol surface: media types, errors, filters, paging, PATCH rules, limits.

Malformed input of every kind gets a SCIM error body with a 4xx status, never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.scim.conftest import (
    CORE_USER,
    ENTERPRISE,
    LIST,
    PATCH_OP,
    Scim,
    create_group,
    create_user,
    new_user,
    scim_error,
)

# -- media types and bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    "media", ["application/scim+json", "application/json", "application/json; charset=utf-8", None]
)
def test_json_bodies_are_read_under_any_json_media_type(scim: Scim, media: str | None) -> None:
    headers = {} if media is None else {"Content-Type": media}
    response = scim.request(
        "POST", "/Users", content=json.dumps(new_user()).encode(), headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/scim+json"


def test_a_non_json_media_type_is_415(scim: Scim) -> None:
    response = scim.request(
        "POST",
        "/Users",
        content=json.dumps(new_user()).encode(),
        headers={"Content-Type": "text/plain"},
    )
    scim_error(response, 415)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b'"user"',
        b"null",
        b"\xff\xfe",
        b'{"userName": "a"' + b"}" * 3,
    ],
)
def test_a_body_that_is_not_a_json_object_is_invalid_syntax(scim: Scim, content: bytes) -> None:
    response = scim.request(
        "POST", "/Users", content=content, headers={"Content-Type": "application/scim+json"}
    )
    scim_error(response, 400, "invalidSyntax")


def test_a_body_over_the_limit_is_413(scim: Scim) -> None:
    body = new_user(title="x" * (1024 * 1024))
    scim_error(scim.post("/Users", body), 413)


# -- endpoints and methods -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/Nope", "/Users/a/b", "/Schemas/urn:nope", "/ResourceTypes/Device", "/Users/nope"],
)
def test_unknown_endpoints_and_resources_are_404(scim: Scim, path: str) -> None:
    scim_error(scim.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ServiceProviderConfig"),
        ("PUT", "/Schemas"),
        ("DELETE", "/ResourceTypes"),
        ("PATCH", "/Users"),
        ("DELETE", "/Groups"),
        ("POST", "/Users/some-id"),
        ("GET", "/.search"),
    ],
)
def test_methods_an_endpoint_does_not_serve_are_405(scim: Scim, method: str, path: str) -> None:
    scim_error(scim.request(method, path), 405)


@pytest.mark.parametrize("path", ["/Bulk", "/Me"])
def test_bulk_and_me_are_not_implemented(scim: Scim, path: str) -> None:
    scim_error(scim.get(path), 501)


def test_endpoint_names_and_query_parameters_match_in_any_case(scim: Scim) -> None:
    created = create_user(scim)
    response = scim.request("GET", f"/users/{created['id']}", params={"Attributes": "userName"})
    assert response.status_code == 200
    assert set(response.json()) == {"schemas", "id", "userName"}


# -- filters ---------------------------------------------------------------------------------


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST]
    return [r["id"] for r in body["Resources"]]


def test_user_filters(scim: Scim) -> None:
    alice = create_user(scim, "Alice@Example.com", externalId="ALICE-1")
    create_user(scim, "bob@example.com", externalId="bob-1")
    assert ids(scim.get("/Users", filter='userName eq "alice@example.COM"')) == [alice["id"]]
    assert ids(scim.get("/Users", filter='USERNAME EQ "alice@example.com"')) == [alice["id"]]
    assert ids(scim.get("/Users", filter=f'{CORE_USER}:userName eq "alice@example.com"')) == [
        alice["id"]
    ]
    assert ids(scim.get("/Users", filter='externalId eq "ALICE-1"')) == [alice["id"]]
    assert ids(scim.get("/Users", filter='externalId eq "alice-1"')) == []  # caseExact
    assert ids(scim.get("/Users", filter=f'id eq "{alice["id"]}"')) == [alice["id"]]
    assert ids(
        scim.get("/Users", filter=f'id eq "{alice["id"]}" and userName eq "alice@example.com"')
    ) == [alice["id"]]
    assert (
        ids(scim.get("/Users", filter=f'id eq "{alice["id"]}" and userName eq "bob@example.com"'))
        == []
    )
    assert ids(scim.get("/Users", filter='emails.value eq "ALICE@example.com"')) == [alice["id"]]
    assert ids(scim.get("/Users", filter='emails[value eq "alice@example.com"]')) == [alice["id"]]
    assert (
        ids(scim.get("/Users", filter='emails[type eq "home"].value eq "alice@example.com"')) == []
    )
    assert ids(scim.get("/Users", filter='id eq "nope"')) == []
    assert ids(scim.get("/Users", filter="   ")) and True


def test_group_filters_and_the_membership_probe(scim: Scim) -> None:
    alice = create_user(scim, "alice@example.com")
    bob = create_user(scim, "bob@example.com")
    group = create_group(scim, "Engineering", externalId="eng", members=[{"value": alice["id"]}])
    create_group(scim, "Sales")
    assert ids(scim.get("/Groups", filter='displayName eq "ENGINEERING"')) == [group["id"]]
    assert ids(scim.get("/Groups", filter='externalId eq "eng"')) == [group["id"]]
    probe = 'id eq "{g}" and members eq "{u}"'
    assert ids(scim.get("/Groups", filter=probe.format(g=group["id"], u=alice["id"]))) == [
        group["id"]
    ]
    assert ids(scim.get("/Groups", filter=probe.format(g=group["id"], u=bob["id"]))) == []
    assert ids(scim.get("/Groups", filter=probe.format(g=group["id"], u="nobody"))) == []
    reversed_probe = f'members.value eq "{alice["id"]}" and displayName eq "engineering"'
    assert ids(scim.get("/Groups", filter=reversed_probe)) == [group["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "userName eq",
        'userName sw "a"',
        'userName eq "a" or userName eq "b"',
        'not (userName eq "a")',
        "title pr",
        'displayName eq "x"',
        'name.familyName eq "Jensen"',
        'meta.lastModified gt "2020-01-01T00:00:00Z"',
        'emails[type eq "work"]',
        "userName eq true",
        f'{ENTERPRISE}:employeeNumber eq "1"',
        "((((",
    ],
)
def test_unsupported_user_filters_are_invalid_filter(scim: Scim, query: str) -> None:
    scim_error(scim.get("/Users", filter=query), 400, "invalidFilter")


@pytest.mark.parametrize(
    "query", ['members eq "u"', 'userName eq "a"', 'displayName co "x"', 'members[value eq "u"]']
)
def test_unsupported_group_filters_are_invalid_filter(scim: Scim, query: str) -> None:
    scim_error(scim.get("/Groups", filter=query), 400, "invalidFilter")


def test_root_search_covers_both_resource_types(scim: Scim) -> None:
    user = create_user(scim, "alice@example.com")
    group = create_group(scim, "Ops")
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    assert ids(scim.post("/.search", search)) == [user["id"], group["id"]]
    assert ids(scim.post("/.search", {**search, "filter": 'displayName eq "ops"'})) == [group["id"]]
    assert ids(
        scim.post("/Users/.search", {**search, "filter": 'userName eq "ALICE@example.com"'})
    ) == [user["id"]]
    page = scim.post(
        "/.search", {**search, "startIndex": 2, "count": 1, "attributes": ["displayName"]}
    ).json()
    assert page["totalResults"] == 2
    assert page["Resources"] == [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": group["id"],
            "displayName": "Ops",
        }
    ]


# -- paging ----------------------------------------------------------------------------------


def test_paging_has_a_true_total_and_the_items_returned(scim: Scim) -> None:
    created = [create_user(scim, f"user{i}@example.com")["id"] for i in range(5)]

    def page(**params: str) -> dict[str, Any]:
        response = scim.get("/Users", **params)
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    first = page(count="2")
    assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (5, 1, 2)
    assert [u["id"] for u in first["Resources"]] == created[:2]
    last = page(startIndex="5", count="2")
    assert (last["totalResults"], last["itemsPerPage"]) == (5, 1)
    assert [u["id"] for u in last["Resources"]] == created[4:]
    beyond = page(startIndex="9")
    assert (beyond["totalResults"], beyond["itemsPerPage"], beyond["Resources"]) == (5, 0, [])
    assert page(count="0") == {
        "schemas": [LIST],
        "totalResults": 5,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    assert page(startIndex="0", count="1")["startIndex"] == 1  # less than 1 is 1
    assert page(startIndex="-3")["itemsPerPage"] == 5
    assert page(count="-1")["itemsPerPage"] == 0
    filtered = page(filter='userName eq "user3@example.com"', startIndex="2")
    assert (filtered["totalResults"], filtered["itemsPerPage"]) == (1, 0)


def test_count_is_capped_at_100(scim: Scim, client: Any, store_id: str) -> None:
    for i in range(101):
        client.create_user(
            IdentityStoreId=store_id,
            UserName=f"u{i}",
            DisplayName="U",
            Name={"GivenName": "U", "FamilyName": "U"},
        )
    page = scim.get("/Users", count="500").json()
    assert (page["totalResults"], page["itemsPerPage"]) == (101, 100)
    rest = scim.get("/Users", startIndex="101").json()
    assert [u["userName"] for u in rest["Resources"]] == ["u100"]


@pytest.mark.parametrize("params", [{"count": "ten"}, {"startIndex": "1.5"}, {"count": ""}])
def test_paging_parameters_must_be_integers(scim: Scim, params: dict[str, str]) -> None:
    response = scim.get("/Users", **params)
    if params.get("count") == "":
        assert response.status_code == 200  # empty means absent
    else:
        scim_error(response, 400, "invalidValue")


# -- PATCH rules -----------------------------------------------------------------------------


def patch(scim: Scim, path: str, *operations: Any, body: Any = None) -> Any:
    return scim.request(
        "PATCH",
        path,
        body if body is not None else {"schemas": [PATCH_OP], "Operations": list(operations)},
    )


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [PATCH_OP]}, "invalidSyntax"),
        ({"Operations": []}, "invalidSyntax"),
        ({"Operations": "add"}, "invalidSyntax"),
        ({"Operations": [1]}, "invalidSyntax"),
        ({"Operations": [{"op": "move", "path": "title", "value": "x"}]}, "invalidValue"),
        ({"Operations": [{"op": "add", "path": 5, "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "add", "path": "emails[", "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "add", "path": "nope", "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "add", "path": "name.nope", "value": "x"}]}, "invalidPath"),
        (
            {"Operations": [{"op": "add", "path": 'emails[nope eq "x"].value', "value": "x"}]},
            "invalidPath",
        ),
        ({"Operations": [{"op": "add", "path": "members", "value": []}]}, "invalidPath"),
        ({"Operations": [{"op": "add", "path": "urn:x:y:z:attr", "value": "x"}]}, "invalidPath"),
        ({"Operations": [{"op": "remove"}]}, "noTarget"),
        ({"Operations": [{"op": "add", "value": "not an object"}]}, "invalidValue"),
        ({"Operations": [{"op": "remove", "path": "active"}]}, "mutability"),
        ({"Operations": [{"op": "remove", "path": "userName"}]}, "mutability"),
        ({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}, "mutability"),
        ({"Operations": [{"op": "replace", "path": "meta", "value": {}}]}, "mutability"),
        ({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}, "invalidValue"),
        (
            {"Operations": [{"op": "replace", "path": "userName", "value": {"a": 1}}]},
            "invalidValue",
        ),
        ({"Operations": [{"op": "remove", "path": "displayName"}]}, "invalidValue"),
        ({"Operations": [{"op": "remove", "path": "name.givenName"}]}, "invalidValue"),
        (
            {
                "Operations": [
                    {"op": "add", "path": "emails", "value": [{"value": "second@example.com"}]}
                ]
            },
            "invalidValue",
        ),
        (
            {"Operations": [{"op": "replace", "path": "userName", "value": "Administrator"}]},
            "invalidValue",
        ),
        (
            {"Operations": [{"op": "replace", "path": "userName", "value": "has space"}]},
            "invalidValue",
        ),
        (
            {"Operations": [{"op": "replace", "path": "externalId", "value": "has space"}]},
            "invalidValue",
        ),
        ({"Operations": [{"op": "replace", "path": "title", "value": "x" * 1025}]}, "invalidValue"),
    ],
)
def test_bad_user_patches_are_refused_and_change_nothing(
    scim: Scim, body: Any, scim_type: str
) -> None:
    user = create_user(scim)
    before = scim.get(f"/Users/{user['id']}").json()
    scim_error(patch(scim, f"/Users/{user['id']}", body=body), 400, scim_type)
    assert scim.get(f"/Users/{user['id']}").json() == before


def test_a_patch_is_all_or_nothing(scim: Scim) -> None:
    user = create_user(scim)
    response = patch(
        scim,
        f"/Users/{user['id']}",
        {"op": "replace", "path": "title", "value": "Changed"},
        {"op": "remove", "path": "active"},
    )
    scim_error(response, 400, "mutability")
    assert "title" not in scim.get(f"/Users/{user['id']}").json()


def test_patch_forms_on_users(scim: Scim) -> None:
    user = create_user(scim, emails=[], phoneNumbers=[{"value": "1", "type": "work"}])
    path = f"/Users/{user['id']}"
    # Create-on-absent through a value path, then update through it.
    result = patch(
        scim, path, {"op": "add", "path": 'emails[type eq "work"].value', "value": "a@example.com"}
    ).json()
    assert result["emails"] == [{"value": "a@example.com", "type": "work"}]
    result = patch(
        scim, path, {"op": "replace", "path": 'emails[type eq "work"].primary', "value": "true"}
    ).json()
    assert result["emails"] == [{"value": "a@example.com", "type": "work", "primary": True}]
    # Remove by value list and by filter; remove a sub-attribute.
    result = patch(
        scim, path, {"op": "remove", "path": "phoneNumbers", "value": [{"value": "1"}]}
    ).json()
    assert "phoneNumbers" not in result
    result = patch(
        scim, path, {"op": "remove", "path": 'emails[value eq "A@EXAMPLE.COM"].primary'}
    ).json()
    assert result["emails"] == [{"value": "a@example.com", "type": "work"}]
    result = patch(scim, path, {"op": "remove", "path": 'emails[type eq "work"]'}).json()
    assert "emails" not in result
    # Complex attributes merge; whole-extension values; URN-qualified core paths.
    result = patch(
        scim,
        path,
        {"op": "replace", "path": "name", "value": {"middleName": "Q"}},
        {"op": "add", "path": ENTERPRISE, "value": {"Division": "Tools", "unknown": 1}},
        {"op": "replace", "path": f"{CORE_USER}:title", "value": "Boss"},
        {"op": "replace", "path": "password", "value": "ignored"},
        {
            "op": "add",
            "value": {"nickName": "N", "unknownKey": 1, "id": "ignored", "password": "x"},
        },
    ).json()
    assert result["name"] == {"givenName": "Barbara", "familyName": "Jensen", "middleName": "Q"}
    assert result[ENTERPRISE] == {"division": "Tools"}
    assert (result["title"], result["nickName"]) == ("Boss", "N")
    assert result["id"] == user["id"]
    result = patch(scim, path, {"op": "remove", "path": ENTERPRISE}).json()
    assert ENTERPRISE not in result and result["schemas"] == [CORE_USER]
    result = patch(
        scim, path, {"op": "remove", "path": "externalId"}, {"op": "remove", "path": "nickName"}
    ).json()
    assert "externalId" not in result and "nickName" not in result


def test_create_refuses_what_aws_cannot_keep_and_ignores_the_rest(scim: Scim) -> None:
    two_emails = new_user(emails=[{"value": "a@example.com"}, {"value": "b@example.com"}])
    scim_error(scim.post("/Users", two_emails), 400, "invalidValue")
    for refused in (
        {"photos": [{"value": "https://x/p.png"}]},
        {"x509Certificates": [{"value": "MII"}]},
    ):
        scim_error(scim.post("/Users", new_user(**refused)), 400, "invalidValue")
    scim_error(scim.post("/Users", new_user(active="sometimes")), 400, "invalidValue")
    scim_error(scim.post("/Users", {**new_user(), "name": "Barbara"}), 400, "invalidValue")
    scim_error(scim.post("/Users", new_user(userName="AWSAdministrators")), 400, "invalidValue")
    scim_error(scim.post("/Groups", {"displayName": "administrator"}), 400, "invalidValue")
    scim_error(scim.post("/Groups", {"members": []}), 400, "invalidValue")
    created = scim.post(
        "/Users",
        new_user(
            photos=[],
            ims=None,
            password="secret",
            groups=[{"value": "g"}],
            id="mine",
            meta={"created": "2019-01-01"},
            unknownAttribute={"a": 1},
            **{
                "urn:example:custom:2.0:User": {"tag": "x"},
                "emails": {"value": "single@example.com"},
            },
        ),
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["id"] != "mine"
    assert user["emails"] == [{"value": "single@example.com"}]
    assert not {"password", "groups", "unknownAttribute", "photos"} & set(user)


def test_membership_changes_are_bounded(scim: Scim, client: Any, store_id: str) -> None:
    users = [
        client.create_user(
            IdentityStoreId=store_id,
            UserName=f"m{i}",
            DisplayName="M",
            Name={"GivenName": "M", "FamilyName": "M"},
        )["UserId"]
        for i in range(101)
    ]
    group = create_group(scim, "Big")
    path = f"/Groups/{group['id']}"
    response = patch(
        scim, path, {"op": "add", "path": "members", "value": [{"value": u} for u in users]}
    )
    scim_error(response, 400, "invalidValue")
    assert "members" not in scim.get(path).json()
    assert (
        patch(
            scim,
            path,
            {"op": "add", "path": "members", "value": [{"value": u} for u in users[:100]]},
        ).status_code
        == 204
    )
    # Re-adding members that are already there changes nothing, so it is within the bound.
    assert (
        patch(
            scim, path, {"op": "add", "path": "members", "value": [{"value": u} for u in users]}
        ).status_code
        == 204
    )
    assert len(scim.get(path).json()["members"]) == 101
    scim_error(patch(scim, path, {"op": "remove", "path": "members"}), 400, "invalidValue")
    scim_error(
        scim.post("/Groups", {"displayName": "Huge", "members": [{"value": u} for u in users]}),
        400,
        "invalidValue",
    )


def test_members_must_be_users_of_the_store(scim: Scim) -> None:
    group = create_group(scim, "G")
    path = f"/Groups/{group['id']}"
    scim_error(
        patch(scim, path, {"op": "add", "path": "members", "value": [{"value": "nobody"}]}),
        400,
        "invalidValue",
    )
    scim_error(
        scim.post("/Groups", {"displayName": "H", "members": [{"value": "nobody"}]}),
        400,
        "invalidValue",
    )
    assert ids(scim.get("/Groups", filter='displayName eq "H"')) == []  # the create was undone
    scim_error(
        patch(scim, path, {"op": "add", "path": "members", "value": [{"display": "x"}]}),
        400,
        "invalidValue",
    )
    scim_error(
        patch(scim, path, {"op": "replace", "path": 'members[value eq "x"]', "value": []}),
        400,
        "invalidPath",
    )
    response = patch(scim, path, {"op": "remove", "path": 'members[value eq "nobody"]'})
    assert response.status_code == 204  # removing a non-member changes nothing


def test_group_put_replaces_members_only_when_given(scim: Scim) -> None:
    alice = create_user(scim, "alice@example.com")
    bob = create_user(scim, "bob@example.com")
    group = create_group(scim, "Team", members=[{"value": alice["id"]}], externalId="t-1")
    path = f"/Groups/{group['id']}"
    response = scim.put(path, {"displayName": "Team A"})
    assert response.status_code == 200
    assert [m["value"] for m in response.json()["members"]] == [alice["id"]]
    assert response.json()["externalId"] == "t-1"  # not asserted by the PUT: kept
    response = scim.put(path, {"displayName": "Team A", "members": [{"value": bob["id"]}]})
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]
    response = scim.put(path, {"displayName": "Team A", "members": []})
    assert "members" not in response.json()
    scim_error(scim.put("/Groups/nope", {"displayName": "x"}), 404)
    scim_error(scim.delete("/Groups/nope"), 404)
    scim_error(scim.delete("/Users/nope"), 404)
    scim_error(patch(scim, "/Users/nope", {"op": "add", "path": "title", "value": "x"}), 404)


def test_group_patch_returns_the_group_when_attributes_are_asked_for(scim: Scim) -> None:
    group = create_group(scim, "Team")
    response = scim.request(
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Team B"}],
        },
        params={"attributes": "displayName"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": group["id"],
        "displayName": "Team B",
    }


def test_projection(scim: Scim) -> None:
    user = create_user(scim, title="T", **{ENTERPRISE: {"department": "D", "division": "V"}})
    path = f"/Users/{user['id']}"
    got = scim.get(path, attributes="name.givenName,emails.value").json()
    assert got == {
        "schemas": [CORE_USER],
        "id": user["id"],
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "bjensen@example.com"}],
    }
    got = scim.get(path, attributes=f"{ENTERPRISE}:department").json()
    assert got[ENTERPRISE] == {"department": "D"} and got["schemas"] == [CORE_USER, ENTERPRISE]
    got = scim.get(
        path, excludedAttributes=f"title,{ENTERPRISE},id,name.familyName,emails.type"
    ).json()
    assert "title" not in got and ENTERPRISE not in got and got["id"] == user["id"]
    assert got["name"] == {"givenName": "Barbara"}
    assert got["emails"] == [{"value": "bjensen@example.com", "primary": True}]
    assert got["schemas"] == [CORE_USER]
    scim_error(scim.get(path, attributes="emails["), 400, "invalidPath")


def test_no_input_produces_a_5xx(scim: Scim) -> None:
    user = create_user(scim)
    group = create_group(scim, "G")
    garbage: list[Any] = [
        None,
        0,
        "",
        [],
        {},
        {"op": None},
        [{"op": "add", "path": None, "value": None}],
        {"Operations": [{"op": "add", "path": "emails", "value": [1, [2], {"value": {"x": 1}}]}]},
        {"Operations": [{"op": "add", "path": "name", "value": [1]}]},
        {"Operations": [{"op": "replace", "path": ENTERPRISE, "value": "x"}]},
        {"Operations": [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": [1]}]},
        {"Operations": [{"op": "add", "path": "members", "value": {"value": None}}]},
        {"Operations": [{"op": "add", "path": 'emails[type eq "work"]', "value": "x"}]},
        {"userName": ["a"], "name": {"givenName": {"x": 1}}, "emails": [None, {"value": 5.5}]},
        {
            "userName": "a",
            "displayName": "a",
            "name": {"givenName": "a", "familyName": "b"},
            ENTERPRISE: [],
        },
        {"displayName": {"a": 1}, "members": "x", "externalId": {"x": 1}},
        {"displayName": "G2", "members": [{"value": ["x"]}]},
    ]
    targets = [
        ("POST", "/Users"),
        ("POST", "/Groups"),
        ("PUT", f"/Users/{user['id']}"),
        ("PUT", f"/Groups/{group['id']}"),
        ("PATCH", f"/Users/{user['id']}"),
        ("PATCH", f"/Groups/{group['id']}"),
        ("POST", "/.search"),
        ("POST", "/Users/.search"),
    ]
    for method, path in targets:
        for body in garbage:
            response = scim.request(
                method,
                path,
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/scim+json"},
            )
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                scim_error(response, response.status_code)
    for query in [
        "filter=%00",
        "filter=" + "(" * 500,
        "startIndex=99999999999999999999",
        "attributes=,,",
        "excludedAttributes=urn:",
    ]:
        response = scim.request("GET", f"/Users?{query}")
        assert response.status_code < 500, (query, response.text)

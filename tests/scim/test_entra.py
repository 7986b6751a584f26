"""Microsoft Entra ID: its documented requests, by default and with `aadOptscim062020`.

The payloads are those of Microsoft's "Develop and plan provisioning for a SCIM endpoint"
(request/response samples) and "Known issues ... SCIM 2.0 protocol compliance" (what the sync
engine sends without the flag, and with it, appended to the tenant URL). Without the flag Entra
sends `Replace`/`Add`/`Remove`, the string boolean `"False"`, one operation per path including
`emails[type eq "work"].value` and URN-qualified enterprise attributes, and member removal as
`path: members` with a `value` list. With it: lowercase ops, a real boolean, one no-path
`replace` whose value has dotted and URN keys, and member removal by path filter.
Also: its queries (userName, the unquoted `externalId eq jyoung`, group by displayName with
`excludedAttributes=members`), the manager given as a plain string, and the capitalised
attribute names of its Postman collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.scim.conftest import CORE_GROUP, CORE_USER, ENTERPRISE, LIST, PATCH_OP, Scim, create_user

FLAG = "aadOptscim062020"


@pytest.fixture(params=["default", FLAG])
def entra(request: Any, scim_for: Callable[..., Scim], store_id: str, scim_token: str) -> Scim:
    """A client at the tenant URL as Entra is configured: with or without the flag."""
    return scim_for(store_id, scim_token, query=FLAG if request.param == FLAG else "")


def test_entra_user_provisioning(entra: Scim) -> None:
    # Entra's create sends no displayName; Identity Center requires one, so an Entra mapping
    # must send it (its default AWS mapping does). Without it: a clear 400.
    response = entra.post(
        "/Users",
        {
            "schemas": [CORE_USER],
            "userName": "Test_User_00aa00aa",
            "name": {"familyName": "f", "givenName": "g"},
        },
    )
    assert response.status_code == 400
    assert "displayName" in response.json()["detail"]

    # The documented create, with the displayName mapping added.
    created = entra_create_user(entra)
    assert created["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert created["emails"] == [
        {
            "value": "Test_User_11bb11bb@testuser.com",
            "type": "work",
            "primary": True,
        }
    ]
    assert "roles" not in created
    assert created["meta"]["resourceType"] == "User"

    # Get User by query, and the zero-results query.
    page = entra.get(
        "/Users", filter='userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"'
    ).json()
    assert page["schemas"] == [LIST]
    assert page["totalResults"] == 1
    assert page["Resources"][0]["id"] == created["id"]
    page = entra.get("/Users", filter='userName eq "non-existent user"').json()
    assert page == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }

    # Its externalId match, unquoted as in its docs, and its work-e-mail match.
    page = entra.get("/Users", filter="externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef").json()
    assert [u["id"] for u in page["Resources"]] == [created["id"]]
    page = entra.get(
        "/Users", filter='emails[type eq "work"].value eq "test_user_11bb11bb@testuser.com"'
    ).json()
    assert [u["id"] for u in page["Resources"]] == [created["id"]]

    # Update User [Multi-valued properties].
    response = entra.patch(
        f"/Users/{created['id']}",
        {
            "op": "Replace",
            "path": 'emails[type eq "work"].value',
            "value": "updatedEmail@microsoft.com",
        },
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    )
    assert response.status_code == 200
    user = response.json()
    assert user["emails"] == [
        {"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}
    ]
    assert user["name"]["familyName"] == "updatedFamilyName"
    assert user["name"]["givenName"] == "givenName"

    # Update User [Single-valued properties].
    response = entra.patch(
        f"/Users/{created['id']}",
        {
            "op": "Replace",
            "path": "userName",
            "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com",
        },
    )
    assert response.json()["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"

    # Disable User (documented with a boolean).
    response = entra.patch(
        f"/Users/{created['id']}", {"op": "Replace", "path": "active", "value": False}
    )
    assert response.json()["active"] is False
    assert entra.get(f"/Users/{created['id']}").status_code == 200  # soft-deleted, retrievable

    # Delete User.
    assert entra.delete(f"/Users/{created['id']}").status_code == 204
    assert entra.get(f"/Users/{created['id']}").status_code == 404


def entra_create_user(scim: Scim) -> dict[str, Any]:
    """Entra's Create User request as documented, plus the displayName AWS requires."""
    response = scim.post(
        "/Users",
        {
            "schemas": [CORE_USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": True,
            "displayName": "givenName familyName",
            "emails": [
                {"primary": True, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}
            ],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_entra_default_patches(scim: Scim) -> None:
    """The requests Entra sends without the flag."""
    user = create_user(scim, "pvlo@test.microsoft.com", externalId="Eqpj0")
    path = f"/Users/{user['id']}"

    # Requests made to disable users: a string boolean.
    response = scim.request(
        "PATCH",
        path,
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert response.status_code == 200
    assert response.json()["active"] is False

    # Requests made to add a single-value string attribute.
    response = scim.patch(path, {"op": "Add", "path": "nickName", "value": "Babs"})
    assert response.json()["nickName"] == "Babs"

    # Requests to replace multiple attributes.
    response = scim.patch(
        path,
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {
            "op": "Replace",
            "path": 'emails[type eq "work"].value',
            "value": "TestBcwqnm@test.microsoft.com",
        },
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["displayName"] == "Pvlo"
    assert user["emails"][0]["value"] == "TestBcwqnm@test.microsoft.com"
    assert user["name"] == {"familyName": "Pkqf", "givenName": "Gtfd"}
    assert user["externalId"] == "Eqpj"
    assert user[ENTERPRISE] == {"employeeNumber": "Eqpj"}
    assert ENTERPRISE in user["schemas"]


def test_entra_flagged_patches(
    scim_for: Callable[..., Scim], store_id: str, scim_token: str
) -> None:
    """The requests Entra sends with `aadOptscim062020` in the tenant URL."""
    scim = scim_for(store_id, scim_token, query=FLAG)
    user = create_user(scim, "bjfe@test.microsoft.com")
    path = f"/Users/{user['id']}"

    response = scim.patch(path, {"op": "replace", "path": "active", "value": False})
    assert response.json()["active"] is False
    response = scim.patch(path, {"op": "add", "path": "nickName", "value": "Babs"})
    assert response.json()["nickName"] == "Babs"

    response = scim.patch(
        path,
        {
            "op": "replace",
            "path": 'emails[type eq "work"].value',
            "value": "TestMhvaes@test.microsoft.com",
        },
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        },
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["emails"][0]["value"] == "TestMhvaes@test.microsoft.com"
    assert user["displayName"] == "Bjfe"
    assert user["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert user[ENTERPRISE] == {"employeeNumber": "Aklq"}


def test_entra_group_provisioning(entra: Scim) -> None:
    member = create_user(entra, "member@example.com")
    other = create_user(entra, "other@example.com")

    # Create Group, with Entra's second (Microsoft) schema URI.
    response = entra.post(
        "/Groups",
        {
            "schemas": [
                CORE_GROUP,
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
            ],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert group["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    path = f"/Groups/{group['id']}"

    # Get Group, and Get Group by displayName, both without members.
    got = entra.get(path, excludedAttributes="members").json()
    assert got["displayName"] == "displayName" and "members" not in got
    page = entra.get(
        "/Groups", excludedAttributes="members", filter='displayName eq "displayName"'
    ).json()
    assert page["totalResults"] == 1 and page["Resources"][0]["id"] == group["id"]
    page = entra.get("/Groups", filter="externalId eq 8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159").json()
    assert page["totalResults"] == 1

    # Update Group [Non-member attributes].
    new_name = "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    response = entra.patch(path, {"op": "Replace", "path": "displayName", "value": new_name})
    assert response.status_code == 204
    assert entra.get(path).json()["displayName"] == new_name

    # Update Group [Add Members]: `$ref: null` inside the value.
    response = entra.patch(
        path,
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": member["id"]}]},
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": other["id"]}]},
    )
    assert response.status_code == 204
    probe = f'id eq "{group["id"]}" and members eq "{member["id"]}"'
    assert entra.get("/Groups", filter=probe).json()["totalResults"] == 1

    # Update Group [Remove Members]: the default form, then the flagged form.
    response = entra.patch(
        path, {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": member["id"]}]}
    )
    assert response.status_code == 204
    assert entra.get("/Groups", filter=probe).json()["totalResults"] == 0
    response = entra.patch(path, {"op": "remove", "path": f'members[value eq "{other["id"]}"]'})
    assert response.status_code == 204
    assert "members" not in entra.get(path).json()

    # Delete Group.
    assert entra.delete(path).status_code == 204
    assert entra.get(path).status_code == 404


def test_entra_manager_as_a_string_and_as_an_object(scim: Scim) -> None:
    manager = create_user(scim, "boss@example.com")
    user = create_user(
        scim,
        "report@example.com",
        **{ENTERPRISE: {"department": "Sales", "manager": manager["id"]}},
    )
    assert user[ENTERPRISE] == {"department": "Sales", "manager": {"value": manager["id"]}}
    response = scim.patch(
        f"/Users/{user['id']}", {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "NewMgr"}
    )
    assert response.json()[ENTERPRISE]["manager"] == {"value": "NewMgr"}
    response = scim.patch(
        f"/Users/{user['id']}",
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "Mgr2"}},
    )
    assert response.json()[ENTERPRISE]["manager"] == {"value": "Mgr2"}


def test_entra_postman_capitalised_names(scim: Scim) -> None:
    """Entra's Postman collection capitalises attribute names; RFC 7643 §2.1 allows it."""
    response = scim.post(
        "/Users",
        {
            "UserName": "UserName222",
            "Active": "True",
            "DisplayName": "lennay",
            "schemas": [ENTERPRISE, CORE_USER],
            "externalId": "3c6ef7c1a8f04e7d9a3b2a4a0b6c9d1e",
            "name": {"formatted": "Adrew Ryan", "familyName": "Ryan", "givenName": "Andrew"},
            "emails": [{"Primary": True, "type": "work", "value": "testing@bob2.com"}],
            ENTERPRISE: {"Department": "bob", "Manager": {"Value": "SuzzyQ"}},
        },
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["userName"] == "UserName222"
    assert user["active"] is True
    assert user["emails"] == [{"value": "testing@bob2.com", "type": "work", "primary": True}]
    assert user[ENTERPRISE] == {"department": "bob", "manager": {"value": "SuzzyQ"}}

    # Its "addMember" operation carries an extra `name` key.
    group = scim.post(
        "/Groups", {"schemas": [CORE_GROUP], "displayName": "Group1", "members": []}
    ).json()
    response = scim.patch(
        f"/Groups/{group['id']}",
        {
            "name": "addMember",
            "op": "add",
            "path": "members",
            "value": [{"displayName": "new User", "value": user["id"]}],
        },
    )
    assert response.status_code == 204
    assert [m["value"] for m in scim.get(f"/Groups/{group['id']}").json()["members"]] == [
        user["id"]
    ]

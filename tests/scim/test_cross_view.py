"""One store, two front ends: what SCIM writes, the identitystore API reads, and the reverse.

SCIM requests go over HTTP to the running server; `client` is a real boto3 identitystore client
on the same store. The mapping under test: `active` is UserStatus, `externalId` is the
ExternalIds element with Issuer `SCIM`, the enterprise extension is
`Extensions["aws:identitystore:enterprise"]`, SCIM writes are recorded as made by `SCIM`, and
uniqueness and cascades are the store's, whichever front end wrote first.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import make_group, make_user
from tests.scim.conftest import ENTERPRISE, Scim, create_group, create_user, scim_error

EXTENSION = "aws:identitystore:enterprise"


def test_a_scim_user_is_described_by_the_api(scim: Scim, client: Any, store_id: str) -> None:
    created = create_user(
        scim,
        "bjensen@example.com",
        externalId="00u1bjensen",
        title="Tour Guide",
        addresses=[
            {"streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "type": "work"}
        ],
        phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        **{
            ENTERPRISE: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "manager": {"value": "m-1"},
            }
        },
    )
    user = client.describe_user(
        IdentityStoreId=store_id, UserId=created["id"], Extensions=[EXTENSION]
    )
    assert user["UserName"] == "bjensen@example.com"
    assert user["Name"] == {"GivenName": "Barbara", "FamilyName": "Jensen"}
    assert user["DisplayName"] == "Barbara Jensen"
    assert user["Emails"] == [{"Value": "bjensen@example.com", "Type": "work", "Primary": True}]
    assert user["Addresses"] == [
        {"StreetAddress": "100 Universal City Plaza", "Locality": "Hollywood", "Type": "work"}
    ]
    assert user["PhoneNumbers"] == [{"Value": "555-555-8377", "Type": "work"}]
    assert user["Title"] == "Tour Guide"
    assert user["ExternalIds"] == [{"Issuer": "SCIM", "Id": "00u1bjensen"}]
    assert user["UserStatus"] == "ENABLED"
    assert user["CreatedBy"] == user["UpdatedBy"] == "SCIM"
    assert user["Extensions"][EXTENSION] == {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "manager": {"value": "m-1"},
    }
    found = client.get_user_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={"ExternalId": {"Issuer": "SCIM", "Id": "00u1bjensen"}},
    )
    assert found["UserId"] == created["id"]


def test_active_is_the_user_status(scim: Scim, client: Any, store_id: str) -> None:
    created = create_user(scim, "ramon@example.com", active=False)
    describe = lambda: client.describe_user(IdentityStoreId=store_id, UserId=created["id"])  # noqa: E731
    assert describe()["UserStatus"] == "DISABLED"
    scim.patch(f"/Users/{created['id']}", {"op": "replace", "path": "active", "value": True})
    assert describe()["UserStatus"] == "ENABLED"
    revision = describe()["Revision"]
    scim.patch(f"/Users/{created['id']}", {"op": "Replace", "path": "active", "value": "False"})
    assert describe()["UserStatus"] == "DISABLED"
    assert int(describe()["Revision"]) > int(revision)


def test_an_api_user_is_read_and_found_over_scim(scim: Scim, client: Any, store_id: str) -> None:
    user_id = make_user(
        client,
        store_id,
        "kate",
        Emails=[{"Value": "Kate@Example.com", "Type": "work", "Primary": True}],
        Extensions={EXTENSION: {"department": "R&D"}},
    )
    user = scim.get(f"/Users/{user_id}").json()
    assert user["userName"] == "kate"
    assert user["name"] == {"givenName": "Kate", "familyName": "Example"}
    assert user["emails"] == [{"value": "Kate@Example.com", "type": "work", "primary": True}]
    assert user["active"] is True
    assert user[ENTERPRISE] == {"department": "R&D"}
    assert "externalId" not in user
    for query in ('userName eq "KATE"', 'emails.value eq "kate@example.com"', f'id eq "{user_id}"'):
        page = scim.get("/Users", filter=query).json()
        assert [u["id"] for u in page["Resources"]] == [user_id], query
    client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[{"AttributePath": "title", "AttributeValue": "CTO"}],
    )
    assert scim.get(f"/Users/{user_id}").json()["title"] == "CTO"


def test_scim_writes_keep_what_only_the_api_sets(scim: Scim, client: Any, store_id: str) -> None:
    user_id = make_user(
        client,
        store_id,
        "lena",
        Website="https://lena.example.com",
        Birthdate="1990-01-01",
        Photos=[{"Value": "https://example.com/lena.png"}],
    )
    user = scim.get(f"/Users/{user_id}").json()
    user["title"] = "Lead"
    assert scim.put(f"/Users/{user_id}", user).status_code == 200
    scim.patch(f"/Users/{user_id}", {"op": "add", "path": "nickName", "value": "L"})
    described = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert described["Title"] == "Lead"
    assert described["NickName"] == "L"
    assert described["Website"] == "https://lena.example.com"
    assert described["Birthdate"] == "1990-01-01"
    assert described["Photos"] == [{"Value": "https://example.com/lena.png"}]
    assert described["UpdatedBy"] == "SCIM"
    assert described["CreatedBy"] != "SCIM"


def test_groups_and_memberships_across_the_views(scim: Scim, client: Any, store_id: str) -> None:
    alice = create_user(scim, "alice@example.com")
    bob_id = make_user(client, store_id, "bob")
    group = create_group(scim, "Engineering", externalId="grp-1", members=[{"value": alice["id"]}])

    described = client.describe_group(IdentityStoreId=store_id, GroupId=group["id"])
    assert described["DisplayName"] == "Engineering"
    assert described["ExternalIds"] == [{"Issuer": "SCIM", "Id": "grp-1"}]
    assert described["CreatedBy"] == "SCIM"
    memberships = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group["id"])
    assert [m["MemberId"]["UserId"] for m in memberships["GroupMemberships"]] == [alice["id"]]
    assert memberships["GroupMemberships"][0]["CreatedBy"] == "SCIM"

    # A membership made through the API answers SCIM's membership probe.
    client.create_group_membership(
        IdentityStoreId=store_id, GroupId=group["id"], MemberId={"UserId": bob_id}
    )
    probe = scim.get("/Groups", filter=f'id eq "{group["id"]}" and members eq "{bob_id}"').json()
    assert probe["totalResults"] == 1
    members = [m["value"] for m in scim.get(f"/Groups/{group['id']}").json()["members"]]
    assert members == [alice["id"], bob_id]

    # An API group is found over SCIM; a SCIM removal is seen by the API.
    api_group = make_group(client, store_id, "Sales", Description="Sells")
    page = scim.get("/Groups", filter='displayName eq "sales"').json()
    assert [g["id"] for g in page["Resources"]] == [api_group]
    scim.patch(f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{bob_id}"]'})
    result = client.is_member_in_groups(
        IdentityStoreId=store_id, MemberId={"UserId": bob_id}, GroupIds=[group["id"]]
    )
    assert result["Results"][0]["MembershipExists"] is False

    # A SCIM rename keeps the API's Description.
    scim.patch(
        f"/Groups/{api_group}", {"op": "replace", "path": "displayName", "value": "Sales EMEA"}
    )
    described = client.describe_group(IdentityStoreId=store_id, GroupId=api_group)
    assert (described["DisplayName"], described["Description"]) == ("Sales EMEA", "Sells")


def test_deleting_a_user_over_scim_removes_its_memberships(
    scim: Scim, client: Any, store_id: str
) -> None:
    alice = create_user(scim, "alice@example.com")
    group = create_group(scim, "Ops", members=[{"value": alice["id"]}])
    assert scim.delete(f"/Users/{alice['id']}").status_code == 204
    memberships = client.list_group_memberships(IdentityStoreId=store_id, GroupId=group["id"])
    assert memberships["GroupMemberships"] == []
    with pytest.raises(ClientError) as raised:
        client.describe_user(IdentityStoreId=store_id, UserId=alice["id"])
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_uniqueness_holds_across_the_views(scim: Scim, client: Any, store_id: str) -> None:
    make_user(client, store_id, "Carol", Emails=[{"Value": "carol@example.com"}])
    scim_error(scim.post("/Users", {**_user("carol"), "emails": []}), 409, "uniqueness")
    scim_error(
        scim.post("/Users", _user("someone-else", email="CAROL@example.com")), 409, "uniqueness"
    )
    make_group(client, store_id, "Finance")
    scim_error(scim.post("/Groups", {"displayName": "FINANCE"}), 409, "uniqueness")

    created = create_user(scim, "dave@example.com", externalId="ext-dave")
    with pytest.raises(ClientError) as raised:
        client.create_user(
            IdentityStoreId=store_id,
            UserName="DAVE@example.com",
            DisplayName="D",
            Name={"GivenName": "D", "FamilyName": "D"},
        )
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    other = create_user(scim, "erin@example.com")
    response = scim.patch(
        f"/Users/{other['id']}", {"op": "replace", "path": "externalId", "value": "ext-dave"}
    )
    scim_error(response, 409, "uniqueness")
    response = scim.patch(
        f"/Users/{other['id']}", {"op": "replace", "path": "userName", "value": "Dave@Example.com"}
    )
    scim_error(response, 409, "uniqueness")
    assert scim.get(f"/Users/{created['id']}").json()["externalId"] == "ext-dave"


def _user(name: str, email: str | None = None) -> dict[str, Any]:
    return {
        "userName": name,
        "displayName": name,
        "name": {"givenName": name, "familyName": "X"},
        "emails": [{"value": email or f"{name}@example.com", "primary": True}],
    }

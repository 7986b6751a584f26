"""The console end to end, in a real Chromium: what an administrator does, checked through boto3.

Each write made in the browser is read back over the API, so the console's writes are the
API's: the same records, the same rules, CreatedBy/UpdatedBy naming the signed-in key.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from idstore.model import UserData, now
from tests.console.conftest import Console
from tests.console.ui import create_group, create_user, rows, sign_in


def test_users_groups_and_memberships_round_trip_through_the_api(
    page: Page, console: Console
) -> None:
    admin = console.key(name="alice-admin")
    api = console.boto(admin)
    sign_in(page, console, admin)
    # One store: straight to its users.
    expect(page.get_by_role("heading", name="Users")).to_be_visible()

    user_id = create_user(page, "jdoe", "jdoe@example.com", "Jane Doe")
    user = api.describe_user(IdentityStoreId=console.store_id, UserId=user_id)
    assert user["UserName"] == "jdoe"
    assert user["DisplayName"] == "Jane Doe"
    assert user["Name"] == {"GivenName": "Jdoe", "FamilyName": "Example"}
    assert user["Emails"] == [{"Value": "jdoe@example.com", "Primary": True}]
    assert user["CreatedBy"] == admin.arn

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Display name").fill("Jane Q. Doe")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("User saved.")
    user = api.describe_user(IdentityStoreId=console.store_id, UserId=user_id)
    assert user["DisplayName"] == "Jane Q. Doe"
    assert user["UpdatedBy"] == admin.arn
    assert user["Revision"] == "2"

    group_id = create_group(page, "Engineering", "Builds things")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Description").fill("Builds and runs things")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Group saved.")
    group = api.describe_group(IdentityStoreId=console.store_id, GroupId=group_id)
    assert (group["DisplayName"], group["Description"]) == ("Engineering", "Builds and runs things")
    assert group["CreatedBy"] == group["UpdatedBy"] == admin.arn
    page.get_by_label("User name").fill("jdoe")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Member added.")
    assert rows(page) == ["jdoe"]
    member = {"UserId": user_id}
    found = api.is_member_in_groups(
        IdentityStoreId=console.store_id, MemberId=member, GroupIds=[group_id]
    )
    assert found["Results"][0]["MembershipExists"] is True
    membership = api.get_group_membership_id(
        IdentityStoreId=console.store_id, GroupId=group_id, MemberId=member
    )
    described = api.describe_group_membership(
        IdentityStoreId=console.store_id, MembershipId=membership["MembershipId"]
    )
    assert described["CreatedBy"] == admin.arn

    # The user's page lists the group.
    page.get_by_role("link", name="jdoe").click()
    expect(page.get_by_role("link", name="Engineering")).to_be_visible()
    page.get_by_role("link", name="Engineering").click()

    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Member removed.")
    found = api.is_member_in_groups(
        IdentityStoreId=console.store_id, MemberId=member, GroupIds=[group_id]
    )
    assert found["Results"][0]["MembershipExists"] is False

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Group deleted.")
    assert api.list_groups(IdentityStoreId=console.store_id)["Groups"] == []

    page.get_by_role("navigation", name="Identity store").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="jdoe").click()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("User deleted.")
    assert api.list_users(IdentityStoreId=console.store_id)["Users"] == []


def test_validation_errors_are_the_apis_shown_beside_the_field(
    page: Page, console: Console
) -> None:
    admin = console.key()
    sign_in(page, console, admin)
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("User name").fill("has space")
    page.get_by_label("Display name").fill("Someone")
    page.get_by_label("Given name").fill("Some")
    page.get_by_role("button", name="Create").click()
    field = page.get_by_label("User name")
    expect(field).to_have_attribute("aria-invalid", "true")
    beside_name = page.locator("#f-UserName-error").inner_text()
    beside_family = page.locator("#f-Name-FamilyName-error").inner_text()

    api = console.boto(admin)
    with pytest.raises(api.exceptions.ValidationException) as refused:
        api.create_user(
            IdentityStoreId=console.store_id,
            UserName="has space",
            DisplayName="Someone",
            Name={"GivenName": "Some"},
        )
    message = refused.value.response["Error"]["Message"]
    assert beside_name and beside_name in message
    # The API checks the model first and stops there; Identity Center's rules come next.
    with pytest.raises(api.exceptions.ValidationException) as refused:
        api.create_user(
            IdentityStoreId=console.store_id,
            UserName="valid",
            DisplayName="Someone",
            Name={"GivenName": "Some"},
        )
    assert "familyName" in beside_family
    assert beside_family in refused.value.response["Error"]["Message"]
    # The form keeps what was typed.
    expect(page.get_by_label("Display name")).to_have_value("Someone")
    assert api.list_users(IdentityStoreId=console.store_id)["Users"] == []


def test_a_taken_user_name_is_refused_beside_the_field(page: Page, console: Console) -> None:
    admin = console.key()
    sign_in(page, console, admin)
    create_user(page, "taken", "one@example.com")
    page.get_by_role("navigation", name="Identity store").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("User name").fill("TAKEN")
    page.get_by_label("Display name").fill("Other")
    page.get_by_label("Given name").fill("O")
    page.get_by_label("Family name").fill("T")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#f-UserName-error")).to_have_text(
        "A user with this UserName already exists."
    )


def test_adding_an_unknown_user_says_so(page: Page, console: Console) -> None:
    sign_in(page, console, console.key())
    create_group(page, "Ops")
    page.get_by_label("User name").fill("nobody")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("No User matches the given identifier.")


def test_paging_through_250_users(page: Page, console: Console) -> None:
    for i in range(250):
        name = f"user{i:03d}"
        console.store.create_user(
            console.store_id,
            UserData(
                {
                    "UserName": name,
                    "DisplayName": name,
                    "Name": {"GivenName": "U", "FamilyName": name},
                    "Emails": [{"Value": f"{name}@example.com"}],
                }
            ),
            actor="test",
            at=now(),
            max_users=1000,
        )
    sign_in(page, console, console.key())
    expect(page.get_by_role("heading", name="Users")).to_contain_text("250")
    pages = page.get_by_role("navigation", name="Pages of users")
    first = rows(page)
    assert first == [f"user{i:03d}" for i in range(100)]
    expect(pages.get_by_role("link", name="Previous")).to_have_count(0)
    pages.get_by_role("link", name="Next").click()
    assert rows(page) == [f"user{i:03d}" for i in range(100, 200)]
    pages.get_by_role("link", name="Next").click()
    assert rows(page) == [f"user{i:03d}" for i in range(200, 250)]
    expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    pages.get_by_role("link", name="Previous").click()
    assert rows(page) == [f"user{i:03d}" for i in range(100, 200)]
    pages.get_by_role("link", name="Previous").click()
    assert rows(page) == first
    expect(pages.get_by_role("link", name="Previous")).to_have_count(0)

    search = page.get_by_label("Search")
    search.fill("user042")
    page.get_by_role("button", name="Search").click()
    assert rows(page) == ["user042"]
    search = page.get_by_label("Search")
    search.fill("USER007@example.com")
    page.get_by_role("button", name="Search").click()
    assert rows(page) == ["user007"]
    search = page.get_by_label("Search")
    search.fill("user1")
    page.get_by_role("button", name="Search").click()
    assert rows(page) == [f"user{i:03d}" for i in range(100, 200)]
    expect(page.get_by_role("navigation", name="Pages of users")).to_have_count(0)
    search = page.get_by_label("Search")
    search.fill("user")
    page.get_by_role("button", name="Search").click()
    assert len(rows(page)) == 100
    page.get_by_role("navigation", name="Pages of users").get_by_role("link", name="Next").click()
    assert rows(page)[0] == "user100"
    search = page.get_by_label("Search")
    search.fill("nobody")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No user has the user name")).to_be_visible()


def test_group_search_by_display_name(page: Page, console: Console) -> None:
    sign_in(page, console, console.key())
    for name in ("Platform", "Platform Admins", "Sales"):
        create_group(page, name)
    page.get_by_role("navigation", name="Identity store").get_by_role("link", name="Groups").click()
    page.get_by_label("Search").fill("platform")
    page.get_by_role("button", name="Search").click()
    assert rows(page) == ["Platform", "Platform Admins"]
    page.get_by_label("Search").fill("Sales")
    page.get_by_role("button", name="Search").click()
    assert rows(page) == ["Sales"]


def test_scim_tokens_are_shown_once_and_work_until_deleted(page: Page, console: Console) -> None:
    sign_in(page, console, console.key())
    page.get_by_role("link", name="SCIM tokens").click()
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("SCIM token").input_value()
    assert token.startswith("idstore_scim_")

    def scim_status() -> int:
        request = urllib.request.Request(
            f"{console.server.url}/{console.store_id}/scim/v2/Users",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert scim_status() == 200
    page.get_by_role("link", name="SCIM tokens").click()  # shown only in the answer to Create
    expect(page.get_by_label("SCIM token")).to_have_count(0)
    assert token not in page.content()
    page.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("status")).to_have_text("SCIM token deleted.")
    assert scim_status() == 401


def test_a_key_for_two_stores_chooses_one_and_cannot_use_a_third(
    page: Page, console: Console
) -> None:
    other = console.store.create_identity_store(now()).store_id
    third = console.store.create_identity_store(now()).store_id
    pair = console.key(stores=[console.store_id, other])
    sign_in(page, console, pair)
    expect(page.get_by_role("heading", name="Identity stores")).to_be_visible()
    expect(page.get_by_role("link", name=third)).to_have_count(0)
    page.get_by_role("link", name=other).click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    assert f"/stores/{other}/users" in page.url
    response = page.goto(f"{console.server.url}/console/stores/{third}/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("is not authorized")


def test_an_edit_does_not_overwrite_a_change_made_meanwhile(page: Page, console: Console) -> None:
    admin = console.key()
    api = console.boto(admin)
    sign_in(page, console, admin)
    user_id = create_user(page, "racer", "racer@example.com", "Before")
    page.get_by_role("link", name="Edit").click()
    api.update_user(
        IdentityStoreId=console.store_id,
        UserId=user_id,
        Operations=[{"AttributePath": "title", "AttributeValue": "Set elsewhere"}],
    )
    page.get_by_label("Display name").fill("After")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("The resource was modified")
    user = api.describe_user(IdentityStoreId=console.store_id, UserId=user_id)
    assert (user["DisplayName"], user["Title"]) == ("Before", "Set elsewhere")

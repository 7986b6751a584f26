"""Every page for everyone: axe-core finds no serious or critical violation on any of them, the
keyboard alone gets through sign-in and a create, local mode needs no sign-in, and the docs'
screenshots are taken here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from idstore.config import Config
from idstore.model import UserData, now
from tests.console.conftest import SCREENSHOTS, Console
from tests.console.ui import check_axe, create_group, create_user, sign_in


def _populate(console: Console) -> None:
    people = [
        ("akim", "Ana Kim", "Ana", "Kim"),
        ("bnoor", "Bilal Noor", "Bilal", "Noor"),
        ("cjansen", "Chloé Jansen", "Chloé", "Jansen"),
        ("dokafor", "David Okafor", "David", "Okafor"),
        ("esato", "Emi Sato", "Emi", "Sato"),
    ]
    for user_name, display, given, family in people:
        console.store.create_user(
            console.store_id,
            UserData(
                {
                    "UserName": user_name,
                    "DisplayName": display,
                    "Name": {"GivenName": given, "FamilyName": family},
                    "Emails": [{"Value": f"{user_name}@example.com", "Primary": True}],
                    "Title": "Engineer",
                }
            ),
            actor="arn:aws:iam::000000000000:user/import",
            at=now(),
            max_users=100,
        )


def _visit_every_page(page: Page, console: Console, shoot: Path | None) -> Iterator[str]:
    """Walk the console as an administrator; yield a name at each page worth checking."""

    def snap(name: str) -> str:
        if shoot is None:
            return name
        for attempt in range(3):  # a loaded machine's Chromium now and then fails a capture
            try:
                page.screenshot(path=str(shoot / f"{name}.png"))
                return name
            except PlaywrightError:
                if attempt == 2:
                    raise
                page.wait_for_timeout(500)
        return name

    page.goto(console.home)
    yield snap("sign-in")
    page.get_by_label("Access key ID").fill("IDSKWRONGWRONGWRONG0")
    page.get_by_label("Secret access key").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    yield "sign-in refused"
    sign_in(page, console, console.key(name="ops-admin"))
    yield snap("users")
    page.get_by_role("link", name="Create user").click()
    yield "create user"
    page.get_by_label("User name").fill("bad name")
    page.get_by_role("button", name="Create").click()
    yield snap("create-user-errors")
    create_user(page, "fmartin", "fmartin@example.com", "Farah Martin")
    yield snap("user")
    page.get_by_role("link", name="Edit").click()
    yield "edit user"
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Delete").click()
    yield "delete user"
    group_id = create_group(page, "Platform team", "Runs the platform")
    for name in ("akim", "bnoor", "fmartin"):
        page.get_by_label("User name").fill(name)
        page.get_by_role("button", name="Add", exact=True).click()
    yield snap("group")
    page.get_by_label("User name").fill("nobody")
    page.get_by_role("button", name="Add", exact=True).click()
    yield "group add refused"
    page.goto(console.url(f"/groups/{group_id}/edit"))
    yield "edit group"
    page.get_by_role("link", name="Groups").click()
    yield snap("groups")
    page.get_by_label("Search").fill("plat")
    page.get_by_role("button", name="Search").click()
    yield "groups search"
    page.get_by_role("link", name="SCIM tokens").click()
    page.get_by_role("button", name="Create token").click()
    yield snap("scim-tokens")
    page.goto(f"{console.server.url}/console/no-such-page")
    yield "not found"


def test_axe_finds_no_serious_violation_on_any_page(axe_page: Page, console: Console) -> None:
    _populate(console)
    checked = []
    for name in _visit_every_page(axe_page, console, None):
        check_axe(axe_page, name)
        checked.append(name)
    assert len(checked) == 15


def test_screenshots_of_the_main_pages(page: Page, console: Console) -> None:
    """The pictures in docs/console.md (IDSTORE_SCREENSHOTS=docs/console to refresh them)."""
    _populate(console)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(SCREENSHOTS or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        names = list(_visit_every_page(page, console, folder))
        taken = sorted(p.stem for p in folder.glob("*.png"))
        expected = [
            "create-user-errors",
            "group",
            "groups",
            "scim-tokens",
            "sign-in",
            "user",
            "users",
        ]
        assert set(expected) <= set(taken), names
        for name in expected:
            assert (folder / f"{name}.png").stat().st_size > 5_000


def test_the_keyboard_alone_signs_in_and_creates_a_user(page: Page, console: Console) -> None:
    pair = console.key()
    page.goto(console.home)

    def tab_to(name: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => { const e = document.activeElement; return e.labels && e.labels[0] ?"
                " e.labels[0].textContent.trim() : e.textContent.trim(); }"
            )
            if focused.removesuffix(" *") == name:  # the asterisk of a required field
                return
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("Access key ID")
    page.keyboard.type(pair.access_key_id)
    page.keyboard.press("Tab")
    page.keyboard.type(pair.secret)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    tab_to("Create user")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Create user")).to_be_visible()
    for label, value in [
        ("User name", "keys"),
        ("Display name", "Keyboard User"),
        ("Given name", "Key"),
        ("Family name", "Board"),
    ]:
        tab_to(label)
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("User created.")
    # The skip link is the first stop, and leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


@pytest.mark.parametrize("config", [Config(auth="none")], ids=["local-mode"])
def test_local_mode_needs_no_sign_in(page: Page, console: Console) -> None:
    page.goto(console.home)
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_text("Local mode: no sign-in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    user_id = create_user(page, "local", "local@example.com")
    assert console.store.get_user(console.store_id, user_id).audit.created_by == (
        "arn:aws:iam::000000000000:root"
    )
    response = page.goto(f"{console.server.url}/console/sign-in")
    assert response is not None
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    # Forms still need the session's CSRF token.
    refused = page.request.post(console.url("/users/new"), form={"UserName": "x"}, max_redirects=0)
    assert refused.status == 403

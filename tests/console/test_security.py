"""Who may do what in the console, and what protects a session: in a real Chromium.

Crafted requests are sent from the page's own request context (same cookies), as a script on
another tab or a hand-made form would send them.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import VIEWPORT, Console
from tests.console.ui import create_user, csrf_of, sign_in


def _form(**fields: str) -> dict[str, Any]:
    return {"form": fields, "max_redirects": 0}


def test_a_read_only_key_sees_no_write_controls_and_its_writes_are_refused(
    page: Page, console: Console
) -> None:
    writer = console.key()
    api = console.boto(writer)
    user = api.create_user(
        IdentityStoreId=console.store_id,
        UserName="existing",
        DisplayName="Existing",
        Name={"GivenName": "E", "FamilyName": "X"},
    )
    group = api.create_group(IdentityStoreId=console.store_id, DisplayName="Readers")
    reader = console.key(read_only=True, name="auditor")
    sign_in(page, console, reader)
    expect(page.get_by_text("read-only")).to_be_visible()
    expect(page.get_by_role("link", name="existing")).to_be_visible()
    expect(page.get_by_role("link", name="Create user")).to_have_count(0)
    page.get_by_role("link", name="existing").click()
    expect(page.get_by_role("heading", name="existing")).to_be_visible()
    for name in ("Edit", "Delete"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    page.get_by_role("link", name="Groups").click()
    expect(page.get_by_role("link", name="Create group")).to_have_count(0)
    page.get_by_role("link", name="Readers").click()
    expect(page.get_by_label("User name")).to_have_count(0)
    expect(page.get_by_role("button", name="Add")).to_have_count(0)
    page.get_by_role("link", name="SCIM tokens").click()
    expect(page.get_by_role("button", name="Create token")).to_have_count(0)
    expect(page.get_by_role("heading", name="Create token")).to_have_count(0)

    csrf = csrf_of(page)  # the sign-out form's: a valid token of this session
    crafted = [
        ("/users/new", {"UserName": "sneaky", "DisplayName": "S", "Name.GivenName": "S"}),
        (f"/users/{user['UserId']}/edit", {"UserName": "renamed", "DisplayName": "R"}),
        (f"/users/{user['UserId']}/delete", {}),
        (f"/groups/{group['GroupId']}/members", {"user_name": "existing"}),
        (f"/groups/{group['GroupId']}/delete", {}),
        ("/scim-tokens", {"days": "30"}),
    ]
    for tail, fields in crafted:
        response = page.request.post(console.url(tail), **_form(csrf=csrf, **fields))
        assert response.status == 403, tail
        assert "is not authorized to perform" in response.text()
        assert "read-only" in response.text()
    # Nothing changed.
    users = api.list_users(IdentityStoreId=console.store_id)["Users"]
    assert [(u["UserName"], u["Revision"]) for u in users] == [("existing", "1")]
    assert (
        api.list_group_memberships(IdentityStoreId=console.store_id, GroupId=group["GroupId"])[
            "GroupMemberships"
        ]
        == []
    )
    assert console.store.list_scim_tokens(console.store_id) == []


def test_a_post_without_the_csrf_token_is_refused(page: Page, console: Console) -> None:
    sign_in(page, console, console.key())
    form = {"UserName": "forged", "DisplayName": "F", "Name.GivenName": "F", "Name.FamilyName": "G"}
    for csrf in (None, "", "not-the-token"):
        fields = form if csrf is None else {**form, "csrf": csrf}
        response = page.request.post(console.url("/users/new"), **_form(**fields))
        assert response.status == 403
        assert "did not come from this console" in response.text()
    # A token of another session is no better.
    other = page.context.browser
    assert other is not None
    stranger = other.new_context()
    stranger_page = stranger.new_page()
    stranger_page.goto(console.home)
    foreign = csrf_of(stranger_page)
    stranger.close()
    response = page.request.post(console.url("/users/new"), **_form(**form, csrf=foreign))
    assert response.status == 403
    # With the page's own token, the same form goes through.
    response = page.request.post(console.url("/users/new"), **_form(**form, csrf=csrf_of(page)))
    assert response.status == 303
    assert [
        u.attributes["UserName"]
        for u in console.store.user_window(console.store_id, limit=10).items
    ] == ["forged"]


def test_a_wrong_secret_or_an_unknown_key_is_refused(page: Page, console: Console) -> None:
    pair = console.key()
    sign_in(page, console, pair, secret="wrong" + pair.secret[5:])
    expect(page.get_by_role("alert")).to_have_text(
        "The access key ID or the secret access key is wrong."
    )
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Access key ID").fill("IDSKNOSUCHKEY0000000")
    page.get_by_label("Secret access key").fill(pair.secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The access key ID or the secret access key is wrong."
    )
    # Pages stay closed.
    page.goto(console.url("/users"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The right secret opens them, and takes the admin to the page first asked for.
    page.get_by_label("Access key ID").fill(pair.access_key_id)
    page.get_by_label("Secret access key").fill(pair.secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()


def test_repeated_failures_are_slowed_down(
    page: Page, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server's clock stands still, so the waits (seconds) outlast the test on any machine.
    monkeypatch.setattr(console.server.app.console._failures, "_clock", lambda: 1000.0)
    pair = console.key()
    page.goto(console.home)
    for _ in range(6):
        page.get_by_label("Access key ID").fill(pair.access_key_id)
        page.get_by_label("Secret access key").fill("guess")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    # While the wait lasts, even the right secret is not considered.
    page.get_by_label("Access key ID").fill(pair.access_key_id)
    page.get_by_label("Secret access key").fill(pair.secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")


def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    browser: Browser, page: Page, console: Console
) -> None:
    sign_in(page, console, console.key())
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    copied = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(console.url("/users"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The cookie as it was before signing out opens nothing either (another server too).
    replay = browser.new_context(viewport=VIEWPORT)
    replay.add_cookies(copied)  # type: ignore[arg-type]
    replayed = replay.new_page()
    replayed.goto(console.url("/users"))
    expect(replayed.get_by_role("heading", name="Sign in")).to_be_visible()
    replay.close()


def test_a_deleted_keys_sessions_end_within_seconds(page: Page, console: Console) -> None:
    pair = console.key()
    sign_in(page, console, pair)
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    assert console.store.delete_access_key(pair.access_key_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page.goto(console.url("/users"))
        if page.get_by_role("heading", name="Sign in").count():
            break
        time.sleep(0.25)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_cookie_and_headers(page: Page, console: Console) -> None:
    response = page.goto(console.home)
    assert response is not None
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp  # no script at all
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console/"
    assert cookie["secure"] is False  # plain HTTP here; Secure over TLS (tests/console/test_units)


def test_the_pages_break_no_content_security_policy(page: Page, console: Console) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, console, console.key())
    create_user(page, "csp", "csp@example.com")
    page.get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Groups").click()
    page.get_by_role("link", name="SCIM tokens").click()
    assert problems == []
    # The stylesheet applied: the header bar is dark.
    colour = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert colour == "rgb(23, 32, 47)"


@pytest.mark.parametrize("tail", ["/users", "/groups", "/users/new"])
def test_pages_need_a_session(page: Page, console: Console, tail: str) -> None:
    response = page.request.get(console.url(tail), max_redirects=0)
    assert response.status == 200
    assert "Sign in" in response.text()
    assert "Create user" not in response.text()

"""What a person does in the console, as Playwright steps, found by the accessible names the
console promises (labels, button and link names), never by CSS selectors."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.console.conftest import AXE, Console, KeyPair


def sign_in(page: Page, console: Console, pair: KeyPair, secret: str | None = None) -> None:
    page.goto(console.home)
    page.get_by_label("Access key ID").fill(pair.access_key_id)
    page.get_by_label("Secret access key").fill(pair.secret if secret is None else secret)
    page.get_by_role("button", name="Sign in").click()


def create_user(page: Page, user_name: str, email: str, display_name: str = "") -> str:
    """Create a user from the users page; returns its id (from the page it lands on)."""
    page.get_by_role("navigation", name="Identity store").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("User name").fill(user_name)
    page.get_by_label("Display name").fill(display_name or user_name.title())
    page.get_by_label("Given name").fill(user_name.title())
    page.get_by_label("Family name").fill("Example")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("User created.")
    return page.url.split("/users/")[1].split("?")[0]


def create_group(page: Page, name: str, description: str = "") -> str:
    page.get_by_role("navigation", name="Identity store").get_by_role("link", name="Groups").click()
    page.get_by_role("link", name="Create group").click()
    page.get_by_label("Display name").fill(name)
    if description:
        page.get_by_label("Description").fill(description)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Group created.")
    return page.url.split("/groups/")[1].split("?")[0]


def csrf_of(page: Page) -> str:
    """The CSRF token of the page's forms (as a crafted request would have to find it)."""
    return str(page.locator("input[name=csrf]").first.input_value())


def check_axe(page: Page, name: str) -> None:
    """Run axe-core on the page: no serious or critical violation."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"axe-core on {name}:\n" + "\n".join(bad)


def rows(page: Page) -> list[str]:
    """The first cell of each row of the page's table."""
    return [t.strip() for t in page.locator("tbody tr td:first-child").all_inner_texts()]


def at_path(pattern: str) -> re.Pattern[str]:
    return re.compile(".*" + pattern)

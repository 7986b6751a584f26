"""SCIM cursor paging (RFC 9865), beside startIndex: walks that are stable under writes, opaque
cursors bound to the store, endpoint and filter, and `400 invalidCursor` for any other cursor
(see scim/cursors.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from idstore import wire
from idstore.app import App
from idstore.config import Config
from idstore.model import now
from idstore.store import Store
from tests.helpers import make_group, make_user
from tests.scim.conftest import LIST, Scim, issue_token, scim_error

UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


def _walk(page: Callable[[str], dict[str, Any]], limit: int = 100) -> list[dict[str, Any]]:
    """Every page of a cursor walk, from the empty cursor to the page without nextCursor."""
    pages = [page("")]
    while "nextCursor" in pages[-1]:
        assert len(pages) < limit, "the walk does not end"
        cursor = pages[-1]["nextCursor"]
        assert UNRESERVED.fullmatch(cursor), cursor
        pages.append(page(cursor))
    return pages


def _get(scim: Scim, path: str, **params: str) -> dict[str, Any]:
    response = scim.get(path, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [LIST]
    assert "startIndex" not in body
    assert body["itemsPerPage"] == len(body["Resources"])
    return body


def _users(client: Any, store_id: str, count: int, prefix: str = "user") -> list[str]:
    return [make_user(client, store_id, f"{prefix}{i:03}") for i in range(count)]


def test_a_cursor_walk_returns_every_user_once(scim: Scim, client: Any, store_id: str) -> None:
    made = _users(client, store_id, 11)
    pages = _walk(lambda c: _get(scim, "/Users", cursor=c, count="4"))
    assert [len(p["Resources"]) for p in pages] == [4, 4, 3]
    assert all(p["totalResults"] == 11 for p in pages)
    assert [r["id"] for p in pages for r in p["Resources"]] == made


def test_the_default_and_largest_page_is_100(scim: Scim, client: Any, store_id: str) -> None:
    _users(client, store_id, 3)
    assert len(_get(scim, "/Users", cursor="")["Resources"]) == 3
    assert len(_get(scim, "/Users", cursor="", count="1000")["Resources"]) == 3
    empty = _get(scim, "/Users", cursor="", count="0")
    assert (empty["totalResults"], empty["Resources"]) == (3, [])
    assert "nextCursor" not in empty


def test_a_walk_is_stable_under_writes(scim: Scim, client: Any, store_id: str) -> None:
    """Rows not changed during the walk are seen exactly once, whatever else is written."""
    made = _users(client, store_id, 30)
    seen: list[str] = []
    deleted: set[str] = set()
    renamed: set[str] = set()
    page = _get(scim, "/Users", cursor="", count="5")
    seen += [r["id"] for r in page["Resources"]]
    step = 0
    while "nextCursor" in page:
        step += 1
        assert step < 50
        # Between pages: delete one seen and one unseen user, rename an unseen one (an update
        # does not move it), and create two users (they come at the end of the walk).
        unseen = [u for u in made if u not in seen and u not in deleted]
        for victim in {seen[0], *unseen[-1:]} - deleted:
            client.delete_user(IdentityStoreId=store_id, UserId=victim)
            deleted.add(victim)
        if len(unseen) > 2:
            client.update_user(
                IdentityStoreId=store_id,
                UserId=unseen[0],
                Operations=[{"AttributePath": "displayName", "AttributeValue": f"step {step}"}],
            )
            renamed.add(unseen[0])
        made += _users(client, store_id, 2, prefix=f"new{step}-")
        page = _get(scim, "/Users", cursor=page["nextCursor"], count="5")
        seen += [r["id"] for r in page["Resources"]]
    assert len(seen) == len(set(seen)), "a user was returned twice"
    kept = [u for u in made if u not in deleted]
    assert set(kept) <= set(seen), "a user that was there all along was skipped"
    assert renamed & set(seen) == renamed - deleted


def test_a_walk_is_stable_under_concurrent_writes(scim: Scim, client: Any, store_id: str) -> None:
    """A writer thread creates and deletes users while the walk runs (a bounded number)."""
    base = _users(client, store_id, 40)
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            for i in range(40):
                made = make_user(client, store_id, f"churn{i:03}")
                if i % 2:
                    client.delete_user(IdentityStoreId=store_id, UserId=made)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    writer = threading.Thread(target=churn)
    writer.start()
    try:
        pages = _walk(lambda c: _get(scim, "/Users", cursor=c, count="3"), limit=200)
    finally:
        writer.join(60)
    assert not errors and not writer.is_alive()
    seen = [r["id"] for p in pages for r in p["Resources"]]
    assert len(seen) == len(set(seen)), "a user was returned twice"
    assert [u for u in seen if u in set(base)] == base, "a user there all along was skipped"


def test_groups_and_the_root_search_page_by_cursor(scim: Scim, client: Any, store_id: str) -> None:
    users = _users(client, store_id, 3)
    groups = [make_group(client, store_id, f"group{i}") for i in range(3)]
    pages = _walk(lambda c: _get(scim, "/Groups", cursor=c, count="2"))
    assert [g["id"] for p in pages for g in p["Resources"]] == groups

    def search(cursor: str) -> dict[str, Any]:
        response = scim.post(
            "/.search",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "cursor": cursor,
                "count": 3,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    # Users, then groups; a page that ends with the last user still points on to the groups.
    pages = _walk(search)
    assert [[r["id"] for r in p["Resources"]] for p in pages] == [users, groups]
    assert all(p["totalResults"] == 6 for p in pages)


def test_a_filtered_cursor_listing(scim: Scim, client: Any, store_id: str) -> None:
    _users(client, store_id, 3)
    body = _get(scim, "/Users", cursor="", filter='userName eq "user001"')
    assert [r["userName"] for r in body["Resources"]] == ["user001"]
    assert body["totalResults"] == 1 and "nextCursor" not in body
    nothing = _get(scim, "/Users", cursor="", filter='userName eq "nobody"')
    assert (nothing["totalResults"], nothing["Resources"]) == (0, [])


def test_a_cursor_is_bound_to_its_store_endpoint_and_filter(
    scim: Scim,
    scim_for: Callable[..., Scim],
    client: Any,
    store: Store,
    store_id: str,
) -> None:
    _users(client, store_id, 3)
    make_group(client, store_id, "group")
    cursor = _get(scim, "/Users", cursor="", count="1")["nextCursor"]
    assert _get(scim, "/Users", cursor=cursor, count="1")["Resources"]

    other = store.create_identity_store(now()).store_id
    _users(client, other, 3)
    elsewhere = scim_for(other, issue_token(store, other))
    scim_error(elsewhere.get("/Users", cursor=cursor, count="1"), 400, "invalidCursor")
    scim_error(scim.get("/Groups", cursor=cursor, count="1"), 400, "invalidCursor")
    scim_error(
        scim.get("/Users", cursor=cursor, count="1", filter='userName eq "user001"'),
        400,
        "invalidCursor",
    )
    filtered = _get(scim, "/Users", cursor="", count="1", filter='userName eq "user000"')
    assert "nextCursor" not in filtered  # one match: one page


def _flip_padding_bit(digit: str) -> str:
    """The base64 digit with its lowest bit changed: in the last digit of a cursor that bit
    carries no data, so a lax decoder would read the same bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return alphabet[alphabet.index(digit) ^ 1]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c[:-1] + _flip_padding_bit(c[-1]),
        lambda c: c[:5] + ("x" if c[5] != "x" else "y") + c[6:],
        lambda c: c + "AAAA",
        lambda c: c[:-4],
        lambda _: "not a cursor",
        lambda _: "!!!!",
        lambda _: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        lambda _: "é" * 35,
        lambda _: "v1:1:abc",
    ],
)
def test_a_bad_cursor_is_invalid_cursor(
    scim: Scim, client: Any, store_id: str, tamper: Callable[[str], str]
) -> None:
    _users(client, store_id, 2)
    cursor = _get(scim, "/Users", cursor="", count="1")["nextCursor"]
    body = scim_error(scim.get("/Users", cursor=tamper(cursor), count="1"), 400, "invalidCursor")
    assert "nextCursor" in body["detail"]


def test_bad_paging_parameters(scim: Scim, client: Any, store_id: str) -> None:
    _users(client, store_id, 1)
    scim_error(scim.get("/Users", cursor="", count="ten"), 400, "invalidCount")
    scim_error(scim.get("/Users", cursor="", startIndex="1"), 400, "invalidValue")
    response = scim.post("/Users/.search", {"cursor": 7})
    scim_error(response, 400, "invalidCursor")
    # Without a cursor, index paging answers as before.
    index = scim.get("/Users", startIndex="1", count="1").json()
    assert index["startIndex"] == 1 and "nextCursor" not in index


def test_service_provider_config_advertises_both_methods(scim: Scim) -> None:
    config = scim.get("/ServiceProviderConfig").json()
    assert config["pagination"] == {
        "cursor": True,
        "index": True,
        "defaultPaginationMethod": "index",
        "defaultPageSize": 100,
        "maxPageSize": 100,
    }


def test_another_server_on_the_database_accepts_the_cursor(
    scim: Scim, client: Any, store: Store, store_id: str, config: Config, scim_token: str
) -> None:
    """The cursor key is the database's, so any server process continues a walk."""
    made = _users(client, store_id, 2)
    cursor = _get(scim, "/Users", cursor="", count="1")["nextCursor"]
    other = App(store, config)
    response = other.scim.handle(
        wire.Request(
            method="GET",
            path=f"/{store_id}/scim/v2/Users",
            headers={"authorization": f"Bearer {scim_token}", "host": "other"},
            body=b"",
            query=f"cursor={cursor}&count=1",
        )
    )
    assert response.status == 200, response.body
    assert [r["id"] for r in orjson.loads(response.body)["Resources"]] == made[1:]

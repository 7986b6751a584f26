"""Schema-driven fuzz of the SCIM front end over HTTP: PATCH operations, bodies, filters and
resource ids, with a real HTTP client.

What to try comes from the schemas the server publishes (`GET /Schemas`, read through the
client once per test): every attribute and sub-attribute, plain, URN-qualified and in value
paths (`emails[type eq "work"].value`), each given values of its own type, of every other
JSON type, and odd text (NUL and other control characters, lone surrogates, ...). Filters
are built from the same paths with every SCIM operator, and literals that are JSON escapes
of odd characters (`"\\ud800"`, `"\\u0000"`) or raw ones (sent as UTF-8, lone surrogates as
their invalid bytes); resource ids are odd text and near misses of real ids.

Properties, on every database: no 5xx; every error is a SCIM error body (RFC 7644 §3.12) with
the SCIM media type; a refused write changes nothing; an accepted PATCH of a user answers
what a GET then reads; listing still works afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx2
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.conftest import fuzz_settings
from tests.scim.conftest import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE,
    ERROR,
    LIST,
    PATCH_OP,
    SCIM_JSON,
    Scim,
    new_user,
)
from tests.strategies import ODD_CHARACTERS, any_text, json_values, odd_text, plausible_text

SCIM_TYPES = {
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
}


def check(response: httpx2.Response, *, note: bool = True) -> Any:
    """Assert the invariants of every SCIM answer; return the JSON body (None for 204).
    `note`: record the answer as a Hypothesis event (inside a test only)."""
    shown = f"{response.request.method} {response.request.url} -> {response.status_code} "
    shown += response.text[:300]
    assert response.status_code < 500, shown
    if response.status_code == 204:
        assert not response.content, shown
        return None
    assert response.headers["content-type"].startswith(SCIM_JSON), shown
    body = response.json()
    assert isinstance(body, dict), shown
    if response.status_code >= 400:
        assert body.get("schemas") == [ERROR], shown
        assert body.get("status") == str(response.status_code), shown
        assert isinstance(body.get("detail"), str) and body["detail"], shown
        assert body.get("scimType", "invalidValue") in SCIM_TYPES, shown
        if note:
            event(f"{response.status_code} {body.get('scimType', '')}")
    elif note:
        event(str(response.status_code))
    return body


# -- what the schemas say ----------------------------------------------------------------------


def schema_paths(scim: Scim) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """For each resource type, its PATCH paths (plain, URN-qualified, value paths), each with
    the attribute it names, from the server's own /Schemas."""
    schemas = {s["id"]: s for s in check(scim.get("/Schemas"), note=False)["Resources"]}
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {"Users": [], "Groups": []}
    for kind, urns in (("Users", [CORE_USER, ENTERPRISE]), ("Groups", [CORE_GROUP])):
        for urn in urns:
            for attr in schemas[urn]["attributes"]:
                name = attr["name"]
                qualified = f"{urn}:{name}"
                found[kind] += [(name, attr), (qualified, attr)]
                for sub in attr.get("subAttributes", []):
                    found[kind].append((f"{name}.{sub['name']}", sub))
                    if urn == ENTERPRISE:
                        found[kind].append((f"{qualified}.{sub['name']}", sub))
                    if attr.get("multiValued"):
                        for odd in ("work", r"\ud800", r"\u0000"):
                            found[kind].append((f'{name}[type eq "{odd}"].{sub["name"]}', sub))
                if attr.get("multiValued"):
                    found[kind] += [
                        (f'{name}[type eq "work"]', attr),
                        (f"{name}[primary eq true]", attr),
                        (f'{name}[value eq "x"]', attr),
                    ]
            found[kind].append((urn, {"type": "complex", "name": urn}))
    return found


def typed(attr: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the attribute's own type (a list of them when multi-valued)."""
    kind = attr.get("type", "string")
    if kind == "boolean":
        one: st.SearchStrategy[Any] = st.booleans() | st.sampled_from(["true", "False"])
    elif kind == "complex":
        subs = {s["name"]: typed(s) for s in attr.get("subAttributes", [])}
        one = st.fixed_dictionaries({}, optional=subs)
    else:
        values = attr.get("canonicalValues") or []
        one = st.sampled_from(values) | plausible_text if values else plausible_text
    return st.lists(one, min_size=1, max_size=2) | one if attr.get("multiValued") else one


def values_for(attr: dict[str, Any]) -> st.SearchStrategy[Any]:
    good = typed(attr)
    return st.one_of(good, good, odd_text, json_values)


OPS = st.sampled_from(["add", "replace", "remove", "Add", "REPLACE", "Remove", "delete"])


@st.composite
def operations(draw: Any, paths: list[tuple[str, dict[str, Any]]], user_ids: list[str]) -> Any:
    """A PatchOp body: 1-3 operations on the schema's paths (or none: a whole-resource value)."""
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        op: dict[str, Any] = {"op": draw(OPS)}
        if draw(st.integers(0, 4)):
            path, attr = draw(st.sampled_from(paths))
            op["path"] = path
            if attr.get("name") == "members":
                member = st.sampled_from(user_ids) | odd_text | any_text
                value: Any = draw(
                    st.lists(st.fixed_dictionaries({"value": member}), max_size=2)
                    | values_for(attr)
                )
            else:
                value = draw(values_for(attr))
        else:
            names = st.sampled_from([p for p, _ in paths if "[" not in p])
            value = draw(st.dictionaries(names, json_values | odd_text, max_size=2))
        if op["op"].lower() != "remove" or draw(st.booleans()):
            op["value"] = value
        ops.append(op)
    body: dict[str, Any] = {"Operations": ops}
    if draw(st.integers(0, 5)):
        body["schemas"] = [PATCH_OP]
    return body


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def world(scim: Scim) -> Iterator[dict[str, Any]]:
    """Two users and a group (with one of them) in the store; the schemas' paths."""
    alice = check(scim.post("/Users", new_user("alice@example.com")), note=False)["id"]
    bob = check(scim.post("/Users", new_user("bob@example.com")), note=False)["id"]
    group = check(
        scim.post(
            "/Groups",
            {"schemas": [CORE_GROUP], "displayName": "Admins", "members": [{"value": alice}]},
        ),
        note=False,
    )["id"]
    yield {"users": [alice, bob], "group": group, "paths": schema_paths(scim)}


def _send(scim: Scim, method: str, path: str, body: Any) -> httpx2.Response:
    """A request with a JSON body (lone surrogates escaped, as any JSON encoder writes them)."""
    return scim.request(
        method, path, content=json.dumps(body).encode(), headers={"Content-Type": SCIM_JSON}
    )


# -- PATCH -------------------------------------------------------------------------------------


@fuzz_settings(80)
@given(data=st.data())
def test_user_patch_operations(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    user_id = data.draw(st.sampled_from(world["users"]), label="user")
    body = data.draw(operations(world["paths"]["Users"], world["users"]), label="body")
    before = check(scim.get(f"/Users/{user_id}"))
    response = _send(scim, "PATCH", f"/Users/{user_id}", body)
    answer = check(response)
    after = check(scim.get(f"/Users/{user_id}"))
    if response.status_code >= 400:
        assert after == before, "a refused PATCH changed the user"
    else:
        assert answer == after
    assert check(scim.get("/Users"))["totalResults"] == 2


@fuzz_settings(60)
@given(data=st.data())
def test_group_patch_operations(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    group = world["group"]
    body = data.draw(operations(world["paths"]["Groups"], world["users"]), label="body")
    before = check(scim.get(f"/Groups/{group}"))
    response = _send(scim, "PATCH", f"/Groups/{group}", body)
    check(response)
    after = check(scim.get(f"/Groups/{group}"))
    if response.status_code >= 400:
        assert after == before, "a refused PATCH changed the group"
    members = [m["value"] for m in after.get("members", [])]
    assert set(members) <= set(world["users"])


# -- bodies --------------------------------------------------------------------------------------


@st.composite
def bodies(draw: Any, paths: list[tuple[str, dict[str, Any]]], base: dict[str, Any]) -> Any:
    """A valid resource body with 1-3 attributes replaced by values of any kind."""
    body = dict(base)
    plain = [(p, a) for p, a in paths if "[" not in p and "." not in p]
    for path, attr in draw(st.lists(st.sampled_from(plain), min_size=1, max_size=3)):
        body[path] = draw(values_for(attr))
    return body


@fuzz_settings(60)
@given(data=st.data())
def test_user_bodies(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    """POST and PUT of user bodies shaped like the schema, with odd values in them."""
    name = data.draw(plausible_text, label="name") + "@example.com"
    body = data.draw(bodies(world["paths"]["Users"], new_user(name)), label="body")
    created = _send(scim, "POST", "/Users", body)
    answer = check(created)
    if created.status_code == 201:
        assert check(scim.get(f"/Users/{answer['id']}")) == answer
    target = world["users"][1]
    before = check(scim.get(f"/Users/{target}"))
    replaced = _send(scim, "PUT", f"/Users/{target}", body)
    check(replaced)
    if replaced.status_code >= 400:
        assert check(scim.get(f"/Users/{target}")) == before


@fuzz_settings(60)
@given(data=st.data())
def test_group_bodies(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(plausible_text, label="name")
    base = {"schemas": [CORE_GROUP], "displayName": name}
    body = data.draw(bodies(world["paths"]["Groups"], base), label="body")
    created = _send(scim, "POST", "/Groups", body)
    answer = check(created)
    if created.status_code == 201:
        check(scim.get(f"/Groups/{answer['id']}"))


# -- filters -------------------------------------------------------------------------------------

ESCAPES = [r"\ud800", r"\udfff", r"\u0000", r"\u001f", r"\"", "\\\\", r"\ud83d\ude00", r"\x"]


@st.composite
def literals(draw: Any, known: list[str]) -> str:
    """A comparison value: a JSON string (with odd escapes or raw odd characters), a number,
    a keyword, a bare word, or a real user name or id."""
    kind = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3, 4, 5]))
    if kind == 0:
        return json.dumps(draw(st.sampled_from(known)))
    if kind == 1:
        parts = draw(st.lists(st.sampled_from(ESCAPES) | plausible_text, min_size=1, max_size=3))
        return '"' + "".join(parts) + '"'
    if kind == 2:
        return '"' + draw(st.text(st.sampled_from(ODD_CHARACTERS) | st.just("a"), max_size=4)) + '"'
    if kind == 3:
        return draw(st.sampled_from(["true", "false", "null", "1", "-1.5e3", "2020-01-01"]))
    if kind == 4:
        return draw(plausible_text)
    return json.dumps(draw(any_text), ensure_ascii=False)


FILTER_OPS = ["eq", "EQ", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"]


@st.composite
def filters(draw: Any, paths: list[str], known: list[str]) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(any_text)
    terms = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["eq"] * 20 + FILTER_OPS))
        term = f"{path} pr" if op == "pr" else f"{path} {op} {draw(literals(known))}"
        if draw(st.integers(0, 6)) == 0:
            term = f"not ({term})"
        terms.append(term)
    joiner = draw(st.sampled_from([" and "] * 3 + [" AND ", " or "]))
    return joiner.join(terms)


FILTER_PATHS = [
    *["userName", "id", "externalId", "displayName", "members", "emails.value"] * 3,
    "members.value",
    'emails[type eq "work"].value',
    "emails[value",
    f"{CORE_USER}:userName",
    f"{ENTERPRISE}:employeeNumber",
    "meta.created",
    "name.givenName",
    "active",
]


def _query(params: dict[str, str]) -> str:
    # Lone surrogates go out as the (invalid) UTF-8 bytes they would be.
    return urlencode(params, encoding="utf-8", errors="surrogatepass")


@fuzz_settings(150)
@given(data=st.data())
def test_filters(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    known = [*world["users"], world["group"], "alice@example.com", "Admins"]
    text = data.draw(filters(FILTER_PATHS, known), label="filter")
    endpoint = data.draw(st.sampled_from(["/Users", "/Groups", ""]), label="endpoint")
    if endpoint and data.draw(st.booleans(), label="GET"):
        params = {"filter": text}
        if data.draw(st.booleans(), label="paged"):
            params["count"] = data.draw(st.sampled_from(["1", "0", "-1", "x", "99999"]))
        response = scim.request("GET", f"{endpoint}?{_query(params)}")
    else:
        response = _send(scim, "POST", f"{endpoint}/.search", {"filter": text})
    body = check(response)
    if response.status_code == 200:
        assert body["schemas"] == [LIST]
        assert body["totalResults"] <= 3


# -- resource ids --------------------------------------------------------------------------------


@st.composite
def odd_ids(draw: Any, real: list[str]) -> str:
    """Ids that name nothing: odd text, or a real id with odd characters around or in it.
    Not "/": the ASGI path arrives percent-decoded, so `/Users/%2F<id>` is `/Users//<id>`,
    which names the user (empty segments are ignored, as a trailing slash is)."""
    no_slash = st.characters(exclude_characters="/")
    if draw(st.booleans()):
        return draw(
            odd_text.filter(lambda t: t.strip("/")) | st.text(no_slash, min_size=1)
        ).replace("/", "-")
    base = draw(st.sampled_from(real))
    odd = draw(st.sampled_from([c for c in ODD_CHARACTERS if c != "/"]) | odd_text)
    at = draw(st.integers(0, len(base)))
    return base[:at] + odd.replace("/", "-") + base[at:]


@fuzz_settings(80)
@given(data=st.data())
def test_resource_ids(scim: Scim, world: dict[str, Any], data: st.DataObject) -> None:
    real = [*world["users"], world["group"]]
    resource_id = data.draw(odd_ids(real), label="id")
    kind = data.draw(st.sampled_from(["Users", "Groups"]), label="kind")
    method = data.draw(st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]), label="method")
    # Percent-encoded UTF-8, lone surrogates as their invalid bytes; "/" too.
    path = f"/{kind}/" + quote(resource_id.encode("utf-8", "surrogatepass"), safe="")
    if method == "GET":
        response = scim.request("GET", path)
    elif method == "DELETE":
        response = scim.request("DELETE", path)
    elif method == "PATCH":
        ops = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName"}]}
        ops["Operations"][0]["value"] = "X"
        response = _send(scim, "PATCH", path, ops)
    else:
        body = new_user("carol@example.com") if kind == "Users" else {"displayName": "C"}
        response = _send(scim, "PUT", path, body)
    check(response)
    assert response.status_code >= 400, "an odd id named a resource"
    listed = check(scim.get("/Users"))
    assert listed["totalResults"] == 2, "an odd id deleted a resource"

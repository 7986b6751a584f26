"""Whatever a client sends, the SCIM front end answers a SCIM error body, never a 5xx.

Hypothesis builds request bodies, PATCH operations, paths, filters and query strings from
fragments real clients use and random JSON, and sends them through the service's `handle`
(in-process: the input is hand-made, so no client library is involved). Also: every kind of
domain error has its row in the one error table.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import orjson
from hypothesis import given
from hypothesis import strategies as st

from idstore import errors, wire
from idstore.scim import endpoints, problems
from tests.conftest import RunningServer, fuzz_settings

PATHS = [
    "userName",
    "active",
    "name",
    "name.givenName",
    "emails",
    'emails[type eq "work"].value',
    'emails[value eq "a@b.c"]',
    "emails.value",
    "members",
    'members[value eq "x"]',
    "externalId",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:title",
    "id",
    "meta.created",
    "roles[primary eq true]",
    'phoneNumbers[type eq "work" and value eq "1"].value',
    "x[",
    "",
    "a.b.c",
    "members.value",
]
FILTERS = [
    'userName eq "a"',
    "externalId eq x",
    'id eq "g" and members eq "u"',
    'displayName eq "G"',
    'emails[type eq "work"].value eq "a@b.c"',
    'userName co "a"',
    "(",
    'userName eq "a" or a eq 1',
    'members eq "u"',
    "",
    'meta.created gt "2020"',
    'emails[type eq "work"]',
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "userName",
        "UserName",
        "name",
        "displayName",
        "emails",
        "members",
        "active",
        "externalId",
        "schemas",
        "id",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "roles",
        "phoneNumbers",
        "password",
        "photos",
    ]
) | st.text(max_size=10)
bodies = st.dictionaries(keys, json_values, max_size=6)
operations = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "Add", "replace", "Replace", "remove", "Remove", "x"])},
        optional={
            "path": st.sampled_from(PATHS) | st.text(max_size=15),
            "value": json_values | bodies,
        },
    ),
    min_size=0,
    max_size=4,
)


def _send(
    server: RunningServer,
    store_id: str,
    token: str,
    method: str,
    path: str,
    body: Any,
    query: str = "",
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = wire.Request(
        method,
        f"/{store_id}/scim/v2{path}",
        {"authorization": f"Bearer {token}", "content-type": "application/scim+json", "host": "h"},
        content,
        query,
    )
    response = server.app.scim.handle(request)
    assert response.status < 500, (method, path, body, query, response.body)
    if response.status >= 400:
        error = orjson.loads(response.body)
        assert error["status"] == str(response.status) and error["detail"]


@fuzz_settings(60)
@given(body=bodies, ops=operations, kind=st.sampled_from(["Users", "Groups"]))
def test_writes_never_fail_with_5xx(
    server: RunningServer, store_id: str, scim_token: str, body: Any, ops: Any, kind: str
) -> None:
    _send(server, store_id, scim_token, "POST", f"/{kind}", body)
    _send(server, store_id, scim_token, "PATCH", f"/{kind}/some-id", {"Operations": ops})
    user = server.app.store.list_users(store_id, None, 1).items
    group = server.app.store.list_groups(store_id, None, 1).items
    if user:
        _send(
            server, store_id, scim_token, "PATCH", f"/Users/{user[0].user_id}", {"Operations": ops}
        )
        _send(server, store_id, scim_token, "PUT", f"/Users/{user[0].user_id}", body)
    if group:
        _send(
            server,
            store_id,
            scim_token,
            "PATCH",
            f"/Groups/{group[0].group_id}",
            {"Operations": ops},
        )
        _send(server, store_id, scim_token, "PUT", f"/Groups/{group[0].group_id}", body)


@fuzz_settings(80)
@given(
    filter_=st.sampled_from(FILTERS) | st.text(max_size=30),
    params=st.dictionaries(
        st.sampled_from(["startIndex", "count", "attributes", "excludedAttributes", "sortBy"]),
        st.text(max_size=12) | st.integers(-(2**70), 2**70).map(str),
        max_size=3,
    ),
    path=st.sampled_from(
        ["/Users", "/Groups", "/Users/x", "/Schemas", "/ResourceTypes/User", "/.search"]
    ),
)
def test_reads_never_fail_with_5xx(
    server: RunningServer,
    store_id: str,
    scim_token: str,
    filter_: str,
    params: dict[str, str],
    path: str,
) -> None:
    query = urlencode({"filter": filter_, **params})
    method = "POST" if path == "/.search" else "GET"
    body = {"filter": filter_, **params} if method == "POST" else b""
    _send(server, store_id, scim_token, method, path, body, query)


def test_every_error_kind_has_a_row_in_the_error_table() -> None:
    kinds = [
        c
        for module in (errors, problems)
        for c in vars(module).values()
        if isinstance(c, type)
        and issubclass(c, errors.IdstoreError)
        and c is not errors.IdstoreError
    ]
    assert kinds
    missing = [k.__name__ for k in kinds if k not in endpoints._ERRORS]
    assert not missing

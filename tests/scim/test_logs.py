"""The SCIM audit trail: one JSON line per request on `idstore.requests`, like the AWS API's,
with the request id, method and path template, store, resource id, the token's id, status,
error class and latency, and for a refused bearer token the reason; never a token, a secret or
a profile value."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from idstore.model import now
from idstore.scim import tokens
from idstore.store import Store
from tests.helpers import is_uuid
from tests.scim.conftest import Scim, create_group, create_user, new_user

FIELDS = {
    "request_id",
    "operation",
    "store",
    "resource",
    "principal",
    "client_ip",
    "status",
    "error",
    "auth_failure",
    "latency_ms",
}


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO, logger="idstore.requests")

    def read() -> list[dict[str, Any]]:
        found = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idstore.requests"]
        caplog.clear()
        return found

    return read


def _token_id(store: Store, store_id: str) -> str:
    (token,) = store.list_scim_tokens(store_id)
    return token.token_id


def test_one_line_per_scim_request(scim: Scim, store: Store, store_id: str, lines: Any) -> None:
    principal = f"scim-token/{_token_id(store, store_id)}"
    lines()
    user = create_user(scim, "alice@example.com")
    group = create_group(scim, "Team", members=[{"value": user["id"]}])
    fetched = scim.get(f"/Users/{user['id']}")
    patched = scim.patch(
        f"/Groups/{group['id']}",
        {"op": "remove", "path": "members", "value": [{"value": user["id"]}]},
    )
    listed = scim.get("/Users", filter='userName eq "alice@example.com"')
    missing = scim.delete("/Users/no-such-user")
    searched = scim.post("/Groups/.search", {"filter": 'displayName eq "Team"'})
    logged = lines()
    assert [(line["operation"], line["status"], line["resource"]) for line in logged] == [
        ("POST /Users", 201, user["id"]),
        ("POST /Groups", 201, group["id"]),
        ("GET /Users/{id}", 200, user["id"]),
        ("PATCH /Groups/{id}", 204, group["id"]),
        ("GET /Users", 200, None),
        ("DELETE /Users/{id}", 404, "no-such-user"),
        ("POST /Groups/.search", 200, None),
    ]
    responses = [fetched, patched, listed, missing, searched]
    assert [line["request_id"] for line in logged[2:]] == [
        r.headers["x-amzn-requestid"] for r in responses
    ]
    for line in logged:
        assert set(line) == FIELDS
        assert is_uuid(line["request_id"])
        assert line["store"] == store_id
        assert line["principal"] == principal
        assert line["client_ip"] == "127.0.0.1"
        assert line["auth_failure"] is None
        assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert [line["error"] for line in logged] == [None] * 5 + ["NotFound", None]


def test_refused_bearer_tokens_are_logged_with_the_reason(
    scim_for: Any, store: Store, store_id: str, scim_token: str, lines: Any
) -> None:
    other_store = store.create_identity_store(now()).store_id
    other_token = tokens.issue(store, other_store, at=now())[0]
    expired = tokens.issue(
        store, store_id, at=now() - timedelta(days=2), lifetime=timedelta(days=1)
    )[0]
    lines()
    attempts = {
        "missing": scim_for(store_id, None),
        "unknown": scim_for(store_id, tokens.PREFIX + "not-a-token"),
        "other_store": scim_for(store_id, other_token),
        "expired": scim_for(store_id, expired),
    }
    for client in attempts.values():
        assert client.get("/Users").status_code == 401
    malformed = scim_for(store_id, None)
    assert (
        malformed.request("GET", "/Users", headers={"Authorization": "Basic eDp5"}).status_code
        == 401
    )
    logged = lines()
    assert [line["auth_failure"] for line in logged] == [*attempts, "malformed"]
    for line in logged:
        assert set(line) == FIELDS
        assert (line["operation"], line["status"], line["error"]) == (
            "GET /Users",
            401,
            "RefusedToken",
        )
        assert line["principal"] is None and line["store"] == store_id
    text = json.dumps(logged)
    for secret in (scim_token, other_token, expired, "not-a-token", "eDp5"):
        assert secret not in text


def test_no_token_or_profile_value_is_logged(
    scim: Scim, scim_token: str, caplog: pytest.LogCaptureFixture, lines: Any
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    body = new_user("secret-username-0001@example.com", displayName="secret-display-0004")
    body["name"] = {"givenName": "secret-given-0002", "familyName": "secret-family-0003"}
    user = scim.post("/Users", body).json()
    scim.patch(
        f"/Users/{user['id']}", {"op": "replace", "path": "nickName", "value": "secret-0005"}
    )
    scim.get("/Users", filter='userName eq "secret-username-0001@example.com"')
    scim.post("/Users", {"userName": "secret-0006", "emails": "wrong"})  # a 400
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("idstore"))
    assert len(lines()) == 4
    for value in ("secret", scim_token, tokens.PREFIX):
        assert value not in text, value


def test_odd_resource_ids_are_logged_bounded(scim: Scim, lines: Any) -> None:
    lines()
    assert scim.get("/Users/" + "x" * 5000).status_code == 404
    assert scim.get("/Users/%ED%A0%80").status_code == 404
    assert scim.get("/Nothing/here/at/all").status_code == 404
    first, second, third = lines()
    assert first["resource"] == "x" * 128
    assert isinstance(second["resource"], str)
    assert (third["operation"], third["resource"]) == ("GET (other)", None)

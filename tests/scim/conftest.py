"""Fixtures of the SCIM suite, on top of tests/conftest.py.

- `scim_token`: a bearer token of `store_id`, made as `idstore scim-tokens create` makes one;
- `scim`: a SCIM client (HTTP, JSON bodies sent as `application/scim+json`) at the tenant URL
  `<server>/<store id>/scim/v2/` of the running `server`, with that token;
- `scim_for`: the same for another store or token (`scim_for(store_id, token)`).

SCIM requests go over real HTTP to the uvicorn `server`; the boto3 `client` fixture reads and
writes the same store in-process, which is what the cross-view tests rely on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from idstore.model import now
from idstore.scim import tokens
from idstore.store import Store
from tests.conftest import RunningServer

SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Scim:
    """A thin SCIM client: paths are relative to the tenant URL; bodies are JSON objects."""

    def __init__(self, base: str, token: str | None, *, query: str = "") -> None:
        self.base = base
        self.query = query  # appended to every request (Entra's tenant-URL flags)
        headers = {"Accept": SCIM_JSON}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx2.Client(base_url=base, headers=headers, timeout=30, trust_env=False)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx2.Response:
        sent = dict(headers or {})
        if body is not None:
            content = json.dumps(body).encode()
            sent.setdefault("Content-Type", f"{SCIM_JSON}; charset=utf-8")
        url = path if not self.query else f"{path}{'&' if '?' in path else '?'}{self.query}"
        return self.http.request(method, url, content=content, params=params, headers=sent)

    def get(self, path: str, **params: str) -> httpx2.Response:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> httpx2.Response:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> httpx2.Response:
        return self.request("PUT", path, body)

    def patch(self, path: str, *operations: dict[str, Any]) -> httpx2.Response:
        return self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    def delete(self, path: str) -> httpx2.Response:
        return self.request("DELETE", path)

    def close(self) -> None:
        self.http.close()


def issue_token(store: Store, store_id: str) -> str:
    return tokens.issue(store, store_id, at=now())[0]


@pytest.fixture
def scim_token(store: Store, store_id: str) -> str:
    return issue_token(store, store_id)


@pytest.fixture
def scim_for(server: RunningServer) -> Iterator[Callable[..., Scim]]:
    clients: list[Scim] = []

    def make(store_id: str, token: str | None, *, query: str = "") -> Scim:
        client = Scim(f"{server.url}/{store_id}/scim/v2", token, query=query)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def scim(scim_for: Callable[..., Scim], store_id: str, scim_token: str) -> Scim:
    return scim_for(store_id, scim_token)


def scim_error(
    response: httpx2.Response, status: int, scim_type: str | None = None
) -> dict[str, Any]:
    """Assert `response` is a SCIM error with this status (and scimType); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_JSON)
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


def new_user(name: str = "bjensen@example.com", **extra: Any) -> dict[str, Any]:
    """A valid SCIM user body (what every IdP sends at least)."""
    body: dict[str, Any] = {
        "schemas": [CORE_USER],
        "userName": name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Barbara Jensen",
        "emails": [
            {
                "value": name if "@" in name else f"{name}@example.com",
                "type": "work",
                "primary": True,
            }
        ],
        "active": True,
    }
    body.update(extra)
    return body


def create_user(scim: Scim, name: str = "bjensen@example.com", **extra: Any) -> dict[str, Any]:
    response = scim.post("/Users", new_user(name, **extra))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def create_group(scim: Scim, name: str = "Engineering", **extra: Any) -> dict[str, Any]:
    response = scim.post("/Groups", {"schemas": [CORE_GROUP], "displayName": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]

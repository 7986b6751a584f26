"""Bearer tokens: every SCIM endpoint needs one of its own store; and their life cycle.

Auth failures are 401 SCIM errors (with `WWW-Authenticate`), for a missing, malformed, unknown,
expired or deleted token and for a token of another identity store. Tokens are stored as
digests only, at most two per store are active, they expire after a year by default, and
`idstore scim-tokens create|list|delete` manages them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from idstore.errors import NotFound, QuotaExceeded
from idstore.model import now
from idstore.scim import tokens
from idstore.store import Store, open_store
from idstore.store.schema import scim_tokens
from tests.scim.conftest import Scim, create_user, issue_token, scim_error

ENDPOINTS = [
    "/Users",
    "/Groups",
    "/ServiceProviderConfig",
    "/Schemas",
    "/ResourceTypes",
    "/Users/x",
    "/nope",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_a_token(
    scim_for: Callable[..., Scim], store_id: str, path: str
) -> None:
    response = scim_for(store_id, None).get(path)
    scim_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer wrong-token",
        "bearer idstore_scim_x",
    ],
)
def test_a_malformed_or_unknown_token_is_refused(scim: Scim, authorization: str) -> None:
    response = scim.request("GET", "/Users", headers={"Authorization": authorization})
    scim_error(response, 401)


def test_the_scheme_is_case_insensitive(scim: Scim, scim_token: str) -> None:
    response = scim.request("GET", "/Users", headers={"Authorization": f"bearer {scim_token}"})
    assert response.status_code == 200


def test_a_token_of_store_a_is_refused_on_store_b(
    scim_for: Callable[..., Scim], store: Store, store_id: str, scim_token: str
) -> None:
    other = store.create_identity_store(now()).store_id
    other_token = issue_token(store, other)
    assert scim_for(other, other_token).get("/Users").status_code == 200
    scim_error(scim_for(other, scim_token).get("/Users"), 401)
    scim_error(scim_for(store_id, other_token).get("/ServiceProviderConfig"), 401)
    scim_error(scim_for("d-0000000000", scim_token).get("/Users"), 401)


def test_expired_and_deleted_tokens_are_refused(
    scim_for: Callable[..., Scim], store: Store, store_id: str
) -> None:
    expired, _ = tokens.issue(
        store, store_id, at=now() - timedelta(days=2), lifetime=timedelta(days=1)
    )
    scim_error(scim_for(store_id, expired).get("/Users"), 401)
    token, record = tokens.issue(store, store_id, at=now())
    client = scim_for(store_id, token)
    assert client.get("/Users").status_code == 200
    assert store.delete_scim_token(store_id, record.token_id)
    scim_error(client.get("/Users"), 401)


def test_at_most_two_active_tokens_per_store(store: Store, store_id: str) -> None:
    tokens.issue(store, store_id, at=now() - timedelta(days=400))  # expired: does not count
    _, one = tokens.issue(store, store_id, at=now())
    tokens.issue(store, store_id, at=now())
    with pytest.raises(QuotaExceeded):
        tokens.issue(store, store_id, at=now())
    assert store.delete_scim_token(store_id, one.token_id)
    tokens.issue(store, store_id, at=now())
    listed = store.list_scim_tokens(store_id)
    assert [t.active(now()) for t in listed] == [False, True, True]
    assert not store.delete_scim_token(store_id, one.token_id)
    with pytest.raises(NotFound):
        store.list_scim_tokens("d-0000000000")


def test_tokens_expire_after_a_year_and_are_stored_as_digests(store: Store, store_id: str) -> None:
    at = now()
    token, record = tokens.issue(store, store_id, at=at)
    assert record.expires_at - record.created_at == timedelta(days=365)
    assert token.startswith(tokens.PREFIX) and len(token) > 40
    with store.engine.connect() as conn:
        rows = conn.execute(select(scim_tokens)).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    assert token not in stored
    assert tokens.digest(token) in stored


def test_a_token_stops_working_when_its_store_is_deleted(
    scim_for: Callable[..., Scim], store: Store, store_id: str, scim_token: str
) -> None:
    client = scim_for(store_id, scim_token)
    create_user(client, "gone@example.com")
    store.delete_identity_store(store_id)
    scim_error(client.get("/Users"), 401)
    assert store.find_scim_token(tokens.digest(scim_token)) is None


def test_source_ips_are_enforced_with_403(scim: Scim, client: Any, store_id: str) -> None:
    client.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={"VpceAccessRequired": False, "ScimAllowSourceIps": ["10.1.0.0/16"]},
    )
    time.sleep(1.1)  # a server trusts its copy of the allow-list for a second
    scim_error(scim.get("/Users"), 403)
    client.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={"VpceAccessRequired": False, "ScimAllowSourceIps": ["127.0.0.0/8"]},
    )
    time.sleep(1.1)
    assert scim.get("/Users").status_code == 200


# -- the CLI ---------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idstore", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )


def test_the_scim_tokens_commands(file_db_url: str, scim_for: Callable[..., Scim]) -> None:
    store = open_store(file_db_url)
    try:
        store_id = store.create_identity_store(now()).store_id
    finally:
        store.close()

    created = run("scim-tokens", "create", "--store", store_id, "--db", file_db_url)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith(tokens.PREFIX) and " " not in token
    token_id = created.stdout.split("Token id: ")[1].split()[0]

    second = run("scim-tokens", "create", "--store", store_id, "--days", "30", "--db", file_db_url)
    assert second.returncode == 0, second.stderr
    third = run("scim-tokens", "create", "--store", store_id, "--db", file_db_url)
    assert third.returncode != 0
    assert "at most" in third.stderr or "most allowed" in third.stderr

    listed = run("scim-tokens", "list", "--store", store_id, "--db", file_db_url)
    assert listed.returncode == 0
    assert token_id in listed.stdout and listed.stdout.count("active") == 2
    assert token not in listed.stdout

    deleted = run("scim-tokens", "delete", "--store", store_id, token_id, "--db", file_db_url)
    assert deleted.returncode == 0, deleted.stderr
    again = run("scim-tokens", "delete", "--store", store_id, token_id, "--db", file_db_url)
    assert again.returncode != 0 and token_id in again.stderr
    missing = run("scim-tokens", "create", "--store", "d-0000000000", "--db", file_db_url)
    assert missing.returncode != 0 and "d-0000000000" in missing.stderr

    store = open_store(file_db_url)
    try:
        assert store.find_scim_token(tokens.digest(token)) is None
        assert len(store.list_scim_tokens(store_id)) == 1
    finally:
        store.close()

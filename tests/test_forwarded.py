"""Forwarded headers (idstore/forwarded.py): believed only from the proxies the operator names.

Over real HTTP (uvicorn run as `idstore serve` runs it), with real clients: a forged
`X-Forwarded-For` from a peer that is not a trusted proxy neither passes a source-IP
allow-list nor reaches the request log; from a named proxy, the header names the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from idstore.config import Config
from idstore.forwarded import ForwardedHeaders
from idstore.model import now
from idstore.store import Store
from tests.conftest import REGION, RunningServer
from tests.helpers import expect_error
from tests.scim.conftest import Scim, issue_token

ELSEWHERE = {"ApiAllowSourceIps": ["10.0.0.0/8"], "ScimAllowSourceIps": ["10.0.0.0/8"]}
TRUSTED = {"trusted_proxies": ("127.0.0.1",)}


@pytest.fixture
def config(request: pytest.FixtureRequest) -> Config:
    """The server's configuration: the defaults, or the test's parameters."""
    return Config(**getattr(request, "param", {}))


def _client(server: RunningServer, headers: dict[str, str]) -> Any:
    client = boto3.client(
        "identitystore",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="AKIDHTTPCLIENT",
        aws_secret_access_key="secret",
    )

    def add(request: Any, **_: Any) -> None:
        request.headers.update(headers)

    client.meta.events.register("before-send.identitystore.*", add)
    return client


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Callable[[], list[dict[str, Any]]]:
    caplog.set_level(logging.INFO, logger="idstore.requests")
    return lambda: [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "idstore.requests"
    ]


def _restrict(store: Store, store_id: str) -> None:
    store.update_identity_store(store_id, {"VpceAccessRequired": False, **ELSEWHERE})


def test_a_forged_header_from_an_untrusted_peer_is_ignored(
    server: RunningServer, store: Store, store_id: str, lines: Any
) -> None:
    _restrict(store, store_id)
    forged = {"X-Forwarded-For": "10.1.2.3", "Forwarded": "for=10.1.2.3"}
    client = _client(server, forged)
    error = expect_error("AccessDeniedException", client.list_users, IdentityStoreId=store_id)
    assert "127.0.0.1" in error["Error"]["Message"]
    assert lines()[-1]["client_ip"] == "127.0.0.1"
    scim = Scim(f"{server.url}/{store_id}/scim/v2", issue_token(store, store_id))
    open_store_id = store.create_identity_store(now()).store_id
    unrestricted = Scim(f"{server.url}/{open_store_id}/scim/v2", issue_token(store, open_store_id))
    try:
        assert scim.request("GET", "/Users", headers=forged).status_code == 403
        # Nor does a forged X-Forwarded-Proto change the URLs SCIM hands out.
        response = unrestricted.request(
            "GET", "/ServiceProviderConfig", headers={"X-Forwarded-Proto": "https"}
        )
        assert response.json()["meta"]["location"].startswith("http://")
    finally:
        scim.close()
        unrestricted.close()


@pytest.mark.parametrize("config", [TRUSTED], indirect=True)
def test_a_named_proxy_is_believed(
    server: RunningServer, store: Store, store_id: str, lines: Any
) -> None:
    _restrict(store, store_id)
    proxied = _client(server, {"X-Forwarded-For": "10.1.2.3"})
    assert proxied.list_users(IdentityStoreId=store_id)["Users"] == []
    assert lines()[-1]["client_ip"] == "10.1.2.3"
    # Read from the right, past the trusted proxies: the client a proxy chain received.
    chained = _client(server, {"X-Forwarded-For": "192.0.2.1, 10.9.9.9, 127.0.0.1"})
    chained.list_users(IdentityStoreId=store_id)
    assert lines()[-1]["client_ip"] == "10.9.9.9"
    # Only the header named: Forwarded is not what this proxy sets.
    other = _client(server, {"Forwarded": "for=10.1.2.3"})
    expect_error("AccessDeniedException", other.list_users, IdentityStoreId=store_id)
    assert lines()[-1]["client_ip"] == "127.0.0.1"
    scim = Scim(f"{server.url}/{store_id}/scim/v2", issue_token(store, store_id))
    try:
        assert scim.request("GET", "/Users", headers={"X-Forwarded-For": "10.1.2.3"}).is_success
        assert (
            scim.request("GET", "/Users", headers={"X-Forwarded-For": "192.0.2.1"}).status_code
            == 403
        )
    finally:
        scim.close()


@pytest.mark.parametrize(
    ("header", "value", "client"),
    [
        ("forwarded", 'for="[2001:db8::17]:4711";proto=https', "2001:db8::17"),
        ("forwarded", "for=192.0.2.60, for=10.0.0.1;by=203.0.113.43", "192.0.2.60"),
        ("forwarded", "proto=https", "unknown"),
        ("x-forwarded-for", "192.0.2.60:1234", "192.0.2.60"),
        ("x-forwarded-for", "unknown, 10.0.0.1", "unknown"),
        ("x-forwarded-for", "", "10.0.0.2"),
        ("x-forwarded-for", "x" * 500, "x" * 64),
    ],
)
def test_header_forms(header: str, value: str, client: str) -> None:
    resolver = ForwardedHeaders(["10.0.0.0/24"], header)
    assert resolver.client("10.0.0.2", {header: value}) == client


def test_from_an_untrusted_peer_every_forwarded_header_is_dropped() -> None:
    headers = {
        "x-forwarded-for": "10.0.0.1",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.example",
        "forwarded": "for=10.0.0.1",
        "host": "idstore.example",
    }
    assert ForwardedHeaders(["10.0.0.0/24"]).client("192.0.2.1", headers) == "192.0.2.1"
    assert headers == {"host": "idstore.example"}


def test_configuration() -> None:
    config = Config.from_env(
        {"IDSTORE_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16", "IDSTORE_PROXY_HEADER": "Forwarded"}
    )
    assert config.trusted_proxies == ("10.0.0.1", "192.168.0.0/16")
    assert config.proxy_header == "forwarded"
    assert Config.from_json(config.to_json()) == config
    assert Config().trusted_proxies == ()  # nobody is trusted by default
    with pytest.raises(ValueError, match="CIDR"):
        Config(trusted_proxies=("10.0.0.0/33",))
    with pytest.raises(ValueError, match="proxy_header"):
        Config(proxy_header="x-real-ip")

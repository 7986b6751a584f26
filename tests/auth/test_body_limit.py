"""Limits before signatures: a body over `max_body_bytes` is answered with the size error
(ValidationException), whatever its signature. The server reads no more than the limit, so
it could not check the signature of such a body: a correctly signed request over the limit
must not be told that its signature is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from idstore.config import Config
from tests.auth.conftest import AccessKeyPair, Keys
from tests.conftest import TEST_SERVER_KEY
from tests.helpers import expect_error, user_params

LIMIT = 4096


@pytest.fixture
def config() -> Config:
    """The suite's SigV4 server, with a small body limit (the `server` fixture uses this)."""
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY, max_body_bytes=LIMIT)


def _too_big(store_id: str) -> dict[str, Any]:
    return user_params(store_id, "big", NickName="x" * (LIMIT * 2))


def test_a_signed_request_over_the_limit_gets_the_size_error(
    http_client_for: Any, keys: Keys, store_id: str
) -> None:
    client = http_client_for(keys.make([store_id]))
    error = expect_error("ValidationException", client.create_user, **_too_big(store_id))
    assert f"the limit is {LIMIT} bytes" in error["Error"]["Message"]
    small = client.create_user(**user_params(store_id, "small"))  # the key itself is good
    assert small["UserId"]


def test_the_size_error_comes_whatever_the_signature(
    http_client_for: Any, keys: Keys, store_id: str
) -> None:
    pair = keys.make([store_id])
    wrong = http_client_for(AccessKeyPair(pair.access_key_id, "not-the-secret", pair.name))
    unknown = http_client_for(AccessKeyPair("AKIDNOSUCHKEY", "secret", "nobody"))
    for client in (wrong, unknown):
        error = expect_error("ValidationException", client.create_user, **_too_big(store_id))
        assert f"the limit is {LIMIT} bytes" in error["Error"]["Message"]
        # Under the limit, the signature is checked as ever.
        expect_error(
            "InvalidSignatureException" if client is wrong else "UnrecognizedClientException",
            client.create_user,
            **user_params(store_id, "small"),
        )

"""SigV4 verification with whichever botocore is installed: the server's verifier reuses
botocore's canonicalisation (idstore/aws/sigv4.py), and the botocore matrix (scripts/test-matrix)
runs this file with every release line from 1.34, in the test mode and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store
from idstore.testing import IdentityStoreMock
from tests.conftest import REGION, TEST_SERVER_KEY, RunningServer
from tests.helpers import user_params


@pytest.fixture
def config() -> Config:
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY)


@pytest.fixture
def mock(store: Store, config: Config) -> Iterator[IdentityStoreMock]:
    with IdentityStoreMock(store=store, config=config) as m:
        yield m


def _key(store: Store, store_id: str) -> tuple[str, str]:
    key, secret = store.create_access_key(
        name="signer",
        stores=[store_id],
        read_only=False,
        server_key=ServerKey.from_text(TEST_SERVER_KEY),
        at=now(),
    )
    return key.access_key_id, secret


def _client(key_id: str, secret: str, **options: Any) -> Any:
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=BotoConfig(retries={"mode": "standard", "max_attempts": 1}),
        **options,
    )


def _check(store: Store, store_id: str, **options: Any) -> None:
    key_id, secret = _key(store, store_id)
    good = _client(key_id, secret, **options)
    user_id = good.create_user(**user_params(store_id, "signed"))["UserId"]
    assert good.describe_user(IdentityStoreId=store_id, UserId=user_id)["UserName"] == "signed"
    bad = _client(key_id, secret + "x", **options)
    with pytest.raises(bad.exceptions.ClientError) as refused:
        bad.list_users(IdentityStoreId=store_id)
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    unknown = _client("AKIDNOSUCHKEY0000000", secret, **options)
    with pytest.raises(unknown.exceptions.ClientError) as missing:
        unknown.list_users(IdentityStoreId=store_id)
    assert missing.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_signed_requests_in_the_test_mode(mock: IdentityStoreMock, store: Store) -> None:
    _check(store, mock.store_id)


def test_signed_requests_over_http(
    server: RunningServer, mock: IdentityStoreMock, store: Store
) -> None:
    _check(store, mock.store_id, endpoint_url=server.url)

"""Fixtures of the AWS conformance suite, on top of tests/conftest.py.

- `raw_client`: a boto3 client with botocore's client-side parameter validation off, to send
  what botocore would refuse (wrong types, empty strings, zero-member unions): the server is
  the guard for those. It talks to AWS's default endpoint, so the active `mock` answers it.
- `other_client`: a client with another access key id (another CreatedBy/UpdatedBy principal).
- `other_store_id`: a second identity store next to `store_id` (stores are created out of band,
  as the CLI does; the AWS API has no create call).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

from idstore.store import Store
from idstore.testing import IdentityStoreMock

REGION = "us-east-1"


def _client(key_id: str, **options: Any) -> Any:
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key="secret",
        **options,
    )


@pytest.fixture
def raw_client(mock: IdentityStoreMock) -> Any:
    return _client("AKIDTESTCLIENT", config=BotoConfig(parameter_validation=False))


@pytest.fixture
def other_client(mock: IdentityStoreMock) -> Any:
    return _client("AKIDOTHERCLIENT")


@pytest.fixture
def other_store_id(mock: IdentityStoreMock, store: Store) -> str:
    return store.create_identity_store(datetime.now(UTC)).store_id

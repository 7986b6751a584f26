"""aiobotocore's async clients: served in-process by the test mode, beside boto3's sync clients
in the same test, and by a running server.

aiobotocore pins botocore below the newest release (3.10.0: botocore < 1.43.118), so it cannot
share the main test environment, which needs the newest botocore for the model snapshot test;
these tests run in the botocore matrix's `aiobotocore` environment (scripts/test-matrix, which
CI runs). Elsewhere they are skipped, and say so.
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from idstore.testing import mock_identitystore
from tests.conftest import REGION, RunningServer
from tests.helpers import user_params

aiobotocore_session = pytest.importorskip(
    "aiobotocore.session", reason="aiobotocore runs in the botocore matrix (scripts/test-matrix)"
)


def test_sync_and_async_clients_share_one_mock() -> None:
    with mock_identitystore() as mock:
        sync = boto3.client("identitystore")
        alice = sync.create_user(**user_params(mock.store_id, "alice"))["UserId"]

        async def run() -> dict[str, Any]:
            session = aiobotocore_session.get_session()
            async with session.create_client("identitystore") as client:
                listed = await client.list_users(IdentityStoreId=mock.store_id)
                group = await client.create_group(IdentityStoreId=mock.store_id, DisplayName="G")
                await client.create_group_membership(
                    IdentityStoreId=mock.store_id,
                    GroupId=group["GroupId"],
                    MemberId={"UserId": alice},
                )
                with pytest.raises(ClientError) as missing:
                    await client.describe_user(
                        IdentityStoreId=mock.store_id,
                        UserId="00000000-0000-4000-8000-000000000000",
                    )
                with pytest.raises(client.exceptions.ConflictException) as conflict:
                    await client.create_group(IdentityStoreId=mock.store_id, DisplayName="g")
                pages = [
                    page
                    async for page in client.get_paginator("list_users").paginate(
                        IdentityStoreId=mock.store_id, PaginationConfig={"PageSize": 1}
                    )
                ]
                return {
                    "users": [u["UserName"] for u in listed["Users"]],
                    "group": group["GroupId"],
                    "missing": missing.value.response,
                    "conflict": conflict.value.response["Reason"],
                    "pages": len(pages),
                }

        out = asyncio.run(run())
        assert out["users"] == ["alice"]
        assert out["missing"]["Error"]["Code"] == "ResourceNotFoundException"
        assert out["missing"]["ResourceType"] == "USER"
        assert out["conflict"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
        assert out["pages"] == 1
        # What the async client wrote, the sync client reads, in the same mock.
        members = sync.list_group_memberships(IdentityStoreId=mock.store_id, GroupId=out["group"])
        assert [m["MemberId"]["UserId"] for m in members["GroupMemberships"]] == [alice]


def test_an_async_client_against_the_server(server: RunningServer, store_id: str) -> None:
    async def run() -> list[str]:
        session = aiobotocore_session.get_session()
        async with session.create_client(
            "identitystore",
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id="AKIDHTTPCLIENT",
            aws_secret_access_key="secret",
        ) as client:
            await client.create_user(**user_params(store_id, "async-user"))
            listed = await client.list_users(IdentityStoreId=store_id)
            with pytest.raises(client.exceptions.ResourceNotFoundException):
                await client.list_users(IdentityStoreId="d-0000000000")
            return [u["UserName"] for u in listed["Users"]]

    assert asyncio.run(run()) == ["async-user"]

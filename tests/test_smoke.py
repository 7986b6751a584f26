"""A first end-to-end check that both the in-process and the HTTP paths serve boto3."""

from __future__ import annotations

from typing import Any

from tests.helpers import make_user


def test_create_and_describe_in_process(client: Any, store_id: str) -> None:
    user_id = make_user(client, store_id)
    user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["UserName"] == "alice"
    assert user["UserStatus"] == "ENABLED"


def test_create_and_describe_over_http(http_client: Any, store_id: str) -> None:
    user_id = make_user(http_client, store_id)
    user = http_client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["UserArn"] == f"arn:aws:identitystore:::user/{user_id}"
    assert user["CreatedBy"] == "arn:aws:iam::000000000000:user/AKIDHTTPCLIENT"

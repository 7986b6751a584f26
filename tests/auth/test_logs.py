"""Request logs: one JSON line per request, on the `idstore.requests` logger, with the request
id, operation, identity store, principal, status and latency; never a secret, a signature or a
value of a member the model marks sensitive (nothing from the body is logged at all)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.model import Shape

from idstore.aws.spec import load_spec
from tests.auth.conftest import AccessKeyPair, Keys
from tests.helpers import expect_error, is_uuid, unknown_id, user_params

SPEC = load_spec()
FIELDS = {
    "request_id",
    "operation",
    "store",
    "principal",
    "client_ip",
    "status",
    "error",
    "latency_ms",
}


def _sensitive_members(shape: Shape, path: str = "") -> set[str]:
    """Paths of the members of `shape` that the model marks sensitive (at any depth)."""
    found: set[str] = set()
    for name, member in getattr(shape, "members", {}).items():
        here = f"{path}.{name}" if path else name
        if member.serialization.get("sensitive") or member.metadata.get("sensitive"):
            found.add(here)
        found |= _sensitive_members(member, here)
    if hasattr(shape, "member"):
        found |= _sensitive_members(shape.member, path + "[]")
    return found


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO, logger="idstore.requests")

    def read() -> list[dict[str, Any]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "idstore.requests"]

    return read


def test_one_json_line_per_request(
    client_for: Any, keys: Keys, store_id: str, lines: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pair = keys.make([store_id], name="logger")
    client = client_for(pair)
    user_id = client.create_user(**user_params(store_id, "logged"))["UserId"]
    client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    expect_error(
        "ResourceNotFoundException",
        client.delete_user,
        IdentityStoreId=store_id,
        UserId=unknown_id(store_id),
    )
    logged = lines()
    assert [line["operation"] for line in logged] == ["CreateUser", "DescribeUser", "DeleteUser"]
    for line in logged:
        assert set(line) == FIELDS
        assert is_uuid(line["request_id"])
        assert line["store"] == store_id
        assert line["principal"] == pair.arn
        assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert [line["status"] for line in logged] == [200, 200, 400]
    assert [line["error"] for line in logged] == [None, None, "ResourceNotFoundException"]
    assert len({line["request_id"] for line in logged}) == 3


def test_nothing_secret_or_sensitive_is_logged(
    client_for: Any, keys: Keys, store_id: str, lines: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    pair = keys.make([store_id])
    client = client_for(pair)
    marked = user_params(
        store_id,
        "sensitive-username-0001",
        DisplayName="sensitive-displayname-0002",
        Name={"GivenName": "sensitive-given-0003", "FamilyName": "sensitive-family-0004"},
        Emails=[{"Value": "sensitive-0005@example.com", "Primary": True}],
        NickName="sensitive-nick-0006",
    )
    sensitive = _sensitive_members(SPEC.operation("CreateUser").input_shape)
    assert {"UserName", "DisplayName", "Name.GivenName"} <= sensitive  # what we rely on
    user_id = client.create_user(**marked)["UserId"]
    client.update_user(
        IdentityStoreId=store_id,
        UserId=user_id,
        Operations=[{"AttributePath": "nickName", "AttributeValue": "sensitive-update-0007"}],
    )
    expect_error(
        "ValidationException", client.create_user, **{**marked, "UserName": "x" * 200 + "-0008"}
    )
    wrong = AccessKeyPair(pair.access_key_id, "wrong-secret-0009", pair.name)
    expect_error(
        "InvalidSignatureException", client_for(wrong).list_users, IdentityStoreId=store_id
    )
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("idstore"))
    assert len(lines()) == 4
    for value in ("-000", "sensitive", pair.secret, "wrong-secret", "Signature=", "x" * 50):
        assert value not in text, value
    assert "Credential=" not in text


def test_no_line_is_built_when_info_is_off(
    client_for: Any, keys: Keys, store_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="idstore.requests")
    client_for(keys.make([store_id])).list_users(IdentityStoreId=store_id)
    assert not [r for r in caplog.records if r.name == "idstore.requests"]

"""`idstore import` bounds Revision and timestamps (issue 12, Why items 4 and 5), through the CLI.

A Revision is ASCII digits from 1 to MAX_REVISION (2^53 - 1): `"²"` (a digit to
`str.isdigit`), 5,000 digits (past `int()`'s limit) and 2^63 (past a BIGINT) were tracebacks,
and 2^63 - 1 was accepted but made every later update of the record a 500. Timestamps lie
between 1970 and the end of year 9999: `-1.5` was accepted, and read back as `-2.500`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from idstore.model import MAX_REVISION, now
from idstore.testing import IdentityStoreMock
from tests.admin.conftest import Populated, run_ok


def _user(store_id: str, **members: Any) -> dict[str, Any]:
    return {
        "kind": "user",
        "UserId": f"{store_id[2:12]}-{uuid.uuid4()}",
        "UserName": f"u{uuid.uuid4().hex[:8]}",
        "DisplayName": "U",
        "Name": {"GivenName": "U", "FamilyName": "V"},
        **members,
    }


def _import(populated: Populated, tmp_path: Path, record: dict[str, Any]) -> Any:
    store_id = populated.store.create_identity_store(now()).store_id
    path = tmp_path / "one.jsonl"
    path.write_text("\n" + json.dumps(record, ensure_ascii=False) + "\n")
    return store_id, populated.cli("import", "--store", store_id, str(path))


@pytest.mark.parametrize(
    "revision",
    ["²", "٣", "9" * 5000, str(2**63), str(2**63 - 1), str(MAX_REVISION + 1), "0", 2**63, 1.5],
    ids=["superscript", "arabic-indic", "5000-digits", "2^63", "2^63-1", "max+1", "0", "int", "x"],
)
def test_a_revision_out_of_bounds_is_a_line_error(
    populated: Populated, tmp_path: Path, revision: Any
) -> None:
    _, result = _import(populated, tmp_path, _user(populated.store_id, Revision=revision))
    assert result.exit_code == 1, result.output
    assert ":2: Revision must be an integer from 1 to 9007199254740991" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert "nothing was imported" in result.stderr


def test_the_largest_revision_imports_and_can_still_be_updated(
    populated: Populated, tmp_path: Path
) -> None:
    record = _user(populated.store_id, Revision=str(MAX_REVISION))
    store_id, result = _import(populated, tmp_path, record)
    run_ok(result)
    with IdentityStoreMock(store=populated.store):
        client = boto3.client("identitystore", region_name="us-east-1")
        op = {"AttributePath": "nickName", "AttributeValue": "n"}
        for expected in (MAX_REVISION + 1, MAX_REVISION + 2):
            updated = client.update_user(
                IdentityStoreId=store_id, UserId=record["UserId"], Operations=[op]
            )
            assert updated["Revision"] == str(expected)


@pytest.mark.parametrize("at", [-1.5, -0.001, 253402300800, 1e300, 2**63])
def test_a_timestamp_before_1970_or_after_9999_is_a_line_error(
    populated: Populated, tmp_path: Path, at: float
) -> None:
    _, result = _import(populated, tmp_path, _user(populated.store_id, CreatedAt=at))
    assert result.exit_code == 1, result.output
    assert ":2: CreatedAt must be between 0 (1970-01-01T00:00:00Z) and 253402300799.999" in (
        result.stderr
    )


@pytest.mark.parametrize("at", [0, 0.001, 1714564800.123, 253402300799.999])
def test_timestamps_at_the_bounds_import_and_read_back_exactly(
    populated: Populated, tmp_path: Path, at: float
) -> None:
    record = _user(populated.store_id, CreatedAt=at, UpdatedAt=at)
    store_id, result = _import(populated, tmp_path, record)
    run_ok(result)
    with IdentityStoreMock(store=populated.store):
        client = boto3.client("identitystore", region_name="us-east-1")
        raw: dict[str, Any] = {}
        client.meta.events.register(
            "after-call.identitystore.DescribeUser",
            lambda http_response, **_: raw.update(json.loads(http_response.content)),
        )
        client.describe_user(IdentityStoreId=store_id, UserId=record["UserId"])
    assert raw["CreatedAt"] == at and raw["UpdatedAt"] == at
    exported = run_ok(populated.cli("export", "--store", store_id)).stdout_bytes
    assert json.loads(exported.splitlines()[1])["CreatedAt"] == at


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("kind", ["user"], '"kind" must be'),
        ("UserStatus", ["ENABLED"], "UserStatus must be one of"),
        ("UserStatus", {"a": 1}, "UserStatus must be one of"),
        ("CreatedBy", "a\u0000b", "CreatedBy must be a non-empty string"),
    ],
)
def test_members_of_the_wrong_type_are_line_errors(
    populated: Populated, tmp_path: Path, member: str, value: Any, message: str
) -> None:
    """Unhashable `kind`/`UserStatus` values were TypeErrors; an author with NUL a driver error
    on PostgreSQL."""
    _, result = _import(populated, tmp_path, _user(populated.store_id, **{member: value}))
    assert result.exit_code == 1, result.output
    assert f":2: {message}" in result.stderr

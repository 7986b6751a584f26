"""Fuzz of `idstore import` lines: whatever a file holds, the import either loads it or fails
with a line number and a message (`ImportFailed`, which the CLI prints), never a traceback;
and what it loads works afterwards.

Files are one to three lines: records shaped like an export (a valid user, group or membership
with members replaced by values of any JSON type, including the ones that crashed it: a
Revision of `"²"`, of 5,000 digits or of 2^63, timestamps before 1970 or past 9999, authors with
NUL), headers, other JSON, and bytes that are not JSON. They are read and loaded in process,
as the CLI does (`Reader.read`, `import_records`), into the identity store of a mock, so a
real boto3 client can then check what was loaded: every imported user and group can be read
and updated (so its Revision can still count), and exporting the store and importing the
export into a fresh store gives the same export.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import event, given
from hypothesis import strategies as st

from idstore.model import MAX_REVISION, now
from idstore.store import Store
from idstore.testing import IdentityStoreMock
from idstore.transfer import ImportFailed, Reader, export_lines, import_records
from tests.conftest import REGION, TEST_KEY_IDS, TEST_SECRET, fuzz_settings
from tests.strategies import json_values, odd_text, plausible_text

ACTOR = "arn:aws:iam::000000000000:root"

revisions = st.sampled_from(
    ["1", "7", str(MAX_REVISION), str(MAX_REVISION + 1), "²", "١", "9" * 5000, "0", "-1", ""]
) | st.sampled_from([1, 2**63 - 1, 2**63, -(2**63), 1.5, True, None, [], {}])
timestamps = st.sampled_from(
    [1714564800.123, 0, -1.5, -62135596800, 253402300799.999, 253402300800, 1e300, -1e300]
) | st.sampled_from([2**63, 2**70, "1714564800", True, None, [], {}])
authors = st.sampled_from(["SCIM", ACTOR, "", "\x00", "a\x00b", "x" * 5000]) | json_values


def _ids(store_id: str) -> st.SearchStrategy[str]:
    return st.builds(lambda u: f"{store_id[2:12]}-{u}", st.uuids().map(str))


def _changes(optional: dict[str, Any], most: int) -> st.SearchStrategy[list[str]]:
    """Which members of a valid record to change: none half the time (so files also load)."""
    some = st.lists(st.sampled_from(sorted(optional)), min_size=1, max_size=most, unique=True)
    return st.just([]) | some


@st.composite
def user_records(draw: Any, store_id: str, ids: list[str]) -> dict[str, Any]:
    name = draw(plausible_text)
    record: dict[str, Any] = {
        "kind": "user",
        "UserId": draw(st.sampled_from(ids) | _ids(store_id)),
        "UserName": name,
        "DisplayName": name,
        "Name": {"GivenName": name, "FamilyName": "Example"},
    }
    optional = {
        "Emails": st.just([{"Value": f"{uuid.uuid4().hex[:6]}@example.com"}]) | json_values,
        "ExternalIds": st.just([{"Issuer": "SCIM", "Id": name}]) | json_values,
        "Extensions": st.just({"aws:identitystore:enterprise": {"costCenter": name}}) | json_values,
        "UserStatus": st.sampled_from(["ENABLED", "DISABLED", "enabled"]) | json_values,
        "Revision": revisions,
        "CreatedAt": timestamps,
        "UpdatedAt": timestamps,
        "CreatedBy": authors,
        "UpdatedBy": authors,
        "UserName": odd_text | json_values,
        "Name": json_values,
        "UserId": odd_text | json_values,
        "kind": json_values,
    }
    for key in draw(_changes(optional, 3)):
        record[key] = draw(optional[key])
    return record


@st.composite
def group_records(draw: Any, store_id: str, ids: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "group",
        "GroupId": draw(st.sampled_from(ids) | _ids(store_id)),
        "DisplayName": draw(plausible_text),
    }
    optional = {
        "Description": odd_text | json_values,
        "ExternalIds": json_values,
        "Revision": revisions,
        "CreatedAt": timestamps,
        "UpdatedBy": authors,
        "DisplayName": odd_text | json_values,
        "GroupId": odd_text | json_values,
    }
    for key in draw(_changes(optional, 2)):
        record[key] = draw(optional[key])
    return record


@st.composite
def membership_records(draw: Any, ids: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "membership",
        "GroupId": draw(st.sampled_from(ids)),
        "MemberId": {"UserId": draw(st.sampled_from(ids))},
    }
    optional = {
        "MembershipId": st.sampled_from(ids) | odd_text | json_values,
        "MemberId": json_values | st.fixed_dictionaries({"UserId": odd_text | json_values}),
        "CreatedAt": timestamps,
        "GroupId": odd_text | json_values,
    }
    for key in draw(_changes(optional, 2)):
        record[key] = draw(optional[key])
    return record


@st.composite
def files(draw: Any, store_id: str) -> list[bytes]:
    ids = draw(st.lists(_ids(store_id), min_size=2, max_size=3, unique=True))
    header = {"kind": "header", "format": "idstore", "version": 1, "IdentityStoreId": store_id}
    records = st.one_of(
        user_records(store_id, ids),
        user_records(store_id, ids),
        user_records(store_id, ids),
        group_records(store_id, ids),
        group_records(store_id, ids),
        membership_records(ids),
        st.just(header) | st.dictionaries(st.sampled_from(sorted(header)), json_values),
        json_values,
    )
    lines = []
    for record in draw(st.lists(records, min_size=1, max_size=3)):
        ascii_only = draw(st.booleans())
        lines.append(json.dumps(record, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))
    if draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.binary(max_size=30)))
    return [line + b"\n" for line in lines]


@pytest.fixture
def boto(mock: IdentityStoreMock) -> Any:
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id=TEST_KEY_IDS[0],
        aws_secret_access_key=TEST_SECRET,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _load(store: Store, store_id: str, lines: list[bytes]) -> ImportFailed | None:
    try:
        records = Reader(store_id, actor=ACTOR, at=now()).read(lines)
        import_records(store, store_id, records)
    except ImportFailed as failed:
        return failed
    return None


@fuzz_settings(80)
@given(data=st.data())
def test_import_lines(
    store: Store, mock: IdentityStoreMock, boto: Any, store_id: str, data: st.DataObject
) -> None:
    lines = data.draw(files(store_id), label="file")
    before = b"".join(export_lines(store, store_id))
    failed = _load(store, store_id, lines)
    if failed is not None:
        event("ImportFailed")
        assert 0 <= failed.line <= len(lines) and failed.message, failed
        assert b"".join(export_lines(store, store_id)) == before, "a failed import wrote"
        return
    event("imported")
    for user in boto.list_users(IdentityStoreId=store_id)["Users"]:
        boto.describe_user(IdentityStoreId=store_id, UserId=user["UserId"])
        op = {"AttributePath": "nickName", "AttributeValue": "fuzz"}
        updated = boto.update_user(IdentityStoreId=store_id, UserId=user["UserId"], Operations=[op])
        assert int(updated["Revision"]) == int(user["Revision"]) + 1
    for group in boto.list_groups(IdentityStoreId=store_id)["Groups"]:
        boto.describe_group(IdentityStoreId=store_id, GroupId=group["GroupId"])
    # What was loaded exports, and the export loads elsewhere to the same export.
    exported = list(export_lines(store, store_id))
    other = store.create_identity_store(now()).store_id
    assert _load(store, other, exported) is None
    again = list(export_lines(store, other))
    assert again[1:] == exported[1:]

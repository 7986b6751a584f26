"""`idstore export` and `idstore import`: the JSON Lines format, round trips, and failures.

Run through the real CLI (click's runner, and a subprocess where the shell matters) on a
database another process could open: a SQLite file or the PostgreSQL test database.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from idstore.aws.ssoadmin import instance_arn
from idstore.errors import NotFound
from idstore.model import now
from idstore.testing import IdentityStoreMock
from tests.admin.conftest import Populated, run_ok


def _export(populated: Populated, store_id: str) -> list[dict[str, Any]]:
    out = run_ok(populated.cli("export", "--store", store_id)).stdout_bytes
    return [json.loads(line) for line in out.splitlines()]


def _body(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, without the header (the one place the store id appears)."""
    assert lines[0]["kind"] == "header"
    return lines[1:]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _new_store(populated: Populated) -> str:
    return populated.store.create_identity_store(now()).store_id


def test_export_writes_one_record_per_line(populated: Populated) -> None:
    lines = _export(populated, populated.store_id)
    assert lines[0] == {
        "kind": "header",
        "format": "idstore",
        "version": 1,
        "IdentityStoreId": populated.store_id,
    }
    kinds = [line["kind"] for line in lines[1:]]
    assert kinds == ["user"] * 3 + ["group"] * 2 + ["membership"] * 4
    alice = lines[1]
    assert alice["UserId"] == populated.users["alice"]
    assert alice["UserName"] == "alice"
    assert alice["ExternalIds"] == [{"Issuer": "SCIM", "Id": "ext-alice"}]
    assert alice["Extensions"] == {"aws:identitystore:enterprise": {"department": "R&D"}}
    assert alice["Revision"] == "2" and alice["UpdatedBy"] == "SCIM"
    assert isinstance(alice["CreatedAt"], float)
    bob = lines[2]
    assert bob["DisplayName"] == "Robert"
    admins = lines[4]
    assert admins["ExternalIds"] == [{"Issuer": "SCIM", "Id": "ext-admins"}]
    membership = lines[6]
    assert set(membership) == {
        "kind",
        "MembershipId",
        "GroupId",
        "MemberId",
        "CreatedAt",
        "CreatedBy",
        "UpdatedAt",
        "UpdatedBy",
    }
    assert populated.store_id not in json.dumps(lines[1:])


def test_export_import_export_round_trips_exactly(populated: Populated, tmp_path: Path) -> None:
    source = run_ok(populated.cli("export", "--store", populated.store_id)).stdout_bytes
    (tmp_path / "a.jsonl").write_bytes(source)
    other = "d-" + uuid.uuid4().hex[:10]
    result = run_ok(
        populated.cli("import", "--store", other, "--create", str(tmp_path / "a.jsonl"))
    )
    assert f"Imported 3 users, 2 groups and 4 memberships into {other}" in result.stdout
    again = run_ok(populated.cli("export", "--store", other)).stdout_bytes
    assert again.splitlines()[1:] == source.splitlines()[1:]  # byte for byte, but the header
    assert populated.store_id not in again.decode()

    # The imported store answers the API as the original does.
    with IdentityStoreMock(store=populated.store):
        client = boto3.client("identitystore")
        for user_id in populated.users.values():
            a = client.describe_user(
                IdentityStoreId=populated.store_id,
                UserId=user_id,
                Extensions=["aws:identitystore:enterprise"],
            )
            b = client.describe_user(
                IdentityStoreId=other, UserId=user_id, Extensions=["aws:identitystore:enterprise"]
            )
            for response in (a, b):
                del response["ResponseMetadata"], response["IdentityStoreId"]
            assert a == b
        found = client.get_user_id(
            IdentityStoreId=other,
            AlternateIdentifier={"ExternalId": {"Issuer": "SCIM", "Id": "ext-alice"}},
        )
        assert found["UserId"] == populated.users["alice"]
        by_email = client.get_user_id(
            IdentityStoreId=other,
            AlternateIdentifier={
                "UniqueAttribute": {
                    "AttributePath": "emails.value",
                    "AttributeValue": "BOB@example.com",
                }
            },
        )
        assert by_email["UserId"] == populated.users["bob"]
        group = client.get_group_id(
            IdentityStoreId=other,
            AlternateIdentifier={"ExternalId": {"Issuer": "SCIM", "Id": "ext-admins"}},
        )
        assert group["GroupId"] == populated.groups["Admins"]
        # The store the import created is an Identity Center instance like any other.
        described = boto3.client("sso-admin").describe_instance(InstanceArn=instance_arn(other))
        assert described["IdentityStoreId"] == other
        members = client.list_group_memberships(
            IdentityStoreId=other, GroupId=populated.groups["Everyone"]
        )["GroupMemberships"]
        assert [m["MemberId"]["UserId"] for m in members] == [
            populated.users[n] for n in ("alice", "bob", "carol")
        ]
        # The counters follow: the quota and `stores list` see the imported records.
        stored = populated.store.get_identity_store(other)
        assert (stored.user_count, stored.group_count) == (3, 2)
        # New writes work next to imported records, and uniqueness covers both.
        with pytest.raises(client.exceptions.ConflictException):
            client.create_user(
                IdentityStoreId=other,
                UserName="ALICE",
                DisplayName="A",
                Name={"GivenName": "A", "FamilyName": "B"},
            )


def test_importing_the_same_file_again_changes_nothing(
    populated: Populated, tmp_path: Path
) -> None:
    source = tmp_path / "a.jsonl"
    source.write_bytes(run_ok(populated.cli("export", "--store", populated.store_id)).stdout_bytes)
    target = _new_store(populated)
    run_ok(populated.cli("import", "--store", target, str(source)))
    first = _export(populated, target)
    for _ in range(2):
        run_ok(populated.cli("import", "--store", target, str(source)))
        assert _export(populated, target) == first
    stored = populated.store.get_identity_store(target)
    assert (stored.user_count, stored.group_count) == (3, 2)
    # And into the store it came from: a no-op as well.
    before = _export(populated, populated.store_id)
    run_ok(populated.cli("import", "--store", populated.store_id, str(source)))
    assert _export(populated, populated.store_id) == before


def test_an_import_merges_by_id(populated: Populated, tmp_path: Path) -> None:
    lines = _body(_export(populated, populated.store_id))
    target = _new_store(populated)
    _write(tmp_path / "a.jsonl", lines)
    run_ok(populated.cli("import", "--store", target, str(tmp_path / "a.jsonl")))
    with IdentityStoreMock(store=populated.store):
        client = boto3.client("identitystore")
        client.update_user(
            IdentityStoreId=target,
            UserId=populated.users["carol"],
            Operations=[{"AttributePath": "title", "AttributeValue": "Changed"}],
        )
        extra = client.create_user(
            IdentityStoreId=target,
            UserName="dave",
            DisplayName="Dave",
            Name={"GivenName": "D", "FamilyName": "E"},
        )["UserId"]
    run_ok(populated.cli("import", "--store", target, str(tmp_path / "a.jsonl")))
    after = _body(_export(populated, target))
    carol = next(r for r in after if r.get("UserName") == "carol")
    assert "Title" not in carol and carol["Revision"] == "1"  # the file's version again
    assert any(r.get("UserId") == extra for r in after)  # records not in the file stay


def test_hand_written_records_need_only_ids_and_what_create_needs(
    populated: Populated, tmp_path: Path
) -> None:
    user_id, group_id = str(uuid.uuid4()), str(uuid.uuid4())
    records = [
        {
            "kind": "user",
            "UserId": user_id,
            "UserName": "zed",
            "DisplayName": "Zed",
            "Name": {"GivenName": "Z", "FamilyName": "Ed"},
        },
        {"kind": "group", "GroupId": group_id, "DisplayName": "Zeds"},
        {"kind": "membership", "GroupId": group_id, "MemberId": {"UserId": user_id}},
        {
            "kind": "membership",
            "GroupId": populated.groups["Admins"],
            "MemberId": {"UserId": user_id},
        },
    ]
    path = _write(tmp_path / "hand.jsonl", records)
    run_ok(populated.cli("import", "--store", populated.store_id, str(path)))
    run_ok(populated.cli("import", "--store", populated.store_id, str(path)))  # idempotent
    lines = _body(_export(populated, populated.store_id))
    zed = next(r for r in lines if r.get("UserName") == "zed")
    assert zed["UserStatus"] == "ENABLED" and zed["Revision"] == "1"
    assert zed["CreatedBy"] == "arn:aws:iam::000000000000:root"
    memberships = [r for r in lines if r["kind"] == "membership"]
    assert sum(1 for m in memberships if m["MemberId"]["UserId"] == user_id) == 2


BAD_LINES = [
    ("not json", "not valid JSON"),
    ('["a", "list"]', "must be a JSON object"),
    ('{"kind": "robot"}', '"kind" must be'),
    ('{"kind": "user", "UserName": "x"}', "UserId is required"),
    ('{"kind": "user", "UserId": "nope", "UserName": "x"}', "UserId must be"),
    (
        '{"kind": "user", "UserId": "%(id)s", "UserName": "x", "DisplayName": "X", '
        '"Name": {"GivenName": "X", "FamilyName": "Y"}, "Emails": [{"Value": "a@b.c"}, '
        '{"Value": "d@e.f"}]}',
        "Member must have length less than or equal to 1",
    ),
    ('{"kind": "user", "UserId": "%(id)s", "UserName": "x"}', "displayName"),
    (
        '{"kind": "user", "UserId": "%(id)s", "UserName": "x", "DisplayName": "X", '
        '"Name": {"GivenName": "X", "FamilyName": "Y"}, "Nickname": "typo"}',
        "unknown member 'Nickname'",
    ),
    ('{"kind": "group", "GroupId": "%(id)s", "DisplayName": "Administrator"}', "reserved"),
    ('{"kind": "group", "GroupId": "%(id)s", "DisplayName": "G", "Revision": "0"}', "Revision"),
    (
        '{"kind": "membership", "GroupId": "%(id)s", "MemberId": {"UserId": "%(id)s"}}',
        "ResourceNotFoundException",
    ),
    ('{"kind": "header", "format": "idstore", "version": 1}', "header must come before"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LINES, ids=[m for _, m in BAD_LINES])
def test_a_bad_line_is_reported_with_its_number_and_nothing_is_imported(
    populated: Populated, tmp_path: Path, bad: str, message: str
) -> None:
    records = _body(_export(populated, populated.store_id))
    target = _new_store(populated)
    good = "".join(json.dumps(r) + "\n" for r in records)
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + bad % {"id": uuid.uuid4()} + "\n")
    bad_line = len(records) + 2  # after the records and a blank line
    result = populated.cli("import", "--store", target, str(path))
    assert result.exit_code == 1
    assert f"{path}:{bad_line}: " in result.stderr, result.stderr
    assert message in result.stderr
    assert "nothing was imported" in result.stderr
    assert _body(_export(populated, target)) == []


def test_a_file_of_another_version_is_refused(populated: Populated, tmp_path: Path) -> None:
    path = _write(tmp_path / "v2.jsonl", [{"kind": "header", "format": "idstore", "version": 2}])
    result = populated.cli("import", "--store", populated.store_id, str(path))
    assert result.exit_code == 1
    assert ":1: this is not an idstore file of version 1" in result.stderr


def test_duplicates_within_the_file_name_both_lines(populated: Populated, tmp_path: Path) -> None:
    records = _body(_export(populated, populated.store_id))
    copy = dict(records[0], UserId=str(uuid.uuid4()))  # alice again, under another id
    path = _write(tmp_path / "dup.jsonl", [*records, copy])
    result = populated.cli("import", "--store", _new_store(populated), str(path))
    assert result.exit_code == 1
    assert f":{len(records) + 1}: this UserName is also on line 1" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"UserName": "ALICE"}, "already has this UserName"),
        ({"Emails": [{"Value": "Alice@Example.com"}]}, "already has this email address"),
        ({"ExternalIds": [{"Issuer": "SCIM", "Id": "ext-alice"}]}, "already has this ExternalId"),
    ],
)
def test_a_conflict_with_the_store_names_the_line_and_rolls_back(
    populated: Populated, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    """Uniqueness against records already in the store is the database's check: the whole
    transaction is rolled back, then the culprit is looked up to report its line."""
    before = _export(populated, populated.store_id)
    newcomer = {
        "kind": "user",
        "UserId": str(uuid.uuid4()),
        "UserName": "newcomer",
        "DisplayName": "New",
        "Name": {"GivenName": "N", "FamilyName": "C"},
    }
    fine = {**newcomer, "UserId": str(uuid.uuid4()), "UserName": "fine"}
    path = _write(tmp_path / "conflict.jsonl", [fine, {**newcomer, **change}])
    result = populated.cli("import", "--store", populated.store_id, str(path))
    assert result.exit_code == 1
    assert f"{path}:2: ConflictException: user {populated.users['alice']} {message}" in (
        result.stderr
    ), result.stderr
    assert _export(populated, populated.store_id) == before  # "fine" was not imported either


def test_a_group_or_membership_conflict_with_the_store(
    populated: Populated, tmp_path: Path
) -> None:
    clash = {"kind": "group", "GroupId": str(uuid.uuid4()), "DisplayName": "ADMINS"}
    result = populated.cli(
        "import", "--store", populated.store_id, str(_write(tmp_path / "g.jsonl", [clash]))
    )
    assert result.exit_code == 1
    assert ":1: ConflictException: group" in result.stderr
    bob = populated.users["bob"]
    existing = next(
        r
        for r in _body(_export(populated, populated.store_id))
        if r["kind"] == "membership" and r["MemberId"]["UserId"] == bob
    )
    moved = dict(existing, GroupId=populated.groups["Admins"])  # bob is not an admin
    result = populated.cli(
        "import", "--store", populated.store_id, str(_write(tmp_path / "m.jsonl", [moved]))
    )
    assert result.exit_code == 1
    assert f":1: ConflictException: MembershipId {existing['MembershipId']}" in result.stderr


def test_import_needs_an_existing_store_unless_asked_to_create_it(
    populated: Populated, tmp_path: Path
) -> None:
    path = _write(tmp_path / "empty.jsonl", [])
    result = populated.cli("import", "--store", "d-00000000aa", str(path))
    assert result.exit_code == 1 and "d-00000000aa" in result.stderr
    result = populated.cli("import", "--store", "d-not-an-id", "--create", str(path))
    assert result.exit_code == 1 and "identityStoreId" in result.stderr
    run_ok(populated.cli("import", "--store", "d-00000000aa", "--create", str(path)))
    assert populated.store.get_identity_store("d-00000000aa").user_count == 0


def test_export_of_an_unknown_store_fails_cleanly(populated: Populated) -> None:
    result = populated.cli("export", "--store", "d-00000000bb")
    assert result.exit_code == 1
    assert "d-00000000bb" in result.stderr


def test_through_the_shell_with_stdin_and_stdout(populated: Populated, tmp_path: Path) -> None:
    """`idstore export ... > file` and `idstore import ... -` as a user types them."""
    env = {**os.environ, "IDSTORE_DB": populated.db_url}
    exported = tmp_path / "store.jsonl"
    with exported.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "idstore", "export", "--store", populated.store_id],
            stdout=out,
            env=env,
            check=True,
            timeout=60,
        )
    target = _new_store(populated)
    with exported.open("rb") as source:
        done = subprocess.run(
            [sys.executable, "-m", "idstore", "import", "--store", target, "-"],
            stdin=source,
            capture_output=True,
            env=env,
            check=True,
            timeout=60,
        )
    assert done.stderr == b""  # no progress bar when stderr is not a terminal
    assert b"Imported 3 users" in done.stdout
    assert _body(_export(populated, target)) == _body(
        [json.loads(line) for line in exported.read_bytes().splitlines()]
    )


def test_a_progress_bar_is_drawn_on_a_terminal(populated: Populated, tmp_path: Path) -> None:
    source = tmp_path / "a.jsonl"
    source.write_bytes(run_ok(populated.cli("export", "--store", populated.store_id)).stdout_bytes)
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "idstore",
                "import",
                "--store",
                _new_store(populated),
                str(source),
                "--db",
                populated.db_url,
            ],
            stderr=terminal,
            stdout=subprocess.PIPE,
            timeout=60,
            check=True,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert b"Imported" in done.stdout
    assert b"Importing" in drawn and b"100%" in drawn


def test_a_failed_import_with_create_leaves_no_store_behind(
    populated: Populated, tmp_path: Path
) -> None:
    """The store is created in the import's own transaction: all or nothing, store included."""
    membership = next(
        r for r in _body(_export(populated, populated.store_id)) if r["kind"] == "membership"
    )  # its user and group are neither in the file nor in the new store
    for name, records in (("bad.jsonl", [{"kind": "nonsense"}]), ("m.jsonl", [membership])):
        path = _write(tmp_path / name, records)
        result = populated.cli("import", "--store", "d-00000000cc", "--create", str(path))
        assert result.exit_code == 1 and "nothing was imported" in result.stderr
        with pytest.raises(NotFound):
            populated.store.get_identity_store("d-00000000cc")

"""`idstore users list|show` and `idstore groups list|show|members`: tables and `--json`."""

from __future__ import annotations

import json

import pytest

from tests.admin.conftest import Populated, run_ok


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").splitlines()


def test_users_list_prints_a_table(populated: Populated) -> None:
    out = _lines(run_ok(populated.cli("users", "list", "--store", populated.store_id)).stdout)
    assert out[0].split() == ["USER", "ID", "USER", "NAME", "DISPLAY", "NAME", "EMAIL", "STATUS"]
    assert [line.split()[1] for line in out[1:]] == ["alice", "bob", "carol"]
    alice = out[1]
    assert populated.users["alice"] in alice
    assert "alice@example.com" in alice and alice.endswith("ENABLED")
    assert "Robert" in out[2]
    # Columns line up: every row starts its second column where the header's does.
    column = out[0].index("USER NAME")
    assert all(line[column - 2 : column] == "  " for line in out[1:])


def test_users_list_json_is_a_json_array_of_described_users(populated: Populated) -> None:
    out = run_ok(populated.cli("users", "list", "--store", populated.store_id, "--json")).stdout
    users = json.loads(out)
    assert [u["UserName"] for u in users] == ["alice", "bob", "carol"]
    alice = users[0]
    assert alice["IdentityStoreId"] == populated.store_id
    assert alice["UserId"] == populated.users["alice"]
    assert alice["Emails"] == [{"Value": "alice@example.com", "Type": "work", "Primary": True}]
    assert alice["ExternalIds"] == [{"Issuer": "SCIM", "Id": "ext-alice"}]
    assert "kind" not in alice


def test_list_limits(populated: Populated) -> None:
    out = run_ok(
        populated.cli("users", "list", "--store", populated.store_id, "--json", "--limit", "2")
    ).stdout
    assert [u["UserName"] for u in json.loads(out)] == ["alice", "bob"]
    table = run_ok(populated.cli("groups", "list", "--store", populated.store_id, "--limit", "1"))
    assert len(_lines(table.stdout)) == 2


def test_an_empty_store_lists_nothing(populated: Populated) -> None:
    from idstore.model import now

    empty = populated.store.create_identity_store(now()).store_id
    assert (
        json.loads(run_ok(populated.cli("users", "list", "--store", empty, "--json")).stdout) == []
    )
    assert _lines(run_ok(populated.cli("groups", "list", "--store", empty)).stdout) == [
        "GROUP ID  DISPLAY NAME  DESCRIPTION"
    ]


@pytest.mark.parametrize("given", ["alice", "ALICE", "id"])
def test_users_show_by_id_or_user_name(populated: Populated, given: str) -> None:
    key = populated.users["alice"] if given == "id" else given
    out = run_ok(populated.cli("users", "show", "--store", populated.store_id, key)).stdout
    fields = dict(line.split(None, 1) for line in _lines(out) if len(line.split(None, 1)) == 2)
    assert fields["UserId"] == populated.users["alice"]
    assert fields["Name.GivenName"] == "Alice"
    assert fields["Emails[0].Value"] == "alice@example.com"
    assert fields["Extensions.aws:identitystore:enterprise.department"] == "R&D"
    shown = run_ok(
        populated.cli("users", "show", "--store", populated.store_id, key, "--json")
    ).stdout
    assert json.loads(shown)["UserName"] == "alice"


def test_groups_list_and_show(populated: Populated) -> None:
    out = _lines(run_ok(populated.cli("groups", "list", "--store", populated.store_id)).stdout)
    assert out[0].split() == ["GROUP", "ID", "DISPLAY", "NAME", "DESCRIPTION"]
    assert "Admins" in out[1] and "People who administer" in out[1]
    assert "Everyone" in out[2]
    listed = json.loads(
        run_ok(populated.cli("groups", "list", "--store", populated.store_id, "--json")).stdout
    )
    assert [g["DisplayName"] for g in listed] == ["Admins", "Everyone"]
    shown = json.loads(
        run_ok(
            populated.cli("groups", "show", "--store", populated.store_id, "admins", "--json")
        ).stdout
    )
    assert shown["GroupId"] == populated.groups["Admins"]
    assert shown["ExternalIds"] == [{"Issuer": "SCIM", "Id": "ext-admins"}]
    table = run_ok(
        populated.cli("groups", "show", "--store", populated.store_id, populated.groups["Admins"])
    ).stdout
    assert "DisplayName" in table and "Admins" in table


def test_groups_members(populated: Populated) -> None:
    out = _lines(
        run_ok(populated.cli("groups", "members", "--store", populated.store_id, "Everyone")).stdout
    )
    assert out[0].split() == ["MEMBERSHIP", "ID", "USER", "ID", "USER", "NAME", "DISPLAY", "NAME"]
    assert [line.split()[2] for line in out[1:]] == ["alice", "bob", "carol"]
    members = json.loads(
        run_ok(
            populated.cli("groups", "members", "--store", populated.store_id, "Everyone", "--json")
        ).stdout
    )
    assert [m["MemberId"]["UserId"] for m in members] == [
        populated.users[n] for n in ("alice", "bob", "carol")
    ]
    assert members[0]["GroupId"] == populated.groups["Everyone"]
    assert members[0]["User"]["UserName"] == "alice"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "show", "nobody"], "no user with id or UserName 'nobody'"),
        (["groups", "show", "Nobody"], "no group with id or DisplayName 'Nobody'"),
        (["groups", "members", "Nobody"], "no group with id or DisplayName 'Nobody'"),
    ],
)
def test_unknown_names_fail_cleanly(populated: Populated, args: list[str], message: str) -> None:
    result = populated.cli(*args[:2], "--store", populated.store_id, *args[2:])
    assert result.exit_code == 1
    assert message in result.stderr


def test_an_unknown_store_fails_cleanly(populated: Populated) -> None:
    result = populated.cli("users", "list", "--store", "d-00000000cc")
    assert result.exit_code == 1
    assert "d-00000000cc" in result.stderr
    assert "Traceback" not in result.output

"""Human output of the CLI: times in ISO 8601, and errors that say what to do next."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.admin.conftest import Populated, run_ok

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+00:00$")


def test_users_show_prints_iso_8601_times(populated: Populated) -> None:
    shown = run_ok(populated.cli("users", "show", "--store", populated.store_id, "alice"))
    fields = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    for name in ("CreatedAt", "UpdatedAt"):
        assert ISO.match(fields[name].strip()), fields[name]
    # JSON keeps the API's epoch seconds, for programs.
    as_json = json.loads(
        run_ok(
            populated.cli("users", "show", "--store", populated.store_id, "alice", "--json")
        ).stdout
    )
    assert isinstance(as_json["CreatedAt"], float | int)


def test_groups_show_prints_iso_8601_times(populated: Populated) -> None:
    shown = run_ok(populated.cli("groups", "show", "--store", populated.store_id, "Admins"))
    fields = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert ISO.match(fields["CreatedAt"].strip())


def test_stores_and_keys_lists_print_iso_8601_times(populated: Populated) -> None:
    listing = run_ok(populated.cli("stores", "list")).stdout.splitlines()
    row = next(line for line in listing if populated.store_id in line)
    assert ISO.match(row.split()[-1]), row


def test_import_into_an_unknown_store_suggests_create(populated: Populated, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(run_ok(populated.cli("export", "--store", populated.store_id)).stdout_bytes)
    result = populated.cli("import", "--store", "d-00000000ab", str(path))
    assert result.exit_code == 1
    assert "d-00000000ab" in result.output
    assert "add --create" in result.output

"""`idstore backup`, `backup --verify` and `restore`, on the database under test.

A backup of the populated store restores to a database whose export is byte-for-byte the
source's; a backup taken during a burst of writes holds every write acknowledged before it
began and passes the integrity check; a damaged file is refused; a non-empty target is refused
without `--replace`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from idstore.cli import main
from idstore.model import UserData, now
from idstore.store import Store
from idstore.store.backup import verify
from tests.admin.conftest import Populated, run_ok
from tests.databases import private_database


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def empty_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the kind under test."""
    if db_url == "sqlite://":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with private_database(db_url, "idstore_restore") as url:
        yield url


def export(db_url: str, store_id: str) -> str:
    return run_ok(cli("export", "--store", store_id, "--db", db_url)).output


def test_backup_restores_to_the_same_store(
    populated: Populated, tmp_path: Path, empty_db_url: str
) -> None:
    file = tmp_path / "backup.db"
    out = run_ok(cli("backup", "--db", populated.db_url, "-o", str(file))).output
    assert "3 users, 2 groups, 4 memberships" in out
    assert file.stat().st_mode & 0o077 == 0  # it holds every profile: owner only
    checked = run_ok(cli("backup", "--verify", str(file))).output
    assert checked.startswith(f"{file}: ok") and "3 users, 2 groups" in checked

    run_ok(cli("restore", "--db", empty_db_url, str(file)))
    assert export(empty_db_url, populated.store_id) == export(populated.db_url, populated.store_id)

    # The restored database takes new writes: its sequences moved past the restored rows.
    restored_store = _open(empty_db_url)
    try:
        _create(restored_store, populated.store_id, "after-restore")
    finally:
        restored_store.close()


def test_restore_refuses_a_database_with_data_unless_replace(
    populated: Populated, tmp_path: Path, empty_db_url: str
) -> None:
    file = tmp_path / "backup.db"
    run_ok(cli("backup", "--db", populated.db_url, "-o", str(file)))
    run_ok(cli("restore", "--db", empty_db_url, str(file)))
    again = cli("restore", "--db", empty_db_url, str(file))
    assert again.exit_code == 1
    assert "already holds identity stores" in again.output and "--replace" in again.output
    run_ok(cli("restore", "--db", empty_db_url, "--replace", str(file)))
    assert export(empty_db_url, populated.store_id) == export(populated.db_url, populated.store_id)


def test_backup_refuses_an_existing_file(populated: Populated, tmp_path: Path) -> None:
    file = tmp_path / "backup.db"
    file.write_bytes(b"keep me")
    result = cli("backup", "--db", populated.db_url, "-o", str(file))
    assert result.exit_code == 1 and "already exists" in result.output
    assert file.read_bytes() == b"keep me"


def test_verify_refuses_damaged_and_foreign_files(populated: Populated, tmp_path: Path) -> None:
    file = tmp_path / "backup.db"
    run_ok(cli("backup", "--db", populated.db_url, "-o", str(file)))
    data = bytearray(file.read_bytes())
    # Overwrite every page but the first (the header): the file still opens, its b-trees do not.
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page:] = b"\xa5" * (len(data) - page)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    result = cli("backup", "--verify", str(damaged))
    assert result.exit_code == 1 and "Error:" in result.output
    assert "Traceback" not in result.output

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n" * 100)
    result = cli("backup", "--verify", str(text_file))
    assert result.exit_code == 1 and "not a SQLite database" in result.output

    result = cli("backup", "--verify", str(tmp_path / "missing.db"))
    assert result.exit_code == 1 and "no such file" in result.output

    result = cli("restore", "--db", f"sqlite:///{tmp_path / 'x.db'}", str(damaged))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_backup_during_writes_holds_every_write_acknowledged_before_it(
    populated: Populated, tmp_path: Path, empty_db_url: str
) -> None:
    writer = _open(populated.db_url)
    acknowledged: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            number = 0
            while not stop.is_set() and number < 5000:
                user = _create(writer, populated.store_id, f"burst-{number}")
                acknowledged.append(user.user_id)
                number += 1
        except BaseException as error:  # reported below
            failures.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(acknowledged) < 50 and thread.is_alive():
            stop.wait(0.01)
        before = list(acknowledged)
        file = tmp_path / "backup.db"
        run_ok(cli("backup", "--db", populated.db_url, "-o", str(file)))
    finally:
        stop.set()
        thread.join(60)
        writer.close()
    assert not failures
    assert len(before) >= 50
    summary = verify(file)
    assert summary.counts["users"] >= 3 + len(before)

    run_ok(cli("restore", "--db", empty_db_url, str(file)))
    restored = _open(empty_db_url)
    try:
        for user_id in before:
            restored.get_user(populated.store_id, user_id)  # raises NotFound if missing
    finally:
        restored.close()


def _open(url: str) -> Store:
    from idstore.store import open_store

    return open_store(url)


def _create(store: Store, store_id: str, name: str) -> Any:
    data = UserData(
        {"UserName": name, "DisplayName": name, "Name": {"GivenName": "A", "FamilyName": "B"}}
    )
    return store.create_user(store_id, data, actor="test", at=now(), max_users=1_000_000)

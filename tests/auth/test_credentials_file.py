"""`idstore keys create --credentials-file PATH`: the profile is written into an AWS credentials
file, replacing one of the same name, keeping the rest of the file and its mode, atomically."""

from __future__ import annotations

import configparser
import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from idstore.cli import main
from idstore.cli.profiles import with_profile
from idstore.model import now
from idstore.store import Store
from tests.servers import ServerProcess

OTHER = """# my own profiles; keep this comment
[default]
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = mine ; inline

[profile-b]
region = eu-west-1
"""


@pytest.fixture
def cli(database: Store, file_db_url: str, tmp_path: Path) -> Any:
    key_file = str(tmp_path / "server.key")

    def run(*args: str) -> Result:
        return CliRunner().invoke(
            main,
            [*args, "--db", file_db_url, "--server-key-file", key_file],
            catch_exceptions=False,
        )

    return run


@pytest.fixture
def store_id(database: Store) -> str:
    return database.create_identity_store(now()).store_id


def _create(cli: Any, store_id: str, path: Path, *extra: str) -> Result:
    result = cli(
        "keys",
        "create",
        "--store",
        store_id,
        "--name",
        "alice",
        "--credentials-file",
        str(path),
        *extra,
    )
    assert result.exit_code == 0, result.output
    return result


def test_writes_a_new_file_readable_by_its_owner_only(
    cli: Any, store_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "home" / ".aws" / "credentials"
    result = _create(cli, store_id, path)
    assert result.stdout == ""  # the secret went into the file, not to the terminal
    assert f"Wrote profile [idstore-alice] in {path}" in result.stderr
    assert "aws configure set region us-east-1 --profile idstore-alice" in result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    parsed = configparser.ConfigParser()
    parsed.read(path)
    assert parsed.sections() == ["idstore-alice"]
    assert parsed["idstore-alice"]["aws_access_key_id"].startswith("IDSK")


def test_replaces_the_profile_and_keeps_the_rest_and_the_mode(
    cli: Any, store_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "credentials"
    path.write_text(OTHER)
    path.chmod(0o640)
    _create(cli, store_id, path)
    first = path.read_text()
    assert first.startswith(OTHER)  # byte for byte, comments and all
    second = _create(cli, store_id, path)
    assert "Replaced profile [idstore-alice]" in second.stderr
    text = path.read_text()
    assert text.startswith(OTHER)
    assert text.count("[idstore-alice]") == 1 and text != first  # a new key, in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".credentials.")]
    parsed = configparser.ConfigParser()
    parsed.read(path)  # a second [idstore-alice] would make this raise
    assert parsed.sections() == ["default", "profile-b", "idstore-alice"]


def test_a_symbolic_link_keeps_pointing_at_the_file(
    cli: Any, store_id: str, tmp_path: Path
) -> None:
    real = tmp_path / "real-credentials"
    real.write_text(OTHER)
    link = tmp_path / "credentials"
    link.symlink_to(real)
    _create(cli, store_id, link, "--profile", "ci")
    assert link.is_symlink()
    assert "[ci]" in real.read_text() and real.read_text().startswith(OTHER)


def test_duplicates_are_removed_and_other_sections_untouched() -> None:
    text = "[a]\nx = 1\n[p]\nold = 1\n\n[b]\ny = 2\n[ p ]\nold = 2\n"
    new, replaced = with_profile(text, "p", ["[p]", "k = v"])
    assert replaced
    assert new == "[a]\nx = 1\n[p]\nk = v\n[b]\ny = 2\n"
    appended, replaced = with_profile("[a]\nx = 1\n\n\n", "p", ["[p]", "k = v"])
    assert not replaced and appended == "[a]\nx = 1\n\n[p]\nk = v\n"
    assert with_profile("", "p", ["[p]"]) == ("[p]\n", False)


def test_json_and_the_file_together(cli: Any, store_id: str, tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    result = _create(cli, store_id, path, "--json")
    assert '"SecretAccessKey"' in result.stdout
    assert "[idstore-alice]" in path.read_text()


@pytest.mark.slow
def test_clients_sign_with_the_written_profile(
    cli: Any, store_id: str, file_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The written profile is what a real client signs with, on a server verifying SigV4."""
    path = tmp_path / "credentials"
    path.write_text(OTHER)
    _create(cli, store_id, path)
    _create(cli, store_id, path)  # replaced: the first key is no longer in the file
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    server = ServerProcess(
        file_db_url, ["--auth", "sigv4", "--server-key-file", str(tmp_path / "server.key")]
    ).start()
    try:
        client: Any = boto3.Session(profile_name="idstore-alice").client(
            "identitystore", endpoint_url=server.url, region_name="us-east-1"
        )
        assert client.list_users(IdentityStoreId=store_id)["Users"] == []
    finally:
        server.stop()

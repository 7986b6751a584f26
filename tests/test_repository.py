"""The repository itself: what a clone ignores, and the license it declares."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "path",
    [
        "idstore.db",  # ./scripts/serve's database, and its WAL files
        "idstore.db-wal",
        "idstore.db-shm",
        "idstore.db.key",  # the server key beside it: it decrypts every stored secret
        "idstore-server.key",  # the server key of a PostgreSQL set-up
        "data/other.db",
        "data/other.db.key",
        "site/index.html",  # mkdocs build
    ],
)
def test_gitignore_covers_databases_and_server_keys(path: str) -> None:
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, timeout=30, check=False
    )
    assert result.returncode == 0, f"{path} is not ignored by .gitignore"


def test_nothing_tracked_is_ignored() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert tracked == []


def test_license_is_the_apache_2_0_text_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text

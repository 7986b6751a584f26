"""Where the database is: `--db` and IDSTORE_DB take a plain file path as well as a URL, and a
value that cannot be used is refused with the forms that can."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from idstore.config import DB_FORMS, Config, database_url, default_db_url


def idstore(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "IDSTORE_DB"}
    return subprocess.run(
        [sys.executable, "-m", "idstore", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**environment, **(env or {})},
        check=False,
    )


def test_a_plain_path_is_a_sqlite_file(tmp_path: Path) -> None:
    assert database_url("idstore.db", tmp_path) == f"sqlite:///{tmp_path / 'idstore.db'}"
    assert database_url("data/x.db", tmp_path) == f"sqlite:///{tmp_path / 'data' / 'x.db'}"
    assert database_url(str(tmp_path / "abs.db")) == f"sqlite:///{tmp_path / 'abs.db'}"
    assert database_url("~/x.db").startswith(f"sqlite:///{Path.home()}")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///relative.db",
        "sqlite:////abs/file.db",
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgresql+psycopg://u:p@h/db",
    ],
)
def test_urls_pass_unchanged(url: str) -> None:
    assert database_url(url) == url


def test_postgres_scheme_is_read_as_postgresql() -> None:
    assert database_url("postgres://u@h/db") == "postgresql://u@h/db"


@pytest.mark.parametrize("given", ["mysql://u@h/db", "ftp://x", "", "   "])
def test_an_unusable_value_names_the_accepted_forms(given: str) -> None:
    with pytest.raises(ValueError, match="file path") as raised:
        database_url(given)
    assert DB_FORMS in str(raised.value)


def test_idstore_db_takes_a_plain_path(tmp_path: Path) -> None:
    assert default_db_url({"IDSTORE_DB": "here.db"}, tmp_path) == f"sqlite:///{tmp_path}/here.db"
    with pytest.raises(ValueError, match="IDSTORE_DB: cannot use"):
        default_db_url({"IDSTORE_DB": "oracle://x"}, tmp_path)
    config = Config.from_env({}, db_url=str(tmp_path / "flag.db"))
    assert config.db_url == f"sqlite:///{tmp_path / 'flag.db'}"


@pytest.mark.parametrize("form", ["relative", "absolute", "env-relative", "env-absolute"])
def test_the_commands_take_a_plain_path(tmp_path: Path, form: str) -> None:
    """The first command of the authentication workflow, as a newcomer types it."""
    given = "idstore.db" if "relative" in form else str(tmp_path / "idstore.db")
    flag, env = ([], {"IDSTORE_DB": given}) if form.startswith("env") else (["--db", given], {})
    created = idstore("stores", "create", *flag, cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    store_id = created.stdout.strip().splitlines()[-1]
    assert (tmp_path / "idstore.db").exists()
    listed = idstore("stores", "list", "--db", f"sqlite:///{tmp_path / 'idstore.db'}", cwd=tmp_path)
    assert store_id in listed.stdout


@pytest.mark.parametrize("how", ["--db", "IDSTORE_DB"])
def test_a_bad_value_is_a_clear_error(tmp_path: Path, how: str) -> None:
    value = "mysql://nobody@nowhere/x"
    flag, env = (["--db", value], {}) if how == "--db" else ([], {"IDSTORE_DB": value})
    result = idstore("stores", "list", *flag, cwd=tmp_path, env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "cannot use the database 'mysql://nobody@nowhere/x'" in result.stderr
    assert "sqlite:///" in result.stderr and "postgresql://" in result.stderr
    assert "a file path" in result.stderr


def test_a_file_that_cannot_be_opened_names_the_forms_too(tmp_path: Path) -> None:
    result = idstore(
        "stores", "list", "--db", str(tmp_path / "no" / "such" / "dir.db"), cwd=tmp_path
    )
    assert result.returncode != 0
    assert "cannot open the database" in result.stderr
    assert "a file path" in result.stderr
    assert "Traceback" not in result.stderr and "sqlalche.me" not in result.stderr

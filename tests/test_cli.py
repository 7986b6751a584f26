"""The CLI contract other tools rely on: command names, outputs, help, and `serve`'s life cycle."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import click
import pytest

from idstore import __version__
from idstore.cli import main

STORE_ID = re.compile(r"^d-[0-9a-f]{10}$")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "idstore", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(main), ids=lambda c: " ".join(c) or "idstore")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    out = run(*command, "--help")
    assert "Usage:" in out
    assert "Show this message and exit." in out


def test_stores_create_prints_the_id_on_the_last_line(file_db_url: str) -> None:
    out = run("stores", "create", "--db", file_db_url)
    store_id = out.strip().splitlines()[-1]
    assert STORE_ID.match(store_id)
    listing = run("stores", "list", "--db", file_db_url)
    assert store_id in listing


def test_idstore_db_environment_variable_is_the_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    store_id = run("stores", "create", env={"IDSTORE_DB": url}).strip().splitlines()[-1]
    assert store_id in run("stores", "list", "--db", url)


def test_default_database_is_a_file_in_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "IDSTORE_DB"}
    result = subprocess.run(
        [sys.executable, "-m", "idstore", "stores", "create"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=True,
    )
    assert STORE_ID.match(result.stdout.strip().splitlines()[-1])
    assert (tmp_path / "idstore.db").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not become healthy")


@pytest.mark.slow
def test_serve_creates_a_store_answers_and_stops_on_sigterm(file_db_url: str, db_url: str) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # A fresh database has no identity store: serve creates one and prints its id.
    fresh = file_db_url if db_url == "sqlite://" else None
    args = [sys.executable, "-m", "idstore", "serve", "--port", str(port), "--db", file_db_url]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_healthy(url, proc)
        client: Any = boto3.client(
            "identitystore",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIDCLI",
            aws_secret_access_key="x",
        )
        stores = client.list_identity_stores()["IdentityStores"]
        assert stores
        store_id = stores[0]["IdentityStoreId"]
        # A fresh SQLite file holds only the store serve created; the PostgreSQL test database
        # is shared with other tests, so only the shape is checked there.
        users = client.list_users(IdentityStoreId=store_id)["Users"]
        assert users == [] if fresh else isinstance(users, list)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    if fresh:  # exactly the lines docs/getting-started.md shows
        assert lines == [
            "Authentication: none (local mode: any credentials are accepted)",
            f"Created identity store {store_id}",
            f"idstore {__version__} listening on {url} (database: {file_db_url})",
        ]
    else:
        assert f"Identity store: {store_id}" in lines
        assert out.count(store_id) == 1
    assert lines[-1] == f"idstore {__version__} listening on {url} (database: {file_db_url})"

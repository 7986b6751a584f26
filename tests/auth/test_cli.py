"""The `idstore keys` commands, and `idstore serve`'s authentication options
(docs/behaviour.md#access)."""

from __future__ import annotations

import configparser
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from idstore.cli import main
from idstore.model import now
from idstore.store import Store
from tests.helpers import expect_error, make_user

KEY_ID = r"IDSK[A-Z2-7]{16}"


@pytest.fixture
def cli(database: Store, file_db_url: str, tmp_path: Path) -> Any:
    """`cli(*args)`: run an idstore command on the test database, with a server key file in
    `tmp_path`; returns click's Result."""
    runner = CliRunner()
    key_file = str(tmp_path / "server.key")

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        extra = ["--server-key-file", key_file] if args[:2] == ("keys", "create") else []
        return runner.invoke(
            main, [*args, "--db", file_db_url, *extra], env=env, catch_exceptions=False
        )

    return run


@pytest.fixture
def store_id(database: Store) -> str:
    return database.create_identity_store(now()).store_id


def test_keys_create_json_list_and_delete(cli: Any, store_id: str, tmp_path: Path) -> None:
    created = cli("keys", "create", "--store", store_id, "--name", "alice", "--json")
    assert created.exit_code == 0, created.output
    # The first key generates the server key, and says where it is and how to keep it.
    assert f"Generated a new server key in {tmp_path / 'server.key'}" in created.stderr
    assert "Back it up" in created.stderr
    key = json.loads(created.stdout)  # one JSON object, nothing else on stdout
    assert key["AccessKeyId"].startswith("IDSK") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    assert key["PrincipalArn"] == "arn:aws:iam::000000000000:user/alice"
    assert key["IdentityStoreIds"] == [store_id]
    assert key["ReadOnly"] is False and key["AllIdentityStores"] is False

    second = cli("keys", "create", "--all-stores", "--name", "auditor", "--read-only", "--json")
    assert second.exit_code == 0, second.output
    assert "Generated" not in second.stderr  # the key is made once
    auditor = json.loads(second.stdout)
    assert auditor["AllIdentityStores"] is True and auditor["ReadOnly"] is True

    listing = cli("keys", "list")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:3] == ["ACCESS", "KEY", "ID"]
    assert key["AccessKeyId"] in lines[1] and "alice" in lines[1] and store_id in lines[1]
    assert "read-write" in lines[1]
    assert auditor["AccessKeyId"] in lines[2] and "read-only" in lines[2] and "all" in lines[2]
    assert key["SecretAccessKey"] not in listing.stdout
    as_json = json.loads(cli("keys", "list", "--json").stdout)
    assert [k["AccessKeyId"] for k in as_json] == [key["AccessKeyId"], auditor["AccessKeyId"]]
    assert all("SecretAccessKey" not in k for k in as_json)

    deleted = cli("keys", "delete", key["AccessKeyId"])
    assert deleted.exit_code == 0 and key["AccessKeyId"] in deleted.stdout
    remaining = json.loads(cli("keys", "list", "--json").stdout)
    assert [k["AccessKeyId"] for k in remaining] == [auditor["AccessKeyId"]]


def test_keys_create_prints_the_secret_once_for_people(
    cli: Any, store_id: str, database: Store
) -> None:
    other = database.create_identity_store(now()).store_id
    result = cli("keys", "create", "--store", store_id, "--store", other, "--name", "bob")
    assert result.exit_code == 0, result.output
    told = result.stderr
    assert "arn:aws:iam::000000000000:user/bob" in told
    assert store_id in told and other in told
    assert "shown only now" in told
    # stdout is a credentials-file profile, ready to append to ~/.aws/credentials.
    profile = configparser.ConfigParser()
    profile.read_string(result.stdout)
    assert profile.sections() == ["idstore-bob"]
    assert profile["idstore-bob"]["aws_access_key_id"].startswith("IDSK")
    assert len(profile["idstore-bob"]["aws_secret_access_key"]) == 40


def test_keys_create_profile_names(cli: Any, store_id: str, database: Store) -> None:
    named = cli("keys", "create", "--store", store_id, "--name", "ci", "--profile", "ci-bot")
    assert named.exit_code == 0, named.output
    assert named.stdout.splitlines()[0] == "[ci-bot]"
    # [DEFAULT] would lend the key to every profile of the file; ']' would break the file.
    for bad in ("DEFAULT", "a]b", ""):
        refused = cli("keys", "create", "--store", store_id, "--name", "x", "--profile", bad)
        assert refused.exit_code == 2
        assert "--profile" in refused.output
    assert [k["Name"] for k in json.loads(cli("keys", "list", "--json").stdout)] == ["ci"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x"], "--all-stores"),
        (["--name", "x", "--all-stores", "--store", "d-0123456789"], "--all-stores"),
        (["--name", "x", "--store", "d-0123456789"], "IdentityStore not present"),
        (["--name", "no spaces", "--all-stores"], "Invalid key name"),
        (["--name", "x" * 65, "--all-stores"], "Invalid key name"),
        (["--store", "d-0123456789"], "Missing option '--name'"),
    ],
)
def test_keys_create_errors_are_clear(cli: Any, args: list[str], message: str) -> None:
    result = cli("keys", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_keys_delete_of_an_unknown_key_fails(cli: Any) -> None:
    result = cli("keys", "delete", "IDSKNOTHING")
    assert result.exit_code == 1
    assert "there is no access key IDSKNOTHING" in result.output


def test_keys_create_refuses_a_wrong_server_key(cli: Any, store_id: str, tmp_path: Path) -> None:
    assert cli("keys", "create", "--all-stores", "--name", "a").exit_code == 0
    (tmp_path / "server.key").write_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    result = cli("keys", "create", "--all-stores", "--name", "b")
    assert result.exit_code == 1
    assert "is not the server key this database's access keys were encrypted with" in result.output


# -- serve -------------------------------------------------------------------------------------


def _idstore(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "idstore", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--host", "0.0.0.0", "--auth", "none"], {}),
        (["--host", "192.0.2.10", "--auth", "none"], {}),
        (["--host", "::", "--auth", "none"], {}),
        (["--host", "0.0.0.0"], {"IDSTORE_AUTH": "none"}),
    ],
)
def test_serve_refuses_to_run_open_on_a_non_loopback_host(
    file_db_url: str, args: list[str], env: dict[str, str]
) -> None:
    result = _idstore("serve", "--db", file_db_url, "--port", "1", *args, env=env)
    assert result.returncode == 1
    assert "refusing to serve without authentication" in result.stderr
    assert "--insecure-no-auth" in result.stderr and "--auth sigv4" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An `idstore serve` process, stopped with SIGTERM at the end of the `with` block."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "idstore", "serve", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.out = self.err = ""

    def __enter__(self) -> Served:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.communicate()[1])
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        self.proc.kill()  # leave no server (and, with --workers, no respawning children)
        self.proc.communicate()
        raise AssertionError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.out, self.err = self.proc.communicate(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_sigv4_end_to_end(
    cli: Any, store_id: str, file_db_url: str, tmp_path: Path, workers: str
) -> None:
    created = json.loads(
        cli("keys", "create", "--store", store_id, "--name", "ops", "--json").stdout
    )
    key_file = str(tmp_path / "server.key")
    args = ["--db", file_db_url, "--auth", "sigv4", "--server-key-file", key_file]
    with Served(*args, "--workers", workers) as served:
        client = boto3.client(
            "identitystore",
            endpoint_url=served.url,
            region_name="eu-central-1",
            aws_access_key_id=created["AccessKeyId"],
            aws_secret_access_key=created["SecretAccessKey"],
        )
        user_id = make_user(client, store_id, "from-serve")
        user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
        assert user["CreatedBy"] == "arn:aws:iam::000000000000:user/ops"
        stranger = boto3.client(
            "identitystore",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDANYTHING",
            aws_secret_access_key="x",
        )
        expect_error("UnrecognizedClientException", stranger.list_users, IdentityStoreId=store_id)
    assert served.proc.returncode == 0, served.err
    assert "Authentication: SigV4" in served.out
    # One JSON line per request on stderr, without the secret.
    lines = [json.loads(line) for line in served.err.splitlines() if line.startswith("{")]
    assert {line["operation"] for line in lines} >= {"CreateUser", "DescribeUser"}
    refused = [line for line in lines if line["error"] == "UnrecognizedClientException"]
    assert refused and refused[0]["principal"] is None and refused[0]["status"] == 400
    assert created["SecretAccessKey"] not in served.err


@pytest.mark.slow
def test_serve_on_a_non_loopback_host_defaults_to_sigv4(
    database: Store, file_db_url: str, tmp_path: Path
) -> None:
    key_file = str(tmp_path / "server.key")
    with Served("--db", file_db_url, "--host", "0.0.0.0", "--server-key-file", key_file) as served:
        client = boto3.client(
            "identitystore",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDANYTHING",
            aws_secret_access_key="x",
        )
        expect_error("UnrecognizedClientException", client.list_identity_stores)
    assert "Authentication: SigV4" in served.out


@pytest.mark.slow
def test_serve_insecure_no_auth_on_a_non_loopback_host(database: Store, file_db_url: str) -> None:
    with Served("--db", file_db_url, "--host", "0.0.0.0", "--insecure-no-auth") as served:
        client = boto3.client(
            "identitystore",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDANYTHING",
            aws_secret_access_key="x",
        )
        assert client.list_identity_stores()["IdentityStores"]
    assert "Authentication: none" in served.out


def test_serve_options_reach_the_configuration(file_db_url: str) -> None:
    result = _idstore(
        "serve", "--db", file_db_url, "--throttle-tps", "0", "--port", "1", timeout=30
    )
    assert result.returncode == 2 and "--throttle-tps" in result.stderr
    result = _idstore("serve", "--db", file_db_url, "--port", "1", env={"IDSTORE_MAX_USERS": "x"})
    assert result.returncode == 1 and "IDSTORE_MAX_USERS must be a non-negative number" in (
        result.stderr
    )

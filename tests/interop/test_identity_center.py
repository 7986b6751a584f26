"""Identity Center tools nobody here wrote, unchanged, against a running server with SigV4:

- the AWS CLI v1: `sts get-caller-identity`, `sso-admin list-instances`, create and delete an
  instance, and an identitystore call on the new store; a wrong secret is refused;
- awsideman (PyPI; pins botocore 1.34 through aioboto3), which calls STS GetCallerIdentity
  before every command: its user, group and membership commands;
- capo-identitystore and capo-sts (PyPI; their own HTTP, SigV4 and wire code, no botocore).

Each tool is installed once into its own virtualenv under `.cache/interop/` (see
test_clients.py) and pointed at the server with the standard `AWS_ENDPOINT_URL` variable or
its own endpoint option. Nothing is stubbed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from idstore.aws.ssoadmin import instance_arn
from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store
from tests.conftest import REGION, TEST_SERVER_KEY, RunningServer
from tests.interop.test_clients import HERE, _clean_env, _venv

pytestmark = pytest.mark.slow

AWSIDEMAN = "awsideman==0.1.2a0"
CAPO = ("capo-identitystore==0.11.0", "capo-sts==0.21.0")


@pytest.fixture
def config() -> Config:
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY)


@pytest.fixture
def key(store: Store) -> tuple[str, str]:
    """A read-write access key for every store: (access key id, secret)."""
    created, secret = store.create_access_key(
        name="operator",
        stores=None,
        read_only=False,
        server_key=ServerKey.from_text(TEST_SERVER_KEY),
        at=now(),
    )
    return created.access_key_id, secret


def _env(key: tuple[str, str], **more: str) -> dict[str, str]:
    return {
        **_clean_env(),
        "AWS_ACCESS_KEY_ID": key[0],
        "AWS_SECRET_ACCESS_KEY": key[1],
        "AWS_DEFAULT_REGION": REGION,
        **more,
    }


def _run(args: list[str], env: dict[str, str], **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=180, check=False, env=env, **options
    )


def _boto(service: str, server: RunningServer, key: tuple[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )


# -- the AWS CLI -----------------------------------------------------------------------------


def test_aws_cli_identity_center_calls(
    server: RunningServer, store_id: str, key: tuple[str, str]
) -> None:
    aws = str(_venv("awscli", "awscli>=1.36,<2") / "bin" / "aws")
    env = _env(key)

    def cli(*args: str, environment: dict[str, str] = env) -> Any:
        result = _run([aws, "--endpoint-url", server.url, "--output", "json", *args], environment)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    identity = cli("sts", "get-caller-identity")
    assert identity["Arn"] == "arn:aws:iam::000000000000:user/operator"
    assert identity["Account"] == "000000000000"
    listed = cli("sso-admin", "list-instances")["Instances"]
    assert [(i["InstanceArn"], i["IdentityStoreId"]) for i in listed] == [
        (instance_arn(store_id), store_id)
    ]
    arn = cli("sso-admin", "create-instance", "--name", "FromTheCli")["InstanceArn"]
    new_store = cli("sso-admin", "describe-instance", "--instance-arn", arn)["IdentityStoreId"]
    group = cli(
        "identitystore", "create-group", "--identity-store-id", new_store, "--display-name", "Ops"
    )
    assert group["IdentityStoreId"] == new_store
    cli("sso-admin", "delete-instance", "--instance-arn", arn)
    assert [i["IdentityStoreId"] for i in cli("sso-admin", "list-instances")["Instances"]] == [
        store_id
    ]

    wrong = _env((key[0], key[1] + "x"))
    for args, code in [
        (["sts", "get-caller-identity"], "SignatureDoesNotMatch"),
        (["sso-admin", "list-instances"], "InvalidSignatureException"),
    ]:
        result = _run([aws, "--endpoint-url", server.url, *args], wrong)
        assert result.returncode != 0
        assert code in result.stderr


# -- awsideman -------------------------------------------------------------------------------


def test_awsideman_user_group_and_membership_commands(
    server: RunningServer, store_id: str, key: tuple[str, str], tmp_path: Path
) -> None:
    awsideman = str(_venv("awsideman", AWSIDEMAN) / "bin" / "awsideman")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[idstore]\naws_access_key_id = {key[0]}\naws_secret_access_key = {key[1]}\n"
    )
    (home / ".aws" / "config").write_text(f"[profile idstore]\nregion = {REGION}\n")
    env = {
        **_clean_env(),
        "HOME": str(home),
        "AWS_ENDPOINT_URL": server.url,  # botocore's standard variable (1.31+)
        "AWSIDEMAN_CACHE_ENABLED": "false",  # every command asks the server
        "COLUMNS": "250",
    }

    def run(*args: str) -> str:
        result = _run([awsideman, *args], env, stdin=subprocess.DEVNULL, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("profile", "add", "idstore", "--region", REGION, "--default")
    run("sso", "set", instance_arn(store_id), store_id)
    ids = _boto("identitystore", server, key)

    assert "created successfully" in run(
        "user", "create", "--username", "jane", "--display-name", "Jane Smith",
        "--email", "jane@example.com", "--first-name", "Jane", "--last-name", "Smith",
    )  # fmt: skip
    [user] = ids.list_users(IdentityStoreId=store_id)["Users"]
    assert (user["UserName"], user["DisplayName"]) == ("jane", "Jane Smith")
    assert "jane@example.com" in run("user", "list")
    assert user["UserId"] in run("user", "get", "jane")

    run("group", "create", "--name", "Developers", "--description", "Devs")
    [group] = ids.list_groups(IdentityStoreId=store_id)["Groups"]
    assert group["Description"] == "Devs"
    assert "Developers" in run("group", "list")
    assert group["GroupId"] in run("group", "get", "Developers")

    assert "Successfully added" in run("group", "add-member", "Developers", "jane")
    [membership] = ids.list_group_memberships(IdentityStoreId=store_id, GroupId=group["GroupId"])[
        "GroupMemberships"
    ]
    assert membership["MemberId"] == {"UserId": user["UserId"]}
    assert "jane" in run("group", "list-members", "Developers")
    assert "Successfully removed" in run("group", "remove-member", "Developers", "jane", "--force")
    assert not ids.list_group_memberships(IdentityStoreId=store_id, GroupId=group["GroupId"])[
        "GroupMemberships"
    ]

    run("group", "delete", "Developers", "--force")
    run("user", "delete", "jane", "--force")
    assert ids.list_groups(IdentityStoreId=store_id)["Groups"] == []
    assert ids.list_users(IdentityStoreId=store_id)["Users"] == []
    # Not exercised: `user update`, which sends UpdateUser without `Operations` (awsideman
    # commands/user/update.py builds UserName/DisplayName members), so botocore refuses it on
    # the client before any request is made, against AWS as here.


# -- capo ------------------------------------------------------------------------------------


def test_capo_clients_with_their_own_sigv4(
    server: RunningServer, store_id: str, key: tuple[str, str]
) -> None:
    python = str(_venv("capo", *CAPO) / "bin" / "python")
    result = _run([python, str(HERE / "capo_clients.py"), server.url, store_id, *key], _clean_env())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["caller"]["arn"] == "arn:aws:iam::000000000000:user/operator"
    assert out["caller"]["account"] == "000000000000"
    assert out["described"] == "capo"
    assert out["listed"] == ["Renamed"]
    assert out["found"] is True
    assert out["member"] is True
    assert out["memberships"] == 1
    assert out["missing"] == "ResourceNotFoundException"
    assert out["refused"] == "InvalidSignatureException"
    assert out["sts_refused"] == "SignatureDoesNotMatch"

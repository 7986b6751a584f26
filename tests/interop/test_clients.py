"""Other real clients against a running server: boto3 1.43, the AWS CLI v1, and the AWS SDK for
JavaScript v3. Each is installed once into `.cache/interop/` (pip and npm registries) and then
reused; a missing toolchain (no node, no network) fails the test rather than skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningServer

HERE = Path(__file__).parent
CACHE = HERE.parent.parent / ".cache" / "interop"

pytestmark = pytest.mark.slow


def _venv(name: str, *requirements: str) -> Path:
    """A virtualenv under .cache/interop with `requirements`; created on first use."""
    root = CACHE / name
    python = root / "bin" / "python"
    stamp = root / ".installed"
    if not stamp.exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *requirements,
            ],
            check=True,
            timeout=600,
        )
        stamp.touch()
    return root


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}


def test_boto3_1_43_works_unchanged(server: RunningServer, store_id: str) -> None:
    venv = _venv("boto3-1.43", "boto3>=1.43,<1.44")
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(HERE / "old_boto3.py"), server.url, store_id],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_clean_env(),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["botocore"].startswith("1.43.")
    assert out["user"] == "old-client"
    assert out["listed"] == ["Renamed"]
    assert out["error"] == "GROUP"


def test_aws_cli_v1_lists_users(server: RunningServer, store_id: str, client: Any) -> None:
    client.create_user(
        IdentityStoreId=store_id,
        UserName="cli-user",
        DisplayName="CLI User",
        Name={"GivenName": "C", "FamilyName": "L"},
    )
    venv = _venv("awscli", "awscli>=1.36,<2")
    env = {
        **_clean_env(),
        "AWS_ACCESS_KEY_ID": "AKIDAWSCLI",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [
            str(venv / "bin" / "aws"),
            "--endpoint-url",
            server.url,
            "identitystore",
            "list-users",
            "--identity-store-id",
            store_id,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    users = json.loads(result.stdout)["Users"]
    assert [u["UserName"] for u in users] == ["cli-user"]
    missing = subprocess.run(
        [
            str(venv / "bin" / "aws"),
            "--endpoint-url",
            server.url,
            "identitystore",
            "describe-user",
            "--identity-store-id",
            store_id,
            "--user-id",
            "1234567890-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr


def _node_modules() -> Path:
    root = CACHE / "js"
    stamp = root / ".installed"
    if not stamp.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the JavaScript SDK test (Node.js 18 or newer)"
        root.mkdir(parents=True, exist_ok=True)
        (root / "package.json").write_text('{"name": "idstore-interop", "private": true}\n')
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "@aws-sdk/client-identitystore@3.1138.0",
            ],
            cwd=root,
            check=True,
            timeout=600,
        )
        stamp.touch()
    return root / "node_modules"


def test_aws_sdk_for_javascript_v3(server: RunningServer, store_id: str) -> None:
    modules = _node_modules()
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript SDK test"
    result = subprocess.run(
        [node, str(HERE / "clients.js"), server.url, store_id],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**_clean_env(), "NODE_PATH": str(modules)},
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["described"]["UserName"] == "js-user"
    assert out["described"]["CreatedBy"] == "arn:aws:iam::000000000000:user/AKIDJAVASCRIPT"
    assert out["found"] == out["created"]["UserId"]
    assert out["nickName"] == "jsy"
    assert out["member"] == [True]
    assert out["listed"] == ["js-user", "js-0", "js-1", "js-2", "js-3", "js-4"]
    assert out["error"] == {
        "name": "ResourceNotFoundException",
        "ResourceType": "USER",
        "status": 400,
    }
    assert out["conflict"] == {
        "name": "ConflictException",
        "Reason": "UNIQUENESS_CONSTRAINT_VIOLATION",
    }

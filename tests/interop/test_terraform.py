"""Terraform's AWS provider against a running SigV4 server, with the configuration that
docs/terraform.md shows (taken from that page, so the page stays true).

Needs `terraform` on PATH and the hashicorp/aws provider in a local provider mirror
(`IDSTORE_TF_PLUGINS`, default /opt/tf-plugins: the registry itself is not reached); a missing
toolchain fails the test rather than skipping it, as in test_clients.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest

from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey
from idstore.store import Store
from tests.conftest import REGION, TEST_SERVER_KEY, RunningServer
from tests.interop.test_clients import _clean_env

pytestmark = pytest.mark.slow

DOCS = Path(__file__).parent.parent.parent / "docs" / "terraform.md"
MIRROR = Path(os.environ.get("IDSTORE_TF_PLUGINS", "/opt/tf-plugins"))


@pytest.fixture
def config() -> Config:
    return Config(auth="sigv4", server_key=TEST_SERVER_KEY)


def _configuration() -> str:
    blocks = re.findall(r"```hcl\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert len(blocks) == 1, "docs/terraform.md should show one configuration"
    assert "skip_" not in blocks[0]
    return blocks[0]


def test_the_documented_configuration_applies_and_destroys(
    server: RunningServer, store: Store, store_id: str, tmp_path: Path
) -> None:
    terraform = shutil.which("terraform")
    assert terraform, "terraform is needed on PATH (1.5 or newer)"
    assert (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(), (
        f"the hashicorp/aws provider is needed in a provider mirror at {MIRROR}"
    )
    key, secret = store.create_access_key(
        name="terraform",
        stores=None,
        read_only=False,
        server_key=ServerKey.from_text(TEST_SERVER_KEY),
        at=now(),
    )
    (tmp_path / "main.tf").write_text(_configuration())
    (tmp_path / "cli.tfrc").write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )
    env = {
        **_clean_env(),
        "TF_CLI_CONFIG_FILE": str(tmp_path / "cli.tfrc"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_VAR_idstore_url": server.url,
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
    }

    def run(*args: str, environment: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [terraform, *args, "-no-color"],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    for step in (("init", "-input=false"), ("apply", "-auto-approve", "-input=false")):
        result = run(*step)
        assert result.returncode == 0, result.stdout + result.stderr
    outputs = json.loads(run("output", "-json").stdout)
    assert outputs["identity_store_id"]["value"] == store_id

    ids = boto3.client(
        "identitystore",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=secret,
    )
    [user] = ids.list_users(IdentityStoreId=store_id)["Users"]
    assert (user["UserId"], user["UserName"]) == (outputs["user_id"]["value"], "alice")
    [group] = ids.list_groups(IdentityStoreId=store_id)["Groups"]
    members = ids.list_group_memberships(IdentityStoreId=store_id, GroupId=group["GroupId"])
    assert [m["MemberId"]["UserId"] for m in members["GroupMemberships"]] == [user["UserId"]]

    again = run("plan", "-detailed-exitcode", "-input=false")
    assert again.returncode == 0, again.stdout + again.stderr  # 0: no changes

    wrong = run("plan", "-input=false", environment={**env, "AWS_SECRET_ACCESS_KEY": secret + "x"})
    assert wrong.returncode != 0
    assert "SignatureDoesNotMatch" in wrong.stdout + wrong.stderr

    destroyed = run("destroy", "-auto-approve", "-input=false")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert ids.list_users(IdentityStoreId=store_id)["Users"] == []
    assert ids.list_groups(IdentityStoreId=store_id)["Groups"] == []

"""Other real clients sign as idstore verifies: the AWS CLI v1 with a key in a credentials file,
and the AWS SDK for JavaScript v3 with a key in the environment (its signer is not botocore's).
The clients are the ones tests/interop installs into `.cache/interop/`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.auth.conftest import Keys
from tests.conftest import RunningServer
from tests.interop.test_clients import _clean_env, _node_modules, _venv

pytestmark = pytest.mark.slow

JS = """
const sdk = require("@aws-sdk/client-identitystore");
(async () => {
  const [endpoint, storeId] = process.argv.slice(1);
  const client = new sdk.IdentitystoreClient({ endpoint, region: "eu-north-1" });  // env keys
  const created = await client.send(
    new sdk.CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: "JS" }));
  const group = await client.send(
    new sdk.DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: created.GroupId }));
  const listed = await client.send(new sdk.ListGroupsCommand({ IdentityStoreId: storeId }));
  let refused = null;
  try {
    await client.send(new sdk.ListGroupsCommand({ IdentityStoreId: "d-0123456789" }));
  } catch (e) { refused = e.name; }
  console.log(JSON.stringify({
    groups: listed.Groups.map(g => g.DisplayName), createdBy: group.CreatedBy, refused }));
})().catch(e => { console.error(e); process.exit(1); });
"""


def test_aws_cli_with_a_credentials_file(
    server: RunningServer, keys: Keys, store_id: str, tmp_path: Path
) -> None:
    pair = keys.make([store_id], name="cli")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[idstore]\n"
        f"aws_access_key_id = {pair.access_key_id}\n"
        f"aws_secret_access_key = {pair.secret}\n"
    )
    venv = _venv("awscli", "awscli>=1.36,<2")
    env = {
        **_clean_env(),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_PROFILE": "idstore",
        "AWS_DEFAULT_REGION": "us-west-2",
    }

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "aws"), "--endpoint-url", server.url, "identitystore", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )

    created = aws(
        "create-group", "--identity-store-id", store_id, "--display-name", "CLI", "--output", "json"
    )
    assert created.returncode == 0, created.stderr
    group_id = json.loads(created.stdout)["GroupId"]
    described = aws("describe-group", "--identity-store-id", store_id, "--group-id", group_id)
    assert json.loads(described.stdout)["CreatedBy"] == pair.arn
    listed = aws("list-groups", "--identity-store-id", store_id, "--output", "json")
    assert [g["DisplayName"] for g in json.loads(listed.stdout)["Groups"]] == ["CLI"]
    other = aws("list-groups", "--identity-store-id", "d-0123456789")
    assert other.returncode != 0 and "AccessDeniedException" in other.stderr
    credentials.write_text(credentials.read_text().replace(pair.secret, "wrong" + pair.secret[5:]))
    refused = aws("list-users", "--identity-store-id", store_id)
    assert refused.returncode != 0 and "InvalidSignatureException" in refused.stderr


def test_aws_sdk_for_javascript_v3(
    server: RunningServer, keys: Keys, store_id: str, tmp_path: Path
) -> None:
    pair = keys.make([store_id], name="js")
    modules = _node_modules()
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript SDK test"
    result = subprocess.run(
        [node, "-e", JS, server.url, store_id],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **_clean_env(),
            "NODE_PATH": str(modules),
            "AWS_ACCESS_KEY_ID": pair.access_key_id,
            "AWS_SECRET_ACCESS_KEY": pair.secret,
        },
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out == {"groups": ["JS"], "createdBy": pair.arn, "refused": "AccessDeniedException"}

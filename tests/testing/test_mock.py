"""The test mode's mechanics: scope, isolation, environment, options and the pytest plugin."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import EndpointConnectionError

from idstore.store import Store
from idstore.testing import IdentityStoreMock, mock_identitystore
from tests.testing.compat import has_member

_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials, region, profile or config files at all."""
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def test_a_client_needs_no_configuration_and_the_environment_is_restored(
    bare_environment: None,
) -> None:
    before = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    with mock_identitystore() as mock:
        client = boto3.client("identitystore")
        assert client.list_users(IdentityStoreId=mock.store_id)["Users"] == []
    assert {k: v for k, v in os.environ.items() if k.startswith("AWS_")} == before


def test_real_credentials_never_sign_and_come_back_afterwards(
    bare_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = {
        "AWS_ACCESS_KEY_ID": "AKIAREALKEY000000000",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_SESSION_TOKEN": "real-token",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    for name, value in real.items():
        monkeypatch.setenv(name, value)
    with mock_identitystore() as mock:
        client = boto3.client("identitystore")
        assert client.meta.region_name == "eu-west-1"  # a configured region is kept
        group_id = client.create_group(IdentityStoreId=mock.store_id, DisplayName="G")["GroupId"]
        group = client.describe_group(IdentityStoreId=mock.store_id, GroupId=group_id)
        assert group["DisplayName"] == "G"
        if has_member(client, "DescribeGroupResponse", "CreatedBy"):  # botocore >= 1.40.68
            assert group["CreatedBy"] == "arn:aws:iam::000000000000:user/testing"
    assert {k: os.environ.get(k) for k in real} == real


def test_the_users_default_session_is_set_aside_and_put_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = boto3.session.Session(region_name="eu-central-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", mine)
    with mock_identitystore() as mock:
        assert boto3.DEFAULT_SESSION is not mine  # a session with the hook and dummy keys
        client = boto3.client("identitystore")
        assert client.list_users(IdentityStoreId=mock.store_id)["Users"] == []
    assert boto3.DEFAULT_SESSION is mine


def test_each_mock_starts_empty_and_a_decorated_function_too() -> None:
    seen: list[tuple[str, int]] = []
    mock = mock_identitystore()

    @mock
    def body() -> None:
        client = boto3.client("identitystore")
        seen.append((mock.store_id, len(client.list_users(IdentityStoreId=mock.store_id)["Users"])))
        client.create_group(IdentityStoreId=mock.store_id, DisplayName="Once")

    body()
    body()
    assert [count for _, count in seen] == [0, 0]
    assert seen[0][0] != seen[1][0]
    with mock_identitystore() as first, mock_identitystore() as second:
        assert first.store_id != second.store_id


def test_the_innermost_mock_serves_and_the_outer_one_resumes() -> None:
    with mock_identitystore() as outer:
        with mock_identitystore() as inner:
            client = boto3.client("identitystore")
            assert client.list_users(IdentityStoreId=inner.store_id)["Users"] == []
            with pytest.raises(client.exceptions.ResourceNotFoundException):
                client.list_users(IdentityStoreId=outer.store_id)
        client = boto3.client("identitystore")
        assert client.list_users(IdentityStoreId=outer.store_id)["Users"] == []
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.list_users(IdentityStoreId=inner.store_id)


def test_a_class_cannot_be_decorated() -> None:
    with pytest.raises(TypeError, match="decorates functions, not classes"):

        @mock_identitystore()
        class TestSomething:
            pass


def test_a_mock_cannot_be_entered_twice() -> None:
    mock = mock_identitystore()
    with mock, pytest.raises(RuntimeError, match="already active"):
        mock.start()


def test_an_async_test_function_runs_inside_the_mock() -> None:
    mock = mock_identitystore()

    @mock
    async def body() -> list[Any]:
        client = boto3.client("identitystore")
        return list(client.list_users(IdentityStoreId=mock.store_id)["Users"])

    assert asyncio.run(body()) == []


def test_a_client_with_its_own_endpoint_is_left_alone() -> None:
    with mock_identitystore() as mock:
        client = boto3.client(
            "identitystore",
            endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
            config=BotoConfig(retries={"max_attempts": 0}, connect_timeout=2),
        )
        with pytest.raises(EndpointConnectionError):
            client.list_users(IdentityStoreId=mock.store_id)


def test_other_services_are_not_answered() -> None:
    reached: list[str] = []

    def other_service(request: Any, **_: Any) -> None:
        reached.append(request.url)
        raise RuntimeError("stop here")

    with mock_identitystore():
        sts = boto3.client("sts")
        sts.meta.events.register_last("before-send.sts", other_service)
        with pytest.raises(RuntimeError, match="stop here"):
            sts.get_caller_identity()
    assert reached and "sts" in reached[0]


def test_outside_a_mock_nothing_is_intercepted(bare_environment: None) -> None:
    client = boto3.client(
        "identitystore",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        endpoint_url="http://127.0.0.1:9",
        config=BotoConfig(retries={"max_attempts": 0}, connect_timeout=2),
    )
    with pytest.raises(EndpointConnectionError):
        client.list_users(IdentityStoreId="d-0123456789")


def test_a_mock_can_serve_a_given_store(store: Store) -> None:
    with IdentityStoreMock(store=store) as mock:
        client = boto3.client("identitystore")
        client.create_group(IdentityStoreId=mock.store_id, DisplayName="Kept")
    assert store.get_identity_store(mock.store_id).group_count == 1


# -- the pytest plugin -------------------------------------------------------------------------


def test_the_fixture_is_an_active_mock(idstore: IdentityStoreMock) -> None:
    assert idstore.gateway is not None
    client = boto3.client("identitystore")
    assert client.list_groups(IdentityStoreId=idstore.store_id)["Groups"] == []


@pytest.mark.idstore(auto_create_stores=True)
def test_the_marker_passes_options(idstore: IdentityStoreMock) -> None:
    assert idstore.auto_create_stores
    client = boto3.client("identitystore")
    assert client.list_users(IdentityStoreId="d-00000000aa")["Users"] == []


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import idstore.pytest_plugin
        heavy = {"botocore", "boto3", "sqlalchemy", "idstore.testing", "idstore.store"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_another_project_gets_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_theirs.py").write_text(
        textwrap.dedent(
            """
            import boto3
            import pytest

            def test_plain(idstore):
                client = boto3.client("identitystore")
                client.create_group(IdentityStoreId=idstore.store_id, DisplayName="Theirs")
                assert len(client.list_groups(IdentityStoreId=idstore.store_id)["Groups"]) == 1

            @pytest.mark.idstore(faults={"ThrottlingException": 1.0})
            def test_marked(idstore):
                client = boto3.client(
                    "identitystore",
                    config=__import__("botocore.config").config.Config(
                        retries={"max_attempts": 0}
                    ),
                )
                with pytest.raises(client.exceptions.ThrottlingException):
                    client.list_groups(IdentityStoreId=idstore.store_id)

            def test_unused():
                import sys
                assert "idstore.testing" not in sys.modules
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-W",
            "error",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_theirs.py::test_unused",
            "test_theirs.py::test_plain",
            "test_theirs.py::test_marked",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout

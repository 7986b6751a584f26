"""The calls Identity Center tools make before identitystore, through real boto3 clients: STS
GetCallerIdentity and sso-admin's instance operations, in process and over HTTP, on the same
endpoint and keys as identitystore (see aws/sts.py, aws/ssoadmin.py). Rights and signatures:
tests/auth/test_identity_center.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
import urllib3
from botocore.awsrequest import AWSResponse
from botocore.config import Config as BotoConfig

from idstore.aws import ssoadmin
from idstore.aws.ssoadmin import instance_arn
from idstore.store import Store
from idstore.testing import mock_identitystore
from tests.conftest import REGION, RunningServer
from tests.helpers import error_of, expect_error, make_group, make_user

ACCOUNT = "000000000000"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/AKIDTESTCLIENT"


def _client(service: str, **options: Any) -> Any:
    defaults = {
        "region_name": REGION,
        "aws_access_key_id": "AKIDTESTCLIENT",
        "aws_secret_access_key": "secret",
    }
    return boto3.client(service, **{**defaults, **options})


@pytest.fixture
def sts(mock: Any) -> Any:
    return _client("sts")


@pytest.fixture
def sso(mock: Any) -> Any:
    return _client("sso-admin")


@pytest.fixture(params=["in-process", "http"])
def clients(request: pytest.FixtureRequest, mock: Any) -> Any:
    """(sts, sso-admin, identitystore) clients, in process and over HTTP to one server."""
    if request.param == "in-process":
        return _client("sts"), _client("sso-admin"), _client("identitystore")
    server: RunningServer = request.getfixturevalue("server")
    return tuple(
        _client(name, endpoint_url=server.url) for name in ("sts", "sso-admin", "identitystore")
    )


# -- STS -------------------------------------------------------------------------------------


def test_get_caller_identity_names_the_caller(clients: Any) -> None:
    sts = clients[0]
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == CALLER
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", identity["UserId"])
    assert sts.get_caller_identity()["UserId"] == identity["UserId"]  # stable


def test_get_caller_identity_in_the_test_mode_with_its_dummy_credentials() -> None:
    with mock_identitystore():
        identity = boto3.client("sts").get_caller_identity()
        assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/testing"
        # Faults are identitystore's: STS is served as is even when every request faults.
    with mock_identitystore(faults={"ThrottlingException": 1.0}) as mock:
        assert boto3.client("sts").get_caller_identity()["Account"] == ACCOUNT
        assert boto3.client("sso-admin").list_instances()["Instances"]
        assert mock.injected == []


def test_other_sts_actions_name_what_is_served(sts: Any) -> None:
    response = expect_error(
        "InvalidAction",
        sts.assume_role,
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/admin",
        RoleSessionName="session",
    )
    message = response["Error"]["Message"]
    assert "AssumeRole" in message and "GetCallerIdentity" in message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- sso-admin -------------------------------------------------------------------------------


def test_every_identity_store_is_an_instance(clients: Any, store: Store, store_id: str) -> None:
    _, sso, _ = clients
    instances = sso.list_instances()["Instances"]
    assert len(instances) == 1
    instance = instances[0]
    assert instance["IdentityStoreId"] == store_id
    assert re.fullmatch(r"arn:aws:sso:::instance/ssoins-[0-9a-f]{16}", instance["InstanceArn"])
    assert instance["InstanceArn"] == instance_arn(store_id)
    assert instance["OwnerAccountId"] == ACCOUNT
    assert instance["Status"] == "ACTIVE"
    assert "Name" not in instance
    created = store.get_identity_store(store_id).created_at
    assert abs(instance["CreatedDate"] - created) < timedelta(milliseconds=1)
    described = sso.describe_instance(InstanceArn=instance["InstanceArn"])
    assert {k: v for k, v in described.items() if k != "ResponseMetadata"} == instance


def test_create_update_and_delete_an_instance(clients: Any) -> None:
    _, sso, ids = clients
    arn = sso.create_instance(Name="Engineering-2")["InstanceArn"]
    described = sso.describe_instance(InstanceArn=arn)
    assert described["Name"] == "Engineering-2"
    assert abs(described["CreatedDate"] - datetime.now(UTC)) < timedelta(minutes=1)
    new_store = described["IdentityStoreId"]
    assert [i["IdentityStoreId"] for i in sso.list_instances()["Instances"]][-1] == new_store

    # The new store is an identity store like any other.
    user_id = make_user(ids, new_store)
    group_id = make_group(ids, new_store)
    ids.create_group_membership(
        IdentityStoreId=new_store, GroupId=group_id, MemberId={"UserId": user_id}
    )
    assert ids.describe_identity_store(IdentityStoreId=new_store)["IdentityStoreId"] == new_store

    sso.update_instance(InstanceArn=arn, Name="Renamed")
    assert sso.describe_instance(InstanceArn=arn)["Name"] == "Renamed"
    sso.update_instance(InstanceArn=arn, Name="")
    assert "Name" not in sso.describe_instance(InstanceArn=arn)

    sso.delete_instance(InstanceArn=arn)
    response = expect_error("ResourceNotFoundException", sso.describe_instance, InstanceArn=arn)
    assert arn in response["Error"]["Message"]
    expect_error(
        "ResourceNotFoundException", ids.describe_user, IdentityStoreId=new_store, UserId=user_id
    )
    expect_error("ResourceNotFoundException", sso.delete_instance, InstanceArn=arn)
    expect_error("ResourceNotFoundException", sso.update_instance, InstanceArn=arn, Name="x")
    assert new_store not in [i["IdentityStoreId"] for i in sso.list_instances()["Instances"]]


def test_a_deleted_store_takes_its_name_with_it(sso: Any, store: Store) -> None:
    arn = sso.create_instance(Name="Temporary")["InstanceArn"]
    store_id = sso.describe_instance(InstanceArn=arn)["IdentityStoreId"]
    assert store.instance_names([store_id]) == {store_id: "Temporary"}
    store.delete_identity_store(store_id)  # as `idstore stores delete` does
    assert store.instance_names([store_id]) == {}
    expect_error("ResourceNotFoundException", sso.describe_instance, InstanceArn=arn)


def test_a_store_made_elsewhere_is_found_by_its_arn(sso: Any, store: Store) -> None:
    # Made after the server started, not through it (as `idstore stores create` or another
    # server on the same database would): the look-up reads the database, not a local list.
    made = store.create_identity_store(datetime.now(UTC)).store_id
    try:
        described = sso.describe_instance(InstanceArn=instance_arn(made))
        assert described["IdentityStoreId"] == made
    finally:
        store.delete_identity_store(made)
    expect_error("ResourceNotFoundException", sso.describe_instance, InstanceArn=instance_arn(made))


def test_an_unknown_arn_costs_two_reads_however_many_stores(
    sso: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It used to hash every store's id in turn: 3,000 stores took 30 pages of reads.
    from sqlalchemy import text

    from idstore.model import instance_id
    from idstore.store import sql

    made = [f"d-7777{i:06x}" for i in range(3000)]
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO identity_stores (store_id, instance_id, created_at) VALUES (:s, :i, 0)"
            ),
            [{"s": sid, "i": instance_id(sid)} for sid in made],
        )
    statements: list[Any] = []
    cursor = sql.Connection._cursor

    def counted(self: sql.Connection, statement: Any, params: Any) -> Any:
        statements.append(statement)
        return cursor(self, statement, params)

    monkeypatch.setattr(sql.Connection, "_cursor", counted)
    try:
        unknown = "arn:aws:sso:::instance/ssoins-0000000000000000"
        expect_error("ResourceNotFoundException", sso.describe_instance, InstanceArn=unknown)
        # Two indexed reads of identity_stores: the instance id, and whether any row lacks
        # one (a SigV4 server may also read the caller's key).
        reads = [str(st) for st in statements if "identity_stores" in str(st)]
        assert len(reads) == 2, reads
        assert all("WHERE identity_stores.instance_id" in read for read in reads), reads
        last = sso.describe_instance(InstanceArn=instance_arn(made[-1]))
        assert last["IdentityStoreId"] == made[-1]
    finally:
        monkeypatch.undo()
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM identity_stores WHERE store_id LIKE 'd-7777%'"))


def test_create_instance_is_idempotent_by_client_token(sso: Any) -> None:
    before = len(sso.list_instances()["Instances"])
    first = sso.create_instance(Name="Once", ClientToken="token-1")["InstanceArn"]
    assert sso.create_instance(Name="Once", ClientToken="token-1")["InstanceArn"] == first
    assert len(sso.list_instances()["Instances"]) == before + 1
    # The same token with another Name is refused, and changes nothing.
    response = expect_error(
        "ConflictException", sso.create_instance, Name="Twice", ClientToken="token-1"
    )
    assert "IdempotentParameterMismatch" in response["Error"]["Message"]
    assert set(response["Error"]) == {"Code", "Message"}
    # A caller's tokens are its own: another key's "token-1" is a new instance.
    other = _client("sso-admin", aws_access_key_id="AKIDOTHERCLIENT")
    second = other.create_instance(Name="Once", ClientToken="token-1")["InstanceArn"]
    assert second != first
    # Renaming the instance does not change what the token was used for.
    sso.update_instance(InstanceArn=first, Name="Renamed")
    assert sso.create_instance(Name="Once", ClientToken="token-1")["InstanceArn"] == first
    # The token lasts as long as its instance.
    sso.delete_instance(InstanceArn=first)
    third = sso.create_instance(Name="Once", ClientToken="token-1")["InstanceArn"]
    assert third not in (first, second)
    # Without a Name as with one; and botocore fills a fresh token in when none is given.
    unnamed = sso.create_instance(ClientToken="token-2")["InstanceArn"]
    assert sso.create_instance(ClientToken="token-2")["InstanceArn"] == unnamed
    assert sso.create_instance()["InstanceArn"] != sso.create_instance()["InstanceArn"]
    for arn in (second, third, unnamed):
        (other if arn == second else sso).delete_instance(InstanceArn=arn)


class _LostAnswer:
    """A botocore `before-send` hook: the first request reaches the server, but the client is
    told 500, as when an answer is lost on the way back; botocore then retries it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.answer: dict[str, Any] = {}

    def __call__(self, request: Any, **_: Any) -> Any:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        self.sent.append(body)
        if len(self.sent) > 1:
            return None  # botocore sends it
        delivered = urllib3.request(
            "POST", request.url, body=body, headers=dict(request.headers.items())
        )
        self.answer = delivered.json()
        assert delivered.status == 200, self.answer
        return AWSResponse(request.url, 500, {}, _Raw(b"{}"))


class _Raw:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


def test_a_retried_create_instance_makes_one_instance(server: RunningServer) -> None:
    sso = _client(
        "sso-admin",
        endpoint_url=server.url,
        config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}),
    )
    before = len(sso.list_instances()["Instances"])
    lost = _LostAnswer()
    sso.meta.events.register("before-send.sso-admin.CreateInstance", lost)
    response = sso.create_instance(Name="Retried")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert lost.answer["InstanceArn"] == response["InstanceArn"]  # the lost answer's instance
    assert len(lost.sent) == 2 and lost.sent[0] == lost.sent[1]  # the same ClientToken
    instances = sso.list_instances()["Instances"]
    assert len(instances) == before + 1
    assert instances[-1]["InstanceArn"] == response["InstanceArn"]
    sso.delete_instance(InstanceArn=response["InstanceArn"])


def test_instances_are_listed_in_pages(sso: Any, store_id: str) -> None:
    made = [sso.create_instance(Name=f"store{i}")["InstanceArn"] for i in range(4)]
    pages = list(sso.get_paginator("list_instances").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Instances"]) for p in pages] == [2, 2, 1]
    listed = [i["InstanceArn"] for p in pages for i in p["Instances"]]
    assert listed == [instance_arn(store_id), *made]
    response = expect_error("ValidationException", sso.list_instances, NextToken="1-forged")
    assert "NextToken" in response["Error"]["Message"]


def test_the_instance_arn_is_the_same_on_every_server(store_id: str) -> None:
    # A hash of the store id: another database holding the same store agrees on it.
    with mock_identitystore() as other:
        assert other.store is not None
        other.store.create_identity_store(datetime.now(UTC), store_id)
        listed = boto3.client("sso-admin").list_instances()["Instances"]
        assert instance_arn(store_id) in [i["InstanceArn"] for i in listed]
    assert instance_arn(store_id) == instance_arn(store_id)
    assert instance_arn(store_id) != instance_arn(store_id + "0")


def test_malformed_instance_requests_are_validation_errors(sso: Any) -> None:
    response = expect_error(
        "ValidationException", sso.describe_instance, InstanceArn="arn:aws:sso:::instance/nope"
    )
    assert "instanceArn" in response["Error"]["Message"]
    expect_error("ValidationException", sso.create_instance, Name="no spaces allowed")
    expect_error("ValidationException", sso.create_instance, Name="Zürich")  # \w is ASCII
    expect_error("ValidationException", sso.create_instance, Tags=[{"Key": "team", "Value": "a"}])
    arn = sso.list_instances()["Instances"][0]["InstanceArn"]
    expect_error(
        "ValidationException",
        sso.update_instance,
        InstanceArn=arn,
        EncryptionConfiguration={
            "KeyType": "CUSTOMER_MANAGED_KEY",
            "KmsKeyArn": "arn:aws:kms:us-east-1:000000000000:key/k",
        },
    )
    sso.update_instance(InstanceArn=arn, EncryptionConfiguration={"KeyType": "AWS_OWNED_KMS_KEY"})
    unknown = "arn:aws:sso:::instance/ssoins-0000000000000000"
    expect_error("ResourceNotFoundException", sso.describe_instance, InstanceArn=unknown)


def test_other_sso_admin_operations_name_what_is_served(clients: Any) -> None:
    _, sso, _ = clients
    arn = sso.list_instances()["Instances"][0]["InstanceArn"]
    for call, params in [
        (sso.list_permission_sets, {"InstanceArn": arn}),
        (sso.list_applications, {"InstanceArn": arn}),
    ]:
        with pytest.raises(sso.exceptions.ClientError) as excinfo:
            call(**params)
        error = error_of(excinfo)
        assert error["Error"]["Code"] == "UnknownOperationException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert all(op in error["Error"]["Message"] for op in ssoadmin.OPERATIONS)


def test_the_members_read_are_constrained_as_the_model_says() -> None:
    """The constraints kept in aws/ssoadmin.py agree with the installed botocore's model."""
    model = botocore.session.get_session().get_service_model("sso-admin")
    inputs = {name: model.operation_model(name).input_shape.members for name in ssoadmin.OPERATIONS}
    assert model.metadata["targetPrefix"] == ssoadmin.TARGET_PREFIX
    assert model.metadata["signingName"] == ssoadmin.SIGNING_NAME
    pairs = [
        (inputs["DescribeInstance"]["InstanceArn"], ssoadmin.INSTANCE_ARN),
        (inputs["CreateInstance"]["Name"], ssoadmin.NAME),
        (inputs["UpdateInstance"]["Name"], ssoadmin.NAME),
        (inputs["CreateInstance"]["ClientToken"], ssoadmin.CLIENT_TOKEN),
        (inputs["ListInstances"]["NextToken"], ssoadmin.NEXT_TOKEN),
    ]
    for shape, limits in pairs:
        assert (shape.metadata["min"], shape.metadata["max"]) == (limits.min, limits.max)
        assert shape.metadata["pattern"] == limits.pattern
    page_size = inputs["ListInstances"]["MaxResults"].metadata
    assert (page_size["min"], page_size["max"]) == ssoadmin.MAX_RESULTS
    assert inputs["CreateInstance"]["Tags"].metadata["max"] == ssoadmin.TAGS_MAX
    # What is answered fits the output shapes' patterns.
    arn_pattern = model.shape_for("InstanceArn").metadata["pattern"]
    assert re.fullmatch(arn_pattern, instance_arn("d-0123456789"))

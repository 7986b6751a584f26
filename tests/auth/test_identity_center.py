"""STS and sso-admin under SigV4: signed for their own signing names (`sts`, `sso`), refused in
their own error shapes when the signature is bad, and sso-admin bound by the key's store rights
(see aws/ssoadmin.py for who may create and delete instances)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from idstore.aws.ssoadmin import instance_arn
from idstore.model import now
from idstore.store import Store
from tests.auth.conftest import AccessKeyPair, Keys, no_retries
from tests.conftest import REGION, RunningServer
from tests.helpers import expect_error, make_user, raw_request

STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
IDENTITY_FORM = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def _client(service: str, pair: AccessKeyPair, **options: Any) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret,
        config=no_retries(),
        **options,
    )


@pytest.fixture
def admin(keys: Keys) -> AccessKeyPair:
    return keys.make(None, name="admin")


# -- STS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("over", ["in-process", "http"])
def test_get_caller_identity_names_the_key(
    request: pytest.FixtureRequest, mock: Any, keys: Keys, store_id: str, over: str
) -> None:
    pair = keys.make([store_id], read_only=True, name="reporter")
    options = {}
    if over == "http":
        options["endpoint_url"] = request.getfixturevalue("server").url
    identity = _client("sts", pair, **options).get_caller_identity()
    assert identity["Arn"] == pair.arn == "arn:aws:iam::000000000000:user/reporter"
    assert identity["Account"] == "000000000000"
    assert identity["UserId"].startswith("AIDA")


@pytest.mark.parametrize("over", ["in-process", "http"])
def test_bad_credentials_are_refused_by_sts(
    request: pytest.FixtureRequest, mock: Any, admin: AccessKeyPair, over: str
) -> None:
    options = {}
    if over == "http":
        options["endpoint_url"] = request.getfixturevalue("server").url
    wrong = AccessKeyPair(admin.access_key_id, admin.secret + "x", admin.name)
    response = expect_error(
        "SignatureDoesNotMatch", _client("sts", wrong, **options).get_caller_identity
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    unknown = AccessKeyPair("AKIDNOSUCHKEY", "secret", "nobody")
    expect_error("InvalidClientTokenId", _client("sts", unknown, **options).get_caller_identity)


def test_an_unsigned_sts_request_is_missing_authentication(server: RunningServer) -> None:
    response = raw_request(
        server.url, IDENTITY_FORM, content_type=FORM, headers={"Authorization": ""}
    )
    assert response.status == 403
    error = ElementTree.fromstring(response.body).find(f"{STS_NS}Error")
    assert error is not None
    assert error.findtext(f"{STS_NS}Code") == "MissingAuthenticationToken"
    assert error.findtext(f"{STS_NS}Type") == "Sender"


def _signed(
    server: RunningServer,
    pair: AccessKeyPair,
    service: str,
    body: bytes,
    *,
    method: str = "POST",
    path: str = "/",
    content_type: str | None = FORM,
) -> dict[str, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    request = AWSRequest(method, server.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(pair.access_key_id, pair.secret), service, REGION).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "content-type"}


def test_get_caller_identity_in_the_query_string(
    server: RunningServer, admin: AccessKeyPair
) -> None:
    path = "/?" + IDENTITY_FORM.decode()
    headers = _signed(server, admin, "sts", b"", method="GET", path=path, content_type=None)
    response = raw_request(
        server.url, None, method="GET", path=path, content_type=None, headers=headers
    )
    assert response.status == 200, response.body
    root = ElementTree.fromstring(response.body)
    result = f"{STS_NS}GetCallerIdentityResult"
    assert root.findtext(f"{result}/{STS_NS}Arn") == admin.arn


def test_a_request_signed_for_sso_without_a_target_is_sso_admins_unknown_operation(
    server: RunningServer, admin: AccessKeyPair
) -> None:
    headers = _signed(server, admin, "sso", b"{}", content_type="application/x-amz-json-1.1")
    response = raw_request(server.url, b"{}", headers=headers)
    assert response.status == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_a_signature_for_another_service_is_refused(
    server: RunningServer, admin: AccessKeyPair
) -> None:
    # Signed correctly, but for identitystore: STS does not take it, as AWS would not.
    headers = _signed(server, admin, "identitystore", IDENTITY_FORM)
    response = raw_request(server.url, IDENTITY_FORM, content_type=FORM, headers=headers)
    assert response.status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.body
    assert b"scoped to correct service: 'sts'" in response.body
    good = raw_request(
        server.url,
        IDENTITY_FORM,
        content_type=FORM,
        headers=_signed(server, admin, "sts", IDENTITY_FORM),
    )
    assert good.status == 200, good.body
    assert b"<Arn>arn:aws:iam::000000000000:user/admin</Arn>" in good.body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"Action=AssumeRole&Version=2011-06-15", "InvalidAction"),
        (b"Version=2011-06-15", "InvalidAction"),
        (b"Action=GetCallerIdentity&Version=2099-01-01", "InvalidAction"),
        (b"\xff\xfe=\x00&&&==", "InvalidAction"),
    ],
)
def test_malformed_sts_requests_are_sender_errors(
    server: RunningServer, admin: AccessKeyPair, body: bytes, code: str
) -> None:
    headers = _signed(server, admin, "sts", body)
    response = raw_request(server.url, body, content_type=FORM, headers=headers)
    assert response.status == 400, response.body
    root = ElementTree.fromstring(response.body)
    assert root.tag == f"{STS_NS}ErrorResponse"
    assert root.findtext(f"{STS_NS}Error/{STS_NS}Code") == code
    assert root.findtext(f"{STS_NS}RequestId") == response.headers["x-amzn-requestid"]


# -- sso-admin -------------------------------------------------------------------------------


def test_bad_credentials_are_refused_by_sso_admin(mock: Any, admin: AccessKeyPair) -> None:
    wrong = AccessKeyPair(admin.access_key_id, admin.secret + "x", admin.name)
    expect_error("InvalidSignatureException", _client("sso-admin", wrong).list_instances)
    unknown = AccessKeyPair("AKIDNOSUCHKEY", "secret", "nobody")
    expect_error("UnrecognizedClientException", _client("sso-admin", unknown).list_instances)


def test_a_key_sees_only_its_own_instances(
    mock: Any, store: Store, keys: Keys, store_id: str
) -> None:
    other = store.create_identity_store(now()).store_id
    limited = _client("sso-admin", keys.make([store_id], name="limited"))
    assert [i["IdentityStoreId"] for i in limited.list_instances()["Instances"]] == [store_id]
    limited.describe_instance(InstanceArn=instance_arn(store_id))
    # Another store's instance, and one that exists nowhere, are refused alike.
    for arn in (instance_arn(other), "arn:aws:sso:::instance/ssoins-0123456789abcdef"):
        response = expect_error("AccessDeniedException", limited.describe_instance, InstanceArn=arn)
        assert "sso:DescribeInstance" in response["Error"]["Message"]
        expect_error("AccessDeniedException", limited.update_instance, InstanceArn=arn, Name="x")
    # It may rename its own store's instance, but not create or delete instances.
    limited.update_instance(InstanceArn=instance_arn(store_id), Name="Mine")
    response = expect_error("AccessDeniedException", limited.create_instance, Name="new")
    assert "all stores" in response["Error"]["Message"]
    expect_error(
        "AccessDeniedException", limited.delete_instance, InstanceArn=instance_arn(store_id)
    )
    every = _client("sso-admin", keys.make(None, name="root"))
    assert len(every.list_instances()["Instances"]) == 2


def test_a_read_only_key_may_only_list_and_describe(mock: Any, keys: Keys, store_id: str) -> None:
    reader = _client("sso-admin", keys.make(None, read_only=True, name="auditor"))
    arn = instance_arn(store_id)
    assert reader.list_instances()["Instances"][0]["InstanceArn"] == arn
    reader.describe_instance(InstanceArn=arn)
    for call, params in [
        (reader.create_instance, {}),
        (reader.update_instance, {"InstanceArn": arn, "Name": "x"}),
        (reader.delete_instance, {"InstanceArn": arn}),
    ]:
        response = expect_error("AccessDeniedException", call, **params)
        assert "read-only" in response["Error"]["Message"]


def test_an_administrator_creates_and_deletes_instances_over_http(
    server: RunningServer, store: Store, admin: AccessKeyPair
) -> None:
    sso = _client("sso-admin", admin, endpoint_url=server.url)
    ids = _client("identitystore", admin, endpoint_url=server.url)
    arn = sso.create_instance(Name="Created")["InstanceArn"]
    new_store = sso.describe_instance(InstanceArn=arn)["IdentityStoreId"]
    user_id = make_user(ids, new_store)
    assert ids.describe_user(IdentityStoreId=new_store, UserId=user_id)["UserName"] == "alice"
    sso.delete_instance(InstanceArn=arn)
    expect_error("ResourceNotFoundException", ids.list_users, IdentityStoreId=new_store)
    assert store.counts()["users"] == 0


def test_a_stores_source_ip_rules_apply_to_its_instance(
    server: RunningServer, admin: AccessKeyPair, store_id: str
) -> None:
    ids = _client("identitystore", admin, endpoint_url=server.url)
    sso = _client("sso-admin", admin, endpoint_url=server.url)
    ids.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={"ApiAllowSourceIps": ["192.0.2.0/24"], "VpceAccessRequired": False},
    )
    response = expect_error(
        "AccessDeniedException", sso.delete_instance, InstanceArn=instance_arn(store_id)
    )
    assert "127.0.0.1" in response["Error"]["Message"]

"""SigV4 verification (docs/behaviour.md#access): good keys pass, everything else is refused with
AWS's errors.

Real boto3 clients sign the requests; hand-made HTTP is used only where a client would never
send what is tested (a tampered body, a presigned URL, a malformed Authorization header).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

from idstore.store import Store
from tests.auth.conftest import AccessKeyPair, Keys, no_retries
from tests.conftest import REGION, RunningServer
from tests.helpers import (
    JSON_1_1,
    RawResponse,
    check_aws_error,
    check_aws_response,
    expect_error,
    make_user,
    raw_request,
    target,
    user_params,
)


def _signed(
    server: RunningServer,
    pair: AccessKeyPair,
    operation: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    region: str = REGION,
) -> dict[str, str]:
    """The headers botocore signs for a request to `server` (as a client would send them)."""
    request = AWSRequest(
        "POST",
        server.url + "/",
        data=body,
        headers={"X-Amz-Target": target(operation), "Content-Type": JSON_1_1, **(headers or {})},
    )
    SigV4Auth(Credentials(pair.access_key_id, pair.secret), "identitystore", region).add_auth(
        request
    )
    return dict(request.headers.items())


def _send(server: RunningServer, body: bytes, headers: dict[str, str]) -> RawResponse:
    return raw_request(server.url, body, target=None, content_type=None, headers=headers)


@pytest.fixture
def pair(keys: Keys, store_id: str) -> AccessKeyPair:
    return keys.make([store_id], name="alice")


# -- good keys -------------------------------------------------------------------------------


def test_a_good_key_works_and_is_recorded_as_its_principal(
    client_for: Any, pair: AccessKeyPair, store_id: str
) -> None:
    client = client_for(pair)
    user_id = make_user(client, store_id)
    user = client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    assert user["CreatedBy"] == "arn:aws:iam::000000000000:user/alice"
    assert user["UpdatedBy"] == user["CreatedBy"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "ap-southeast-2", "local"])
def test_any_region_is_accepted(client_for: Any, pair: AccessKeyPair, region: str) -> None:
    stores = client_for(pair, region=region).list_identity_stores()["IdentityStores"]
    assert len(stores) == 1


def test_a_good_key_works_over_http(
    http_client_for: Any, pair: AccessKeyPair, store_id: str
) -> None:
    client = http_client_for(pair)
    user_id = make_user(client, store_id, "over-http")
    assert client.describe_user(IdentityStoreId=store_id, UserId=user_id)["UserName"] == (
        "over-http"
    )
    assert client.list_users(IdentityStoreId=store_id)["Users"][0]["UserId"] == user_id


def test_a_date_header_may_stand_for_x_amz_date(
    server: RunningServer, pair: AccessKeyPair, store_id: str
) -> None:
    # botocore signs with the Date header when the request has one (and no X-Amz-Date).
    body = b"{}"
    headers = _signed(server, pair, "ListIdentityStores", body, headers={"Date": "x"})
    assert "X-Amz-Date" not in headers and "Date" in headers
    listed = check_aws_response(_send(server, body, headers))
    assert [s["IdentityStoreId"] for s in listed["IdentityStores"]] == [store_id]


def test_a_signed_payload_hash_header_is_accepted(
    server: RunningServer, pair: AccessKeyPair
) -> None:
    body = b"{}"
    digest = hashlib.sha256(body).hexdigest()
    headers = _signed(
        server, pair, "ListIdentityStores", body, headers={"X-Amz-Content-SHA256": digest}
    )
    assert _send(server, body, headers).status == 200


# -- refused ---------------------------------------------------------------------------------


def test_a_wrong_secret_is_an_invalid_signature(
    client_for: Any, pair: AccessKeyPair, store_id: str
) -> None:
    wrong = AccessKeyPair(pair.access_key_id, pair.secret[:-1] + "x", pair.name)
    response = expect_error(
        "InvalidSignatureException", client_for(wrong).list_users, IdentityStoreId=store_id
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "signature we calculated does not match" in response["Error"]["Message"]
    assert pair.secret not in str(response)


def test_an_unknown_key_is_unrecognized(client_for: Any, store_id: str) -> None:
    stranger = AccessKeyPair("IDSKAAAAAAAAAAAAAAAA", "x" * 40, "nobody")
    response = expect_error(
        "UnrecognizedClientException", client_for(stranger).list_users, IdentityStoreId=store_id
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unsigned_request_is_missing_authentication(mock: Any, store_id: str) -> None:
    client = boto3.client(
        "identitystore", region_name=REGION, config=BotoConfig(signature_version=UNSIGNED)
    )
    response = expect_error(
        "MissingAuthenticationTokenException", client.list_users, IdentityStoreId=store_id
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unsigned_http_request_is_missing_authentication(server: RunningServer) -> None:
    response = raw_request(server.url, b"{}", target=target("ListIdentityStores"))
    check_aws_error(response, "MissingAuthenticationTokenException")
    blank = raw_request(
        server.url, b"{}", target=target("ListIdentityStores"), headers={"Authorization": " "}
    )
    check_aws_error(blank, "MissingAuthenticationTokenException")


def test_a_session_token_is_unrecognized(mock: Any, pair: AccessKeyPair, store_id: str) -> None:
    # idstore keys are long-term keys: a request claiming a session is not one of theirs.
    client = boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret,
        aws_session_token="token",
    )
    expect_error("UnrecognizedClientException", client.list_users, IdentityStoreId=store_id)


def test_a_tampered_body_is_an_invalid_signature(
    server: RunningServer, pair: AccessKeyPair, store_id: str, client_for: Any
) -> None:
    body = f'{{"IdentityStoreId": "{store_id}"}}'.encode()
    headers = _signed(server, pair, "ListUsers", body)
    assert _send(server, body, headers).status == 200
    tampered = body.replace(b"}", b', "MaxResults": 1}')
    check_aws_error(_send(server, tampered, headers), "InvalidSignatureException")


def test_a_tampered_header_is_an_invalid_signature(
    server: RunningServer, pair: AccessKeyPair, store_id: str
) -> None:
    body = f'{{"IdentityStoreId": "{store_id}"}}'.encode()
    headers = _signed(server, pair, "ListUsers", body)
    check_aws_error(
        _send(server, body, {**headers, "X-Amz-Target": target("ListGroups")}),
        "InvalidSignatureException",
    )


def test_a_payload_hash_that_is_not_the_body_is_refused(
    server: RunningServer, pair: AccessKeyPair
) -> None:
    body = b"{}"
    for claimed in ("UNSIGNED-PAYLOAD", hashlib.sha256(b"other").hexdigest()):
        headers = _signed(
            server, pair, "ListIdentityStores", body, headers={"X-Amz-Content-SHA256": claimed}
        )
        check_aws_error(_send(server, body, headers), "InvalidSignatureException")


@pytest.mark.parametrize(("minutes", "word"), [(-16, "expired"), (16, "not yet current")])
def test_a_signature_dated_over_15_minutes_away_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    client_for: Any,
    pair: AccessKeyPair,
    store_id: str,
    minutes: int,
    word: str,
) -> None:
    client = client_for(pair)
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: skewed)
    response = expect_error(
        "InvalidSignatureException", client.list_users, IdentityStoreId=store_id
    )
    assert f"Signature {word}" in response["Error"]["Message"]


@pytest.mark.parametrize("minutes", [-14, 14])
def test_a_signature_within_15_minutes_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
    client_for: Any,
    pair: AccessKeyPair,
    store_id: str,
    minutes: int,
) -> None:
    client = client_for(pair)
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: skewed)
    assert client.list_users(IdentityStoreId=store_id)["Users"] == []


def test_a_deleted_key_stops_working_within_a_second(
    client_for: Any, keys: Keys, store: Store, store_id: str
) -> None:
    pair = keys.make([store_id])
    client = client_for(pair, config=no_retries())
    client.list_users(IdentityStoreId=store_id)
    assert store.delete_access_key(pair.access_key_id)
    time.sleep(1.1)
    expect_error("UnrecognizedClientException", client.list_users, IdentityStoreId=store_id)


# -- presigned URLs --------------------------------------------------------------------------


def _presigned(
    server: RunningServer, pair: AccessKeyPair, operation: str, expires: int = 300
) -> tuple[str, dict[str, str]]:
    """A presigned URL for `operation` (with an empty body), and the headers it was signed with.

    SigV4QueryAuth moves a body's parameters into the query string, which AWS JSON does not
    read; operations without parameters can be presigned as they are.
    """
    request = AWSRequest(
        "POST",
        server.url + "/",
        data=b"",
        headers={"X-Amz-Target": target(operation), "Content-Type": JSON_1_1},
    )
    SigV4QueryAuth(
        Credentials(pair.access_key_id, pair.secret), "identitystore", REGION, expires=expires
    ).add_auth(request)
    return request.url, dict(request.headers.items())


def _urlopen(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    import json

    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_presigned_url_works(
    server: RunningServer, pair: AccessKeyPair, store_id: str, store: Store
) -> None:
    from idstore.model import now

    store.create_identity_store(now())  # not the key's: not listed
    url, headers = _presigned(server, pair, "ListIdentityStores")
    assert "X-Amz-Signature=" in url and "Authorization" not in headers
    status, body = _urlopen(url, headers)
    assert status == 200, body
    assert [s["IdentityStoreId"] for s in body["IdentityStores"]] == [store_id]


def test_a_tampered_presigned_url_is_refused(server: RunningServer, pair: AccessKeyPair) -> None:
    url, headers = _presigned(server, pair, "ListIdentityStores")
    status, body = _urlopen(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"), headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    status, body = _urlopen(url, {**headers, "X-Amz-Target": target("ListUsers")})
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_an_expired_presigned_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, server: RunningServer, pair: AccessKeyPair
) -> None:
    earlier = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=5)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: earlier)
    url, headers = _presigned(server, pair, "ListIdentityStores", expires=60)
    status, body = _urlopen(url, headers)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "expired" in body["Message"]
    # An old URL that is still valid works: presigned URLs are not bound by the 15 minutes.
    hours_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: hours_ago)
    url, headers = _presigned(server, pair, "ListIdentityStores", expires=7200)
    assert _urlopen(url, headers)[0] == 200


def test_a_header_signature_and_a_presigned_one_at_once_are_refused(
    server: RunningServer, pair: AccessKeyPair
) -> None:
    url, headers = _presigned(server, pair, "ListIdentityStores")
    signed = _signed(server, pair, "ListIdentityStores", b"")
    status, body = _urlopen(url, {**headers, "Authorization": signed["Authorization"]})
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")


# -- malformed signatures (hand-made) --------------------------------------------------------


def _authorization(pair: AccessKeyPair, **parts: str) -> str:
    fields = {
        "Credential": f"{pair.access_key_id}/{time.strftime('%Y%m%d', time.gmtime())}/"
        f"{REGION}/identitystore/aws4_request",
        "SignedHeaders": "content-type;host;x-amz-date;x-amz-target",
        "Signature": "0" * 64,
    }
    fields.update(parts)
    return "AWS4-HMAC-SHA256 " + ", ".join(f"{k}={v}" for k, v in fields.items() if v)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"Credential": ""}, "IncompleteSignatureException"),
        ({"Signature": ""}, "IncompleteSignatureException"),
        ({"SignedHeaders": ""}, "IncompleteSignatureException"),
        ({"Credential": "IDSK/20240101/us-east-1/identitystore"}, "IncompleteSignatureException"),
        ({"SignedHeaders": "content-type;x-amz-date;x-amz-target"}, "IncompleteSignatureException"),
        ({"SignedHeaders": "content-type;host;x-amz-date"}, "IncompleteSignatureException"),
        (
            {"SignedHeaders": "host;x-amz-date;x-amz-target;x-absent"},
            "IncompleteSignatureException",
        ),
        ({"Signature": "not-hex"}, "InvalidSignatureException"),
        ({"Signature": "0" * 64}, "InvalidSignatureException"),
    ],
)
def test_malformed_authorization_headers(
    server: RunningServer, pair: AccessKeyPair, change: dict[str, str], error: str
) -> None:
    headers = {
        "Authorization": _authorization(pair, **change),
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
    }
    response = raw_request(server.url, b"{}", target=target("ListIdentityStores"), headers=headers)
    body = check_aws_error(response, error)
    assert "0" * 64 not in body["Message"]


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("AWS4-HMAC-SHA1 Credential=x", "IncompleteSignatureException"),
        ("Bearer abc", "IncompleteSignatureException"),
        ("AWS AKID:signature", "IncompleteSignatureException"),
    ],
)
def test_other_schemes_are_refused(server: RunningServer, authorization: str, error: str) -> None:
    response = raw_request(
        server.url,
        b"{}",
        target=target("ListIdentityStores"),
        headers={"Authorization": authorization},
    )
    check_aws_error(response, error)


def test_a_credential_for_another_service_or_date_is_refused(
    server: RunningServer, pair: AccessKeyPair
) -> None:
    today = time.strftime("%Y%m%d", time.gmtime())
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for credential in (
        f"{pair.access_key_id}/{today}/{REGION}/iam/aws4_request",
        f"{pair.access_key_id}/20200101/{REGION}/identitystore/aws4_request",
        f"{pair.access_key_id}/{today}/{REGION}/identitystore/aws5_request",
    ):
        headers = {
            "Authorization": _authorization(pair, Credential=credential),
            "X-Amz-Date": stamp,
        }
        response = raw_request(
            server.url, b"{}", target=target("ListIdentityStores"), headers=headers
        )
        check_aws_error(response, "InvalidSignatureException")


def test_a_request_without_a_date_is_incomplete(server: RunningServer, pair: AccessKeyPair) -> None:
    response = raw_request(
        server.url,
        b"{}",
        target=target("ListIdentityStores"),
        headers={"Authorization": _authorization(pair)},
    )
    check_aws_error(response, "IncompleteSignatureException")


def test_authentication_comes_before_everything_else(server: RunningServer) -> None:
    # An unsigned request learns nothing: not whether the operation exists, nor the body is JSON.
    for target_header, body in [("Nope.Nothing", b"{}"), (target("CreateUser"), b"not json")]:
        response = raw_request(server.url, body, target=target_header)
        check_aws_error(response, "MissingAuthenticationTokenException")


def test_a_signed_request_is_then_validated(
    client_for: Any, pair: AccessKeyPair, store_id: str
) -> None:
    params = user_params(store_id, "x" * 200)
    expect_error("ValidationException", client_for(pair).create_user, **params)

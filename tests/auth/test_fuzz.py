"""Property tests of SigV4 verification: whatever the Authorization header, X-Amz-* headers and
presigned query parameters hold, the answer is a well-formed AWS error, never a 5xx; and no
change to a correctly signed request gets through.

They call the gateway in-process (`gateway_call`, the code path of the HTTP server), with SigV4
on (tests/auth/conftest.py); one runs over real HTTP with fewer examples.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from idstore.testing import IdentityStoreMock
from tests.auth.conftest import AccessKeyPair, Keys
from tests.conftest import REGION, RunningServer, fuzz_settings
from tests.helpers import (
    JSON_1_1,
    RawResponse,
    check_aws_response,
    gateway_call,
    raw_request,
    target,
)

FAST = fuzz_settings(120)
OVER_HTTP = fuzz_settings(25)

AUTH_ERRORS = {
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
}
HOST = "idstore.test"

# What an HTTP/1.1 header value may hold (RFC 9110 field-content).
HEADER_CHARS = "\t" + "".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0x80, 0x100)))
header_text = st.text(st.sampled_from(HEADER_CHARS), max_size=80)


@pytest.fixture
def pair(keys: Keys, mock: IdentityStoreMock) -> AccessKeyPair:
    return keys.make([mock.store_id], name="fuzz")


def _now_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _pieces(key_id: str) -> Any:
    """Strategies for the parts of a signature: mostly plausible, sometimes garbage."""
    today = _now_stamp()[:8]
    key_ids = st.sampled_from([key_id, "IDSKAAAAAAAAAAAAAAAA", "", "AKID/x"]) | header_text
    dates = st.sampled_from([today, "20200101", "", "2024-01-01"]) | header_text
    regions = st.sampled_from([REGION, "local", "", "a" * 70]) | header_text
    services = st.sampled_from(["identitystore", "iam", ""]) | header_text
    terminators = st.sampled_from(["aws4_request", "aws4", ""]) | header_text
    credential = (
        st.builds(lambda *parts: "/".join(parts), key_ids, dates, regions, services, terminators)
        | header_text
    )
    names = st.sampled_from(
        ["host", "x-amz-date", "content-type", "x-amz-target", "X-Amz-Date", "absent", "", " "]
    )
    signed_headers = st.lists(names, max_size=6).map(";".join) | header_text
    signature = (
        st.text("0123456789abcdef", min_size=64, max_size=64)
        | st.text("0123456789abcdefABCDEF", max_size=70)
        | header_text
    )
    return credential, signed_headers, signature


@st.composite
def authorizations(draw: Any, key_id: str) -> str:
    credential, signed_headers, signature = _pieces(key_id)
    algorithm = draw(
        st.sampled_from(["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", "AWS", ""]) | header_text
    )
    fields = [
        ("Credential", draw(credential)),
        ("SignedHeaders", draw(signed_headers)),
        ("Signature", draw(signature)),
    ]
    fields = draw(st.permutations(fields))
    keep = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    separator = draw(st.sampled_from([", ", ",", " , ", ",,"]))
    body = separator.join(f"{k}={v}" for (k, v), kept in zip(fields, keep, strict=True) if kept)
    return f"{algorithm} {body}" if draw(st.booleans()) else draw(header_text)


def _amz_headers(pair: AccessKeyPair) -> Any:
    stamps = st.sampled_from(
        [_now_stamp(), "20200101T000000Z", "", "99999999T999999Z", "٢٠٢٤٠١٠١T000000Z"]
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "Authorization": authorizations(pair.access_key_id),
            "X-Amz-Date": stamps | header_text,
            "Date": st.sampled_from(
                ["Mon, 01 Jan 2024 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 -2359", "yesterday"]
            )
            | header_text,
            "X-Amz-Content-SHA256": st.sampled_from(["UNSIGNED-PAYLOAD", "0" * 64]) | header_text,
            "X-Amz-Security-Token": header_text,
            "X-Amz-Target": st.sampled_from([target("ListIdentityStores"), "x"]) | header_text,
            "X-Amz-Algorithm": header_text,
            "Host": st.sampled_from([HOST, ""]) | header_text,
        },
    )


@st.composite
def presigned_queries(draw: Any, key_id: str) -> str:
    credential, signed_headers, signature = _pieces(key_id)
    values = {
        "X-Amz-Algorithm": st.sampled_from(["AWS4-HMAC-SHA256", "x"]) | header_text,
        "X-Amz-Credential": credential,
        "X-Amz-Date": st.sampled_from([_now_stamp(), "nope"]) | header_text,
        "X-Amz-Expires": st.sampled_from(["60", "0", "604801", "-1", "1e3", "²", "٣"])
        | header_text,
        "X-Amz-SignedHeaders": signed_headers,
        "X-Amz-Signature": signature,
        "X-Amz-Security-Token": header_text,
    }
    chosen = draw(st.lists(st.sampled_from(sorted(values)), max_size=9))
    parts = [f"{name}={quote(draw(values[name]), safe='')}" for name in chosen]
    if draw(st.booleans()):
        parts.append(draw(st.text(max_size=20)))  # and some raw noise
    return "&".join(parts)


def _check(response: RawResponse) -> dict[str, Any]:
    body = check_aws_response(response)  # never a 5xx, always a well-formed AWS answer
    assert response.status == 400, body
    assert body["__type"] in AUTH_ERRORS, body
    return body


@given(data=st.data())
@FAST
def test_arbitrary_authorization_and_amz_headers(
    mock: IdentityStoreMock, pair: AccessKeyPair, data: st.DataObject
) -> None:
    headers = {"Content-Type": JSON_1_1, "X-Amz-Target": target("ListIdentityStores"), "Host": HOST}
    headers.update(data.draw(_amz_headers(pair)))
    body = _check(gateway_call(mock, b"{}", headers=headers))
    if not headers.get("Authorization", "").strip():
        assert body["__type"] == "MissingAuthenticationTokenException"


@given(data=st.data())
@FAST
def test_arbitrary_presigned_queries(
    mock: IdentityStoreMock, pair: AccessKeyPair, data: st.DataObject
) -> None:
    query = data.draw(presigned_queries(pair.access_key_id))
    headers = {"Content-Type": JSON_1_1, "X-Amz-Target": target("ListIdentityStores"), "Host": HOST}
    if data.draw(st.booleans()):
        headers.update(data.draw(_amz_headers(pair)))
    _check(gateway_call(mock, b"{}", headers=headers, path="/?" + query if query else "/"))


def _sign(pair: AccessKeyPair, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    request = AWSRequest("POST", f"http://{HOST}/", data=body, headers=headers)
    SigV4Auth(Credentials(pair.access_key_id, pair.secret), "identitystore", REGION).add_auth(
        request
    )
    return {**dict(request.headers.items()), "Host": HOST}


MUTATIONS = st.sampled_from(
    [
        "body",
        "target",
        "content-type",
        "date",
        "signature",
        "credential-key",
        "credential-region",
        "drop-date",
        "drop-signed-header",
        "add-token",
        "add-content-sha",
    ]
)


def _mutate(
    headers: dict[str, str], body: bytes, mutation: str, noise: str
) -> tuple[dict[str, str], bytes]:
    headers = dict(headers)
    auth = headers["Authorization"]
    match mutation:
        case "body":
            body = body[:-1] + f',"Noise":"{noise}"}}'.encode()
        case "target":
            headers["X-Amz-Target"] = target("ListUsers")
        case "content-type":
            headers["Content-Type"] = "application/json"
        case "date":
            stamp = headers["X-Amz-Date"]
            headers["X-Amz-Date"] = stamp[:-3] + ("00Z" if stamp[-3:] != "00Z" else "01Z")
        case "signature":
            signature = auth[-64:]
            flipped = "0" if signature[0] != "0" else "1"
            headers["Authorization"] = auth[:-64] + flipped + signature[1:]
        case "credential-key":
            headers["Authorization"] = auth.replace("Credential=IDSK", "Credential=IDSL")
        case "credential-region":
            headers["Authorization"] = auth.replace(f"/{REGION}/", "/eu-west-1/")
        case "drop-date":
            del headers["X-Amz-Date"]
        case "drop-signed-header":
            del headers["Content-Type"]
        case "add-token":
            headers["X-Amz-Security-Token"] = noise or "token"
        case "add-content-sha":
            headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
            headers["Authorization"] = auth.replace(
                "SignedHeaders=", "SignedHeaders=x-amz-content-sha256;"
            )
    return headers, body


@given(mutation=MUTATIONS, noise=st.text("abcxyz", max_size=5))
@FAST
def test_no_change_to_a_signed_request_gets_through(
    mock: IdentityStoreMock, pair: AccessKeyPair, mutation: str, noise: str
) -> None:
    body = f'{{"IdentityStoreId":"{mock.store_id}"}}'.encode()
    headers = _sign(pair, body, {"Content-Type": JSON_1_1, "X-Amz-Target": target("ListGroups")})
    assert gateway_call(mock, body, headers=headers).status == 200
    changed, changed_body = _mutate(headers, body, mutation, noise)
    _check(gateway_call(mock, changed_body, headers=changed))


@given(authorization=header_text, amz_date=header_text, token=st.none() | header_text)
@OVER_HTTP
def test_arbitrary_auth_headers_over_http(
    server: RunningServer, authorization: str, amz_date: str, token: str | None
) -> None:
    headers = {"Authorization": authorization, "X-Amz-Date": amz_date}
    if token is not None:
        headers["X-Amz-Security-Token"] = token
    response = raw_request(server.url, b"{}", target=target("ListIdentityStores"), headers=headers)
    _check(response)

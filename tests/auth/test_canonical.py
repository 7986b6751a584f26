"""idstore's canonical request is botocore's: checked against `SigV4Auth` on arbitrary requests.

`aws/sigv4.py` writes SigV4's canonical request itself (path and query through botocore's own
functions) because calling `SigV4Auth.canonical_request` on a rebuilt `AWSRequest` costs more
than the rest of a request. botocore stays the reference: for any request, the two must agree,
and anything botocore signs must verify.
"""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from idstore import wire
from idstore.aws import sigv4
from idstore.testing import IdentityStoreMock
from tests.auth.conftest import Keys
from tests.conftest import fuzz_settings

MANY = fuzz_settings(400)

TOKEN = "!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyz-"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

header_names = st.text(TOKEN, min_size=1, max_size=12).filter(lambda n: n != "host")
# Header values as HTTP carries them: no CR or LF; spaces and tabs anywhere.
header_values = st.text(
    st.sampled_from([" ", "\t", *map(chr, range(0x21, 0x7F)), "é", "\xa0"]), max_size=40
)
segments = st.sampled_from(["", ".", ".."]) | st.text(UNRESERVED, min_size=1, max_size=8)
paths = st.lists(segments, max_size=5).map(lambda parts: "/" + "/".join(parts))
query_parts = st.text(UNRESERVED + "%", max_size=8)
queries = st.lists(st.tuples(query_parts, st.one_of(st.none(), query_parts)), max_size=4).map(
    lambda pairs: "&".join(k if v is None else f"{k}={v}" for k, v in pairs)
)
stamps = st.sampled_from(["20240101T000000Z", "20261127T235959Z"])
regions = st.sampled_from(["us-east-1", "eu-west-3", "local"])


def _botocore(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    stamp: str,
) -> tuple[SigV4Auth, AWSRequest]:
    url = "http://idstore.example:8765" + path + (f"?{query}" if query else "")
    request = AWSRequest(method, url, headers=headers, data=body)
    request.context["timestamp"] = stamp
    return SigV4Auth(Credentials("IDSKEXAMPLE", "secret"), "identitystore", region), request


@given(
    method=st.sampled_from(["POST", "GET", "put"]),
    path=paths,
    query=queries,
    headers=st.dictionaries(header_names, header_values, max_size=6),
    body=st.binary(max_size=64),
    region=regions,
    stamp=stamps,
)
@MANY
def test_the_canonical_request_and_string_to_sign_are_botocores(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    stamp: str,
) -> None:
    signer, request = _botocore(method, path, query, headers, body, region, stamp)
    expected = signer.canonical_request(request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    received = wire.Request(
        method=method,
        path=path,
        headers={"host": "idstore.example:8765", **{k.lower(): v for k, v in headers.items()}},
        body=body,
        query=query,
    )
    signature = sigv4.Signature(
        "IDSKEXAMPLE", stamp[:8], region, tuple(signed.split(";")), "0" * 64, stamp, query, None
    )
    assert sigv4.canonical_request(received, signature) == expected
    assert sigv4.string_to_sign(received, signature) == signer.string_to_sign(request, expected)


@given(
    headers=st.dictionaries(
        header_names.filter(lambda n: not n.startswith("x-amz-") and n != "authorization"),
        header_values.map(str.strip).filter(bool),
        max_size=5,
    ),
    body=st.binary(max_size=200),
    region=regions,
)
@MANY
def test_whatever_botocore_signs_verifies(
    mock: IdentityStoreMock, keys: Keys, headers: dict[str, str], body: bytes, region: str
) -> None:
    pair = keys.make(None)
    request = AWSRequest(
        "POST",
        "http://idstore.example/",
        headers={**headers, "X-Amz-Target": "AWSIdentityStore.ListIdentityStores"},
        data=body,
    )
    SigV4Auth(Credentials(pair.access_key_id, pair.secret), "identitystore", region).add_auth(
        request
    )
    received = wire.Request(
        method="POST",
        path="/",
        headers={"host": "idstore.example", **{k.lower(): v for k, v in request.headers.items()}},
        body=body,
    )
    assert mock.gateway is not None
    response = mock.gateway.handle(received)  # authenticated: what follows is the body's fault
    assert response.headers.get("x-amzn-errortype") in (None, "SerializationException"), response

"""Small helpers for tests: build valid users and groups through a real client."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from idstore import wire
from tests.conftest import REGION, TEST_AUTH, TEST_KEY_IDS, TEST_SECRET


def user_params(store_id: str, name: str = "alice", **overrides: Any) -> dict[str, Any]:
    """CreateUser parameters that satisfy every rule; override or add members freely."""
    params: dict[str, Any] = {
        "IdentityStoreId": store_id,
        "UserName": name,
        "DisplayName": f"{name.title()} Example",
        "Name": {"GivenName": name.title(), "FamilyName": "Example"},
    }
    params.update(overrides)
    return params


def make_user(client: Any, store_id: str, name: str = "alice", **overrides: Any) -> str:
    """Create a valid user; return its UserId."""
    return str(client.create_user(**user_params(store_id, name, **overrides))["UserId"])


def make_group(client: Any, store_id: str, name: str = "Engineering", **overrides: Any) -> str:
    """Create a group; return its GroupId."""
    return str(
        client.create_group(IdentityStoreId=store_id, DisplayName=name, **overrides)["GroupId"]
    )


def error_of(excinfo: Any) -> dict[str, Any]:
    """The parsed error response of a `pytest.raises(ClientError)` block."""
    error = excinfo.value
    assert isinstance(error, ClientError)
    return error.response  # type: ignore[no-any-return]


# -- raw AWS JSON 1.1 on the wire ------------------------------------------------------------

JSON_1_1 = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSIdentityStore"


def target(operation: str) -> str:
    """The X-Amz-Target header value of an operation."""
    return f"{TARGET_PREFIX}.{operation}"


@dataclass(frozen=True)
class RawResponse:
    """One HTTP response as it came off the wire; header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str,
    body: bytes | Iterable[bytes] | None = b"",
    *,
    target: str | None = None,
    method: str = "POST",
    path: str = "/",
    content_type: str | None = JSON_1_1,
    headers: Mapping[str, str] | None = None,
    chunked: bool = False,
    timeout: float = 30,
) -> RawResponse:
    """One request over a fresh HTTP connection (stdlib `http.client`); the whole response.

    `body` may be an iterable of chunks with `chunked=True` (Transfer-Encoding: chunked).
    """
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    sent: dict[str, str] = {}
    if target is not None:
        sent["X-Amz-Target"] = target
    if content_type is not None:
        sent["Content-Type"] = content_type
    sent.update(headers or {})
    body = sign_for_suite(method, f"http://{parts.netloc}{path}", sent, body)
    try:
        conn.request(method, path, body=body, headers=sent, encode_chunked=chunked)
        response = conn.getresponse()
        data = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def sign_for_suite(
    method: str, url: str, headers: dict[str, str], body: bytes | Iterable[bytes] | None
) -> bytes | Iterable[bytes] | None:
    """In the suite's SigV4 pass (IDSTORE_TEST_AUTH=sigv4), add to `headers` a signature with
    the suite's key, unless they carry an Authorization of their own; return the body to send
    (chunks are gathered to be hashed). Otherwise leave everything as it is."""
    if TEST_AUTH != "sigv4" or any(k.lower() == "authorization" for k in headers):
        return body
    chunks = None if body is None or isinstance(body, bytes) else list(body)
    data = b"".join(chunks) if chunks is not None else body or b""
    request = AWSRequest(method, url, headers=headers, data=data)
    credentials = Credentials(TEST_KEY_IDS[0], TEST_SECRET)
    SigV4Auth(credentials, "identitystore", REGION).add_auth(request)
    headers.update({k: v for k, v in request.headers.items() if k.lower() not in {"host"}})
    return chunks if chunks is not None else body


def aws_call(url: str, operation: str, params: Any, **options: Any) -> RawResponse:
    """An AWS JSON 1.1 call: `params` sent as JSON to `operation`, over HTTP."""
    return raw_request(url, json.dumps(params).encode(), target=target(operation), **options)


def gateway_call(
    mock: Any,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    path: str = "/",
    client_ip: str | None = None,
) -> RawResponse:
    """One request through the in-process gateway (`mock.gateway.handle`), no socket."""
    sent = dict(headers or {})
    if TEST_AUTH == "sigv4":
        sent.setdefault("Host", "localhost")  # what an HTTP client would send, and sign
    sign_for_suite(method, f"http://localhost{path}", sent, body)
    response = mock.gateway.handle(
        wire.Request(
            method=method,
            path=path,
            headers={k.lower(): v for k, v in sent.items()},
            body=body,
            client_ip=client_ip,
        )
    )
    return RawResponse(
        response.status, {k.lower(): v for k, v in response.headers.items()}, response.body
    )


def is_uuid(text: str) -> bool:
    """True for a canonical (lower-case, hyphenated) UUID."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def check_aws_response(response: RawResponse) -> dict[str, Any]:
    """Assert what every AWS JSON 1.1 response must be (docs/behaviour.md#wire-protocol); return its
    JSON object.

    Never a 5xx; a JSON object body with `Content-Type: application/x-amz-json-1.1`; an
    `x-amzn-RequestId` UUID; errors are 400 with `__type`, `Message` and `RequestId` (equal to
    the header) and an `X-Amzn-ErrorType` header equal to `__type`; no stack trace anywhere.
    """
    shown = f"{response.status} {response.headers} {response.body[:500]!r}"
    assert response.status < 500, shown
    assert response.headers.get("content-type") == JSON_1_1, shown
    request_id = response.headers.get("x-amzn-requestid", "")
    assert is_uuid(request_id), shown
    body = json.loads(response.body)
    assert isinstance(body, dict), shown
    assert b"Traceback" not in response.body, shown
    if response.status == 200:
        assert "__type" not in body, shown
        assert "x-amzn-errortype" not in response.headers, shown
        return body
    assert response.status == 400, shown
    assert isinstance(body.get("__type"), str), shown
    assert body["__type"], shown
    assert isinstance(body.get("Message"), str), shown
    assert body.get("RequestId") == request_id, shown
    assert response.headers.get("x-amzn-errortype") == body["__type"], shown
    return body


def check_aws_error(response: RawResponse, error_type: str) -> dict[str, Any]:
    """`check_aws_response`, and the response is the error `error_type`; return its body."""
    body = check_aws_response(response)
    assert response.status == 400, f"expected {error_type}, got {response.status} {body}"
    assert body["__type"] == error_type, body
    return body


# -- added for the AWS conformance suite (tests/aws) ------------------------------------------

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def expect_error(code: str, call: Callable[..., Any], /, **params: Any) -> dict[str, Any]:
    """Call `call(**params)`, assert it fails with error `code`; return the parsed response."""
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    response = error_of(excinfo)
    assert response["Error"]["Code"] == code, response["Error"]
    return response


def unknown_id(store_id: str) -> str:
    """A well-formed user/group/membership id that exists nowhere."""
    return f"{store_id[2:12]}-{uuid.uuid4()}"


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """A response without botocore's `ResponseMetadata`."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def describe_user(client: Any, store_id: str, user_id: str, **params: Any) -> dict[str, Any]:
    return without_metadata(
        client.describe_user(IdentityStoreId=store_id, UserId=user_id, **params)
    )


def describe_group(client: Any, store_id: str, group_id: str) -> dict[str, Any]:
    return without_metadata(client.describe_group(IdentityStoreId=store_id, GroupId=group_id))


def make_membership(client: Any, store_id: str, group_id: str, user_id: str) -> str:
    """Add a user to a group; return the MembershipId."""
    return str(
        client.create_group_membership(
            IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id}
        )["MembershipId"]
    )


def user_names(client: Any, store_id: str) -> list[str]:
    """Every user name in the store, in listing order (all pages)."""
    pages = client.get_paginator("list_users").paginate(IdentityStoreId=store_id)
    return [u["UserName"] for page in pages for u in page["Users"]]


@contextmanager
def edited_request(
    client: Any, operation: str, edit: Callable[[dict[str, Any]], None]
) -> Iterator[None]:
    """While active, `edit` may change the serialised request (`body`, `headers`) of
    `operation` before it is signed and sent: a way to send what botocore never would."""

    def handler(params: dict[str, Any], **_: Any) -> None:
        edit(params)

    event = f"before-call.identitystore.{operation}"
    client.meta.events.register(event, handler)
    try:
        yield
    finally:
        client.meta.events.unregister(event, handler)


def body_edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    """An `edited_request` edit that replaces the JSON body by `change(body)` (bytes as is)."""

    def edit(params: dict[str, Any]) -> None:
        body = json.loads(params["body"] or b"{}")
        new = change(body)
        params["body"] = new if isinstance(new, bytes) else json.dumps(new).encode()

    return edit

"""AWS JSON 1.1 on the wire (docs/behaviour.md#wire-protocol): raw HTTP against a real server, and
botocore's view.

Requests are built with the stdlib `http.client` (`tests.helpers.raw_request`), so what is
checked is exactly what the server sent. `check_aws_response` asserts the invariants of every
response (never a 5xx, JSON body, Content-Type, a UUID `x-amzn-RequestId`, the error shape).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idstore.app import App
from idstore.config import Config
from idstore.store import open_store
from tests.conftest import RunningServer
from tests.helpers import (
    JSON_1_1,
    RawResponse,
    aws_call,
    check_aws_error,
    check_aws_response,
    is_uuid,
    make_group,
    make_membership,
    make_user,
    raw_request,
    target,
    unknown_id,
    user_params,
)

MIB = 1024 * 1024
TIMESTAMP_MEMBERS = ("CreatedAt", "UpdatedAt")
# A well-formed identity store id, for requests that fail before any store is looked at.
SOME_STORE = "d-0123456789"


@pytest.fixture(scope="module")
def stateless(db_url: str) -> Iterator[RunningServer]:
    """One server for this module's many malformed-input cases, which are refused before any
    data is read: starting a server per case would cost most of this module's run time."""
    import uvicorn

    store = open_store(db_url)
    app = App(store, Config())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    yield RunningServer(f"http://127.0.0.1:{port}", app, port)
    uv.should_exit = True
    thread.join(10)
    store.close()


# -- success responses -----------------------------------------------------------------------


def test_success_is_200_with_json_1_1_content_type(server: RunningServer, store_id: str) -> None:
    response = aws_call(server.url, "ListIdentityStores", {})
    body = check_aws_response(response)
    assert response.status == 200
    assert response.headers["content-type"] == JSON_1_1
    assert store_id in [s["IdentityStoreId"] for s in body["IdentityStores"]]


def test_request_id_is_a_fresh_uuid_on_every_response(server: RunningServer) -> None:
    responses = [aws_call(server.url, "ListIdentityStores", {}) for _ in range(5)]
    responses += [aws_call(server.url, "Nope", {}) for _ in range(5)]  # errors carry one too
    ids = [r.headers["x-amzn-requestid"] for r in responses]
    assert all(is_uuid(i) for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("resource", ["user", "group", "membership"])
def test_operations_without_output_return_an_empty_object(
    server: RunningServer, http_client: Any, store_id: str, resource: str
) -> None:
    user_id = make_user(http_client, store_id)
    group_id = make_group(http_client, store_id)
    membership_id = make_membership(http_client, store_id, group_id, user_id)
    operation, params = {
        "user": ("DeleteUser", {"UserId": user_id}),
        "group": ("DeleteGroup", {"GroupId": group_id}),
        "membership": ("DeleteGroupMembership", {"MembershipId": membership_id}),
    }[resource]
    response = aws_call(server.url, operation, {"IdentityStoreId": store_id, **params})
    assert check_aws_response(response) == {}
    assert response.status == 200
    assert response.body.strip() == b"{}"


def _raw_timestamps(body: bytes) -> list[bytes]:
    return re.findall(rb'"(?:CreatedAt|UpdatedAt)":([^,}\]]*)', body)


@pytest.mark.parametrize(
    "operation", ["DescribeUser", "ListUsers", "DescribeGroup", "DescribeGroupMembership"]
)
def test_timestamps_are_epoch_seconds_as_json_numbers_with_ms_precision(
    server: RunningServer, http_client: Any, store_id: str, operation: str
) -> None:
    before = time.time()
    user_id = make_user(http_client, store_id)
    group_id = make_group(http_client, store_id)
    membership_id = make_membership(http_client, store_id, group_id, user_id)
    after = time.time()
    params = {
        "DescribeUser": {"UserId": user_id},
        "ListUsers": {},
        "DescribeGroup": {"GroupId": group_id},
        "DescribeGroupMembership": {"MembershipId": membership_id},
    }[operation]
    response = aws_call(server.url, operation, {"IdentityStoreId": store_id, **params})
    body = check_aws_response(response)
    assert response.status == 200

    # In the raw text: a bare JSON number with at most three decimals, never a string.
    raw = _raw_timestamps(response.body)
    assert len(raw) >= 2
    for text in raw:
        assert re.fullmatch(rb"\d{10}(\.\d{1,3})?", text), text

    item = body["Users"][0] if operation == "ListUsers" else body
    for member in TIMESTAMP_MEMBERS:
        value = item[member]
        assert type(value) in (int, float), value
        assert round(value, 3) == value
        assert before - 1 <= value <= after + 1


# -- error responses -------------------------------------------------------------------------


def test_resource_not_found_carries_resource_type_and_id(
    server: RunningServer, store_id: str
) -> None:
    user_id = unknown_id(store_id)
    response = aws_call(
        server.url, "DescribeUser", {"IdentityStoreId": store_id, "UserId": user_id}
    )
    body = check_aws_error(response, "ResourceNotFoundException")
    assert set(body) == {"__type", "Message", "ResourceType", "ResourceId", "RequestId"}
    assert body["ResourceType"] == "USER"
    assert body["ResourceId"] == user_id
    assert body["Message"]
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert body["RequestId"] == response.headers["x-amzn-requestid"]
    assert response.headers["content-type"] == JSON_1_1


@pytest.mark.parametrize(
    ("operation", "member", "resource_type"),
    [("DescribeGroup", "GroupId", "GROUP"), ("DescribeGroupMembership", "MembershipId", None)],
)
def test_resource_not_found_for_groups_and_memberships(
    server: RunningServer, store_id: str, operation: str, member: str, resource_type: str | None
) -> None:
    missing = unknown_id(store_id)
    response = aws_call(server.url, operation, {"IdentityStoreId": store_id, member: missing})
    body = check_aws_error(response, "ResourceNotFoundException")
    assert body["ResourceType"] == (resource_type or "GROUP_MEMBERSHIP")
    assert body["ResourceId"] == missing


def test_unknown_identity_store_is_resource_not_found(server: RunningServer) -> None:
    response = aws_call(server.url, "DescribeIdentityStore", {"IdentityStoreId": "d-0000000000"})
    body = check_aws_error(response, "ResourceNotFoundException")
    assert body["ResourceType"] == "IDENTITY_STORE"
    assert body["ResourceId"] == "d-0000000000"


def test_conflict_carries_reason(server: RunningServer, store_id: str) -> None:
    params = {"IdentityStoreId": store_id, "DisplayName": "Engineering"}
    assert aws_call(server.url, "CreateGroup", params).status == 200
    response = aws_call(server.url, "CreateGroup", {**params, "DisplayName": "ENGINEERING"})
    body = check_aws_error(response, "ConflictException")
    assert set(body) == {"__type", "Message", "Reason", "RequestId"}
    assert body["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    assert response.headers["x-amzn-errortype"] == "ConflictException"


def test_revision_conflict_carries_reason(
    server: RunningServer, http_client: Any, store_id: str
) -> None:
    user_id = make_user(http_client, store_id)
    response = aws_call(
        server.url,
        "DeleteUser",
        {"IdentityStoreId": store_id, "UserId": user_id, "Revision": "999"},
    )
    assert check_aws_error(response, "ConflictException")["Reason"] == "CONCURRENT_MODIFICATION"


def test_validation_error_shape_and_message(server: RunningServer, store_id: str) -> None:
    response = aws_call(server.url, "CreateUser", user_params(store_id, "a" * 129))
    body = check_aws_error(response, "ValidationException")
    assert set(body) == {"__type", "Message", "RequestId"}
    assert body["Message"] == (
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )


# -- protocol errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target_header"),
    [
        ("POST", "AWSIdentityStore.Nope"),
        ("POST", "Foo.ListUsers"),
        ("POST", "AWSIdentityStoreX.ListIdentityStores"),
        ("POST", "ListIdentityStores"),
        ("POST", "AWSIdentityStore"),
        ("POST", "AWSIdentityStore."),
        ("POST", ".ListIdentityStores"),
        ("POST", "AWSIdentityStore.ListIdentityStores.Extra"),
        ("POST", "AWSIdentityStore.ListIdentityStores "),
        ("POST", None),
        ("POST", ""),
        ("GET", None),
        ("GET", "AWSIdentityStore.ListIdentityStores"),
        ("PUT", "AWSIdentityStore.ListIdentityStores"),
        ("DELETE", "AWSIdentityStore.ListIdentityStores"),
    ],
)
def test_unknown_operation(
    stateless: RunningServer, method: str, target_header: str | None
) -> None:
    body = b"" if method in ("GET", "DELETE") else b"{}"
    response = raw_request(stateless.url, body, target=target_header, method=method)
    check_aws_error(response, "UnknownOperationException")


def test_get_root_is_unknown_operation(stateless: RunningServer) -> None:
    response = raw_request(stateless.url, None, method="GET", content_type=None)
    check_aws_error(response, "UnknownOperationException")


def test_target_header_name_is_case_insensitive(server: RunningServer) -> None:
    response = raw_request(
        server.url, b"{}", headers={"x-amz-TARGET": target("ListIdentityStores")}
    )
    assert "IdentityStores" in check_aws_response(response)
    assert response.status == 200


NOT_A_JSON_OBJECT = {
    "text": b"not json",
    "open-brace": b"{",
    "truncated": b'{"MaxResults": 5',
    "truncated-string": b'{"IdentityStoreId": "d-12',
    "missing-value": b'{"MaxResults": }',
    "trailing-comma": b'{"MaxResults": 5,}',
    "single-quotes": b"{'MaxResults': 5}",
    "trailing-data": b"{}{}",
    "trailing-garbage": b"{} x",
    "array": b"[]",
    "array-of-object": b"[{}]",
    "string": b'"ListIdentityStores"',
    "number": b"5",
    "float": b"1.5",
    "null": b"null",
    "true": b"true",
    "nan-body": b"NaN",
    "nan-member": b'{"MaxResults": NaN}',
    "infinity-member": b'{"MaxResults": Infinity}',
    "minus-infinity-member": b'{"MaxResults": -Infinity}',
    "invalid-utf8": b"\xff\xfe\xfd",
    "invalid-utf8-in-string": b'{"NextToken": "\xc3\x28"}',
    "invalid-utf8-continuation": b'{"NextToken": "\x80abc"}',
    "nul-byte": b"\x00",
    "utf16": '{"MaxResults": 5}'.encode("utf-16"),
    "deep-arrays": b"[" * 100_000,
    "deep-arrays-closed": b'{"Unknown":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep-objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}


@pytest.mark.parametrize("body", NOT_A_JSON_OBJECT.values(), ids=NOT_A_JSON_OBJECT.keys())
def test_body_that_is_not_a_json_object_is_serialization_exception(
    stateless: RunningServer, body: bytes
) -> None:
    response = raw_request(stateless.url, body, target=target("ListIdentityStores"))
    check_aws_error(response, "SerializationException")


WRONG_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "UserName-number": ("CreateUser", {"UserName": 123}),
    "UserName-bool": ("CreateUser", {"UserName": True}),
    "UserName-object": ("CreateUser", {"UserName": {"v": "x"}}),
    "Name-string": ("CreateUser", {"Name": "Alice Example"}),
    "Emails-string": ("CreateUser", {"Emails": "x"}),
    "Emails-object": ("CreateUser", {"Emails": {"Value": "a@example.com"}}),
    "Emails-item-string": ("CreateUser", {"Emails": ["a@example.com"]}),
    "Emails-Value-number": ("CreateUser", {"Emails": [{"Value": 5}]}),
    "Emails-Primary-string": ("CreateUser", {"Emails": [{"Value": "a@x.com", "Primary": "true"}]}),
    "IdentityStoreId-number": ("CreateUser", {"IdentityStoreId": 123}),
    "IdentityStoreId-array": ("CreateUser", {"IdentityStoreId": ["d-0000000000"]}),
}
WRONG_TYPES_LIST: dict[str, tuple[str, dict[str, Any]]] = {
    "MaxResults-string": ("ListUsers", {"MaxResults": "5"}),
    "MaxResults-true": ("ListUsers", {"MaxResults": True}),
    "MaxResults-fraction": ("ListUsers", {"MaxResults": 1.5}),
    "MaxResults-array": ("ListUsers", {"MaxResults": [5]}),
    "ListIdentityStores-MaxResults-string": ("ListIdentityStores", {"MaxResults": "5"}),
    "ListIdentityStores-MaxResults-false": ("ListIdentityStores", {"MaxResults": False}),
    "NextToken-number": ("ListUsers", {"NextToken": 1}),
    "Filters-object": ("ListUsers", {"Filters": {"AttributePath": "UserName"}}),
    "Filters-path-number": ("ListUsers", {"Filters": [{"AttributePath": 1}]}),
    "GroupIds-string": ("IsMemberInGroups", {"GroupIds": "g", "MemberId": {"UserId": "u"}}),
    "MemberId-string": ("IsMemberInGroups", {"GroupIds": ["g"], "MemberId": "u"}),
    "Operations-object": ("UpdateGroup", {"GroupId": "g", "Operations": {}}),
    "Operations-item-array": ("UpdateGroup", {"GroupId": "g", "Operations": [[]]}),
    "AlternateIdentifier-string": ("GetGroupId", {"AlternateIdentifier": "Engineering"}),
    "VpceAccessRequired-string": (
        "UpdateIdentityStore",
        {"NetworkConfiguration": {"VpceAccessRequired": "false"}},
    ),
}


@pytest.mark.parametrize(
    ("operation", "members"),
    [*WRONG_TYPES.values(), *WRONG_TYPES_LIST.values()],
    ids=[*WRONG_TYPES, *WRONG_TYPES_LIST],
)
def test_member_of_the_wrong_json_type_is_serialization_exception(
    stateless: RunningServer, operation: str, members: dict[str, Any]
) -> None:
    params: dict[str, Any] = (
        user_params(SOME_STORE) if operation == "CreateUser" else {"IdentityStoreId": SOME_STORE}
    )
    params.update(members)
    response = aws_call(stateless.url, operation, params)
    check_aws_error(response, "SerializationException")


def _padded(size: int) -> bytes:
    """A valid ListIdentityStores body of exactly `size` bytes (padded by an unknown member)."""
    head, tail = b'{"MaxResults":1,"Pad":"', b'"}'
    body = head + b"x" * (size - len(head) - len(tail)) + tail
    assert len(body) == size
    return body


def test_body_of_exactly_the_limit_is_accepted(server: RunningServer, store_id: str) -> None:
    response = raw_request(server.url, _padded(MIB), target=target("ListIdentityStores"))
    assert len(check_aws_response(response)["IdentityStores"]) == 1
    assert response.status == 200


@pytest.mark.parametrize("size", [MIB + 1, 2 * MIB])
def test_body_over_the_limit_is_validation_exception(stateless: RunningServer, size: int) -> None:
    response = raw_request(stateless.url, _padded(size), target=target("ListIdentityStores"))
    body = check_aws_error(response, "ValidationException")
    assert str(MIB) in body["Message"]


def test_oversized_body_is_refused_before_parsing(stateless: RunningServer) -> None:
    response = raw_request(stateless.url, b"\xff" * (MIB + 10), target=target("ListIdentityStores"))
    check_aws_error(response, "ValidationException")


def test_empty_body_means_an_empty_object(server: RunningServer, store_id: str) -> None:
    response = raw_request(server.url, b"", target=target("ListIdentityStores"))
    body = check_aws_response(response)
    assert response.status == 200
    assert store_id in [s["IdentityStoreId"] for s in body["IdentityStores"]]
    # ... so an operation with required members reports them missing.
    missing = raw_request(server.url, b"", target=target("ListUsers"))
    message = check_aws_error(missing, "ValidationException")["Message"]
    assert "'identityStoreId'" in message


def test_application_json_content_type_is_accepted(server: RunningServer, store_id: str) -> None:
    response = aws_call(
        server.url, "ListUsers", {"IdentityStoreId": store_id}, content_type="application/json"
    )
    assert check_aws_response(response) == {"Users": []}
    assert response.status == 200
    assert response.headers["content-type"] == JSON_1_1


def test_unknown_members_are_ignored(server: RunningServer, store_id: str) -> None:
    listing = aws_call(
        server.url,
        "ListIdentityStores",
        {"MaxResults": 1, "Unknown": {"Nested": [1, "two", None, {"x": True}]}},
    )
    assert len(check_aws_response(listing)["IdentityStores"]) == 1

    params = user_params(store_id, SomethingNew="x")
    params["Name"] = {**params["Name"], "Unknown": "y"}
    params["Emails"] = [{"Value": "alice@example.com", "Primary": True, "Unknown": 1}]
    created = check_aws_response(aws_call(server.url, "CreateUser", params))
    described = check_aws_response(
        aws_call(
            server.url,
            "DescribeUser",
            {"IdentityStoreId": store_id, "UserId": created["UserId"]},
        )
    )
    assert "SomethingNew" not in described
    assert described["Name"] == {"GivenName": "Alice", "FamilyName": "Example"}
    assert described["Emails"] == [{"Value": "alice@example.com", "Primary": True}]


def test_null_members_mean_absent(server: RunningServer, store_id: str) -> None:
    response = aws_call(
        server.url,
        "ListUsers",
        {"IdentityStoreId": store_id, "MaxResults": None, "NextToken": None},
    )
    assert check_aws_response(response) == {"Users": []}


@pytest.mark.parametrize(
    ("operation", "path"),
    [("GetUserId", "userName"), ("GetUserId", "emails.value"), ("GetGroupId", "displayName")],
)
@pytest.mark.parametrize(
    "value", ["a\u0000b", "\u0000", "a\u0001\u001f"], ids=["nul-inside", "nul", "controls"]
)
def test_control_characters_in_lookup_values_are_client_errors(
    server: RunningServer, store_id: str, operation: str, path: str, value: str
) -> None:
    """UniqueAttribute.AttributeValue is a document member: no pattern guards it on the way in,
    yet no user name, e-mail or group name can hold NUL or these controls, so nothing matches."""
    unique = {"AttributePath": path, "AttributeValue": value}
    response = aws_call(
        server.url,
        operation,
        {"IdentityStoreId": store_id, "AlternateIdentifier": {"UniqueAttribute": unique}},
    )
    body = check_aws_response(response)
    assert body["__type"] in ("ResourceNotFoundException", "ValidationException")


@pytest.mark.parametrize(
    "operations",
    [
        [{"AttributePath": "nickName", "AttributeValue": "a\u0000"}],
        [{"AttributePath": "name.givenName", "AttributeValue": "\u0000"}],
        [{"AttributePath": "aws:identitystore:enterprise.costCenter", "AttributeValue": "\u0000"}],
        [{"AttributePath": "emails", "AttributeValue": [{"Value": "a\u0000@example.com"}]}],
    ],
)
def test_control_characters_in_update_values_are_validation_errors(
    server: RunningServer, http_client: Any, store_id: str, operations: list[dict[str, Any]]
) -> None:
    user_id = make_user(http_client, store_id)
    response = aws_call(
        server.url,
        "UpdateUser",
        {"IdentityStoreId": store_id, "UserId": user_id, "Operations": operations},
    )
    check_aws_error(response, "ValidationException")


def test_health(server: RunningServer) -> None:
    response = raw_request(server.url, None, method="GET", path="/health", content_type=None)
    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}


# -- botocore's view of the same responses ---------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One response as the server sent it, and as botocore parsed it."""

    raw: RawResponse
    parsed: dict[str, Any]


@pytest.fixture
def exchanges(http_client: Any) -> Iterator[list[Exchange]]:
    """Every response `http_client` receives from now on, raw and parsed."""
    seen: list[Exchange] = []

    def record(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        headers = {k.lower(): v for k, v in http_response.headers.items()}
        raw = RawResponse(http_response.status_code, headers, http_response.content)
        seen.append(Exchange(raw, parsed))

    http_client.meta.events.register("after-call.identitystore", record)
    yield seen
    http_client.meta.events.unregister("after-call.identitystore", record)


def assert_same(parsed: Any, raw: Any, where: str = "") -> None:
    """botocore's parsed value equals the raw JSON value (timestamps as datetimes)."""
    if isinstance(parsed, datetime):
        assert type(raw) in (int, float), where
        assert parsed.tzinfo is not None, where
        assert abs(parsed.timestamp() - raw) < 0.0005, where
    elif isinstance(raw, dict):
        assert isinstance(parsed, dict), where
        assert set(parsed) == set(raw), where
        for key, value in raw.items():
            assert_same(parsed[key], value, f"{where}.{key}")
    elif isinstance(raw, list):
        assert isinstance(parsed, list), where
        assert len(parsed) == len(raw), where
        for i, (p, r) in enumerate(zip(parsed, raw, strict=True)):
            assert_same(p, r, f"{where}[{i}]")
    else:
        assert parsed == raw, where
        assert type(parsed) is type(raw), where


def only(exchanges: list[Exchange]) -> tuple[Exchange, dict[str, Any]]:
    """The one recorded exchange; its parsed output without ResponseMetadata."""
    assert len(exchanges) == 1
    exchange = exchanges.pop()
    parsed = dict(exchange.parsed)
    metadata = parsed.pop("ResponseMetadata")
    assert metadata["HTTPStatusCode"] == exchange.raw.status
    assert metadata["RequestId"] == exchange.raw.headers["x-amzn-requestid"]
    return exchange, parsed


def test_botocore_parses_a_full_user_as_sent(
    http_client: Any, store_id: str, exchanges: list[Exchange]
) -> None:
    user_id = make_user(
        http_client,
        store_id,
        Emails=[{"Value": "alice@example.com", "Type": "work", "Primary": True}],
        Addresses=[{"StreetAddress": "1 Main St", "Locality": "Springfield", "Primary": True}],
        PhoneNumbers=[{"Value": "+1 555 0100", "Type": "work"}],
        Title="Engineer",
        Locale="en-US",
        Timezone="Europe/Berlin",
    )
    exchanges.clear()
    user = http_client.describe_user(IdentityStoreId=store_id, UserId=user_id)
    exchange, parsed = only(exchanges)
    assert parsed == {k: v for k, v in user.items() if k != "ResponseMetadata"}
    raw = check_aws_response(exchange.raw)
    assert_same(parsed, raw)
    assert raw["Emails"] == [{"Value": "alice@example.com", "Type": "work", "Primary": True}]
    assert isinstance(parsed["CreatedAt"], datetime)


def test_botocore_parses_lists_and_memberships_as_sent(
    http_client: Any, store_id: str, exchanges: list[Exchange]
) -> None:
    user_id = make_user(http_client, store_id)
    group_id = make_group(http_client, store_id)
    make_membership(http_client, store_id, group_id, user_id)
    exchanges.clear()
    for call in (
        lambda: http_client.list_users(IdentityStoreId=store_id),
        lambda: http_client.list_groups(IdentityStoreId=store_id),
        lambda: http_client.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id),
        lambda: http_client.is_member_in_groups(
            IdentityStoreId=store_id, MemberId={"UserId": user_id}, GroupIds=[group_id]
        ),
        lambda: http_client.list_identity_stores(),
    ):
        call()
        exchange, parsed = only(exchanges)
        assert exchange.raw.status == 200
        assert_same(parsed, check_aws_response(exchange.raw))


def test_botocore_parses_an_empty_output(
    http_client: Any, store_id: str, exchanges: list[Exchange]
) -> None:
    user_id = make_user(http_client, store_id)
    exchanges.clear()
    http_client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    exchange, parsed = only(exchanges)
    assert parsed == {}
    assert check_aws_response(exchange.raw) == {}


def test_botocore_parses_errors_as_sent(
    http_client: Any, store_id: str, exchanges: list[Exchange]
) -> None:
    missing = unknown_id(store_id)
    with pytest.raises(ClientError) as excinfo:
        http_client.describe_user(IdentityStoreId=store_id, UserId=missing)
    assert isinstance(excinfo.value, http_client.exceptions.ResourceNotFoundException)
    exchange, _ = only(exchanges)
    raw = check_aws_error(exchange.raw, "ResourceNotFoundException")
    response = excinfo.value.response
    assert response["Error"]["Code"] == raw["__type"]
    assert response["Error"]["Message"] == raw["Message"]
    assert response["ResourceType"] == raw["ResourceType"] == "USER"
    assert response["ResourceId"] == raw["ResourceId"] == missing
    assert response["ResponseMetadata"]["RequestId"] == raw["RequestId"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400

    make_group(http_client, store_id)
    with pytest.raises(http_client.exceptions.ConflictException) as conflict:
        make_group(http_client, store_id)
    exchange, _ = only(exchanges[-1:])
    raw = check_aws_error(exchange.raw, "ConflictException")
    assert conflict.value.response["Reason"] == raw["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"

    with pytest.raises(http_client.exceptions.ValidationException) as invalid:
        http_client.list_users(IdentityStoreId=store_id, MaxResults=101)
    assert invalid.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )

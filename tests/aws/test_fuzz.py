"""Property tests: no request, however malformed, gets a 5xx or a malformed answer
(docs/behaviour.md#wire-protocol).

Most properties call the gateway in-process (`mock.gateway.handle`), which is the code path the
HTTP server runs, so they can afford a few hundred examples; two run over real HTTP with fewer.
Every response is checked by `check_aws_response`: never >= 500, a JSON object body with the
JSON 1.1 content type, an `x-amzn-RequestId` UUID, and on errors `__type`, `Message`,
`RequestId` and the `X-Amzn-ErrorType` header. Errors must also be ones the operation can
report: its modelled errors (InternalServerException aside) or a protocol error.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import event, given
from hypothesis import strategies as st

from idstore.aws.spec import load_spec
from idstore.testing import IdentityStoreMock
from tests.conftest import RunningServer, fuzz_settings
from tests.helpers import (
    JSON_1_1,
    RawResponse,
    check_aws_error,
    check_aws_response,
    gateway_call,
    make_group,
    make_membership,
    make_user,
    raw_request,
    target,
    user_params,
)
from tests.strategies import odd_text

SPEC = load_spec()
OPERATIONS = sorted(SPEC.operation_names)
PROTOCOL_ERRORS = frozenset({"SerializationException"})

FAST = fuzz_settings(100)
OVER_HTTP = fuzz_settings(25)

# -- strategies ------------------------------------------------------------------------------

# What an HTTP/1.1 header value may hold (RFC 9110 field-content: VCHAR, obs-text, SP, HTAB).
HEADER_CHARS = "\t" + "".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0x80, 0x100)))
header_text = st.text(st.sampled_from(HEADER_CHARS), max_size=80)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)

# Known attribute paths of UpdateUser/UpdateGroup, filters and unique attributes, good and bad.
ATTRIBUTE_PATHS = [
    "userName",
    "UserName",
    "displayName",
    "DisplayName",
    "nickName",
    "title",
    "name",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    "Emails.Value",
    "addresses",
    "phoneNumbers",
    "photos",
    "roles",
    "website",
    "birthdate",
    "description",
    "userId",
    "externalIds",
    "userStatus",
    "aws:identitystore:enterprise",
    "aws:identitystore:enterprise.costCenter",
    "aws:identitystore:enterprise.manager",
    "aws:identitystore:enterprise.manager.value",
    "aws:identitystore:other.x",
]


def _encode(value: Any, ascii_only: bool) -> bytes:
    # Lone surrogates become invalid UTF-8 when not escaped: one more kind of bad body.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _regex(pattern: str) -> st.SearchStrategy[str] | None:
    try:
        re.compile(pattern)
    except re.error:  # the model's \p{L} classes: the stdlib cannot generate from them
        return None
    return st.from_regex(pattern, fullmatch=True)


plausible_text = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=20)
# Letters with control characters (NUL included) among them.
control_text = st.text(st.characters(max_codepoint=0x1F) | st.sampled_from("ab"), min_size=1)


class World:
    """Builds requests shaped like the model, over the values of the store under test.

    `wild` values have the right JSON types but arbitrary content (most fail validation);
    plausible ones (`wild=False`) mostly satisfy the model, so they reach the operations and
    the database: ids of existing resources, enum values, strings from the model's patterns,
    sizes within bounds, exactly one member of a union.
    """

    def __init__(self, store_id: str, ids: list[str]) -> None:
        self.store_id = store_id
        self.ids = ids

    def shaped(self, shape: Shape, wild: bool, name: str = "") -> st.SearchStrategy[Any]:
        kind = shape.type_name
        if kind == "structure":
            if shape.metadata.get("document"):
                return plausible_text | control_text | json_values
            return self._structure(shape, wild)
        if isinstance(shape, ListShape):
            item = name[:-1] if name.endswith("s") else name  # GroupIds → GroupId
            low = 0 if wild else shape.metadata.get("min", 0)
            high = 4 if wild else min(shape.metadata.get("max", 3), 3)
            return st.lists(self.shaped(shape.member, wild, item), min_size=low, max_size=high)
        if isinstance(shape, MapShape):
            return st.dictionaries(
                self.shaped(shape.key, wild, name), self.shaped(shape.value, wild, name), max_size=3
            )
        if kind == "string":
            return self._string(shape, wild, name)
        if kind in ("integer", "long"):
            low = shape.metadata.get("min", 0)
            high = shape.metadata.get("max", 1000)
            return (
                st.integers(low - 3, high + 3) | st.integers() if wild else st.integers(low, high)
            )
        assert kind == "boolean", kind
        return st.booleans()

    def _structure(self, shape: Shape, wild: bool) -> st.SearchStrategy[dict[str, Any]]:
        assert isinstance(shape, StructureShape)
        members = {n: self.shaped(m, wild, n) for n, m in shape.members.items()}
        anything = st.fixed_dictionaries({}, optional=members)
        if shape.metadata.get("union"):
            one = st.one_of([st.fixed_dictionaries({n: s}) for n, s in members.items()])
            return one | anything if wild else one
        required = {n: s for n, s in members.items() if n in shape.required_members}
        optional = {n: s for n, s in members.items() if n not in required}
        complete = st.fixed_dictionaries(required, optional=optional)
        return complete | anything if wild else complete

    def _string(self, shape: Shape, wild: bool, name: str) -> st.SearchStrategy[str]:
        options: list[st.SearchStrategy[str]] = []
        if name == "IdentityStoreId":
            arn = f"arn:aws:identitystore::000000000000:identitystore/{self.store_id}"
            options += [st.just(self.store_id), st.just(arn)]
        elif name in ("UserId", "GroupId", "MembershipId"):
            options.append(st.sampled_from(self.ids))
        elif name == "AttributePath":
            options.append(st.sampled_from(ATTRIBUTE_PATHS))
        enum = shape.metadata.get("enum")
        if enum:
            options.append(st.sampled_from(enum))
        pattern = shape.metadata.get("pattern")
        generated = _regex(pattern) if pattern and not options else None
        if generated is not None:
            options.append(generated)
        if not options:
            low = shape.metadata.get("min", 1)
            high = max(low, min(shape.metadata.get("max", 20), 20))
            options.append(
                st.text(st.characters(categories=("L", "N")), min_size=low, max_size=high)
            )
        if wild:  # odd text: NUL, control characters, lone surrogates, ...
            options += [st.text(max_size=30), plausible_text, odd_text]
        return st.one_of(options)


@pytest.fixture
def world(client: Any, store_id: str) -> World:
    """A store with a user, a group and a membership for shaped requests to find."""
    user_id = make_user(client, store_id, Emails=[{"Value": "alice@example.com"}])
    group_id = make_group(client, store_id)
    membership_id = make_membership(client, store_id, group_id, user_id)
    return World(store_id, [user_id, group_id, membership_id])


# -- checks ----------------------------------------------------------------------------------


def allowed_errors(operation: str) -> frozenset[str]:
    """The error codes `operation` may answer with: modelled (but no 5xx) or protocol."""
    modelled = {e.name for e in SPEC.operation(operation).error_shapes}
    return frozenset(modelled - {"InternalServerException"}) | PROTOCOL_ERRORS


def check_answer(response: RawResponse, operation: str) -> dict[str, Any]:
    """The invariants of every response to a well-targeted request of `operation`."""
    body = check_aws_response(response)
    if response.status == 200:
        output = SPEC.operation(operation).output_shape
        assert output is not None
        assert set(body) <= set(output.members), body
    else:
        assert body["__type"] in allowed_errors(operation), body
    return body


def post(mock: IdentityStoreMock, operation: str, body: bytes, **headers: str) -> RawResponse:
    sent = {"X-Amz-Target": target(operation), "Content-Type": JSON_1_1, **headers}
    return gateway_call(mock, body, headers=sent)


# -- in-process properties -------------------------------------------------------------------


def test_fuzzed_operations_are_the_served_ones(mock: IdentityStoreMock) -> None:
    assert mock.gateway is not None
    assert set(OPERATIONS) == set(mock.gateway.spec.operation_names)
    assert len(OPERATIONS) == 22


@FAST
@given(operation=st.sampled_from(OPERATIONS), body=st.binary(max_size=512))
def test_arbitrary_bytes(mock: IdentityStoreMock, operation: str, body: bytes) -> None:
    response = post(mock, operation, body)
    check_answer(response, operation)
    try:
        value = json.loads(body.decode("utf-8"))
    except ValueError:  # not UTF-8, or not JSON even by the lenient stdlib parser
        if body.strip():
            check_aws_error(response, "SerializationException")
        return
    if not isinstance(value, dict):
        check_aws_error(response, "SerializationException")


@FAST
@given(
    operation=st.sampled_from(OPERATIONS),
    value=json_values,
    ascii_only=st.booleans(),
)
def test_arbitrary_json_for_every_operation(
    mock: IdentityStoreMock, operation: str, value: Any, ascii_only: bool
) -> None:
    response = post(mock, operation, _encode(value, ascii_only))
    check_answer(response, operation)
    if not isinstance(value, dict):
        check_aws_error(response, "SerializationException")


@FAST
@given(data=st.data(), operation=st.sampled_from(OPERATIONS))
def test_model_member_names_with_random_values(
    mock: IdentityStoreMock, store_id: str, data: st.DataObject, operation: str
) -> None:
    shape = SPEC.operation(operation).input_shape
    assert shape is not None
    names = data.draw(st.lists(st.sampled_from(list(shape.members)), unique=True))
    params = {name: data.draw(json_values, label=name) for name in names}
    if data.draw(st.booleans(), label="real store"):
        params["IdentityStoreId"] = store_id
    check_answer(post(mock, operation, _encode(params, ascii_only=False)), operation)


@FAST
@given(data=st.data(), operation=st.sampled_from(OPERATIONS))
def test_requests_shaped_like_the_model(
    mock: IdentityStoreMock, world: World, data: st.DataObject, operation: str
) -> None:
    """Right JSON types, random content: these get past parsing into validation and the store."""
    shape = SPEC.operation(operation).input_shape
    assert shape is not None
    params = data.draw(world.shaped(shape, wild=data.draw(st.booleans(), label="wild")))
    body = check_answer(post(mock, operation, _encode(params, ascii_only=False)), operation)
    event(f"{operation}: {body.get('__type', 'OK')}")


document_values = plausible_text | control_text | json_values


@FAST
@given(
    kind=st.sampled_from(["user", "group"]),
    path=st.sampled_from(["userName", "UserName", "emails.value", "displayName"])
    | st.sampled_from(ATTRIBUTE_PATHS)
    | st.text(max_size=20),
    value=document_values,
)
def test_lookup_values_take_any_json(
    mock: IdentityStoreMock, world: World, kind: str, path: str, value: Any
) -> None:
    """UniqueAttribute.AttributeValue is a document: free-form JSON, with no pattern on it."""
    operation = "GetUserId" if kind == "user" else "GetGroupId"
    params = {
        "IdentityStoreId": world.store_id,
        "AlternateIdentifier": {
            "UniqueAttribute": {"AttributePath": path, "AttributeValue": value}
        },
    }
    body = check_answer(post(mock, operation, _encode(params, ascii_only=False)), operation)
    event(f"{operation}: {body.get('__type', 'OK')}")


@FAST
@given(
    kind=st.sampled_from(["user", "group"]),
    operations=st.lists(
        st.fixed_dictionaries(
            {"AttributePath": st.sampled_from(ATTRIBUTE_PATHS) | st.text(max_size=20)},
            optional={"AttributeValue": document_values},
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_update_values_take_any_json_and_leave_a_readable_resource(
    mock: IdentityStoreMock, world: World, kind: str, operations: list[dict[str, Any]]
) -> None:
    """Whatever UpdateUser/UpdateGroup accept, the resource can still be read and listed."""
    user_id, group_id, _ = world.ids
    member, resource_id = ("UserId", user_id) if kind == "user" else ("GroupId", group_id)
    operation = "UpdateUser" if kind == "user" else "UpdateGroup"
    params = {"IdentityStoreId": world.store_id, member: resource_id, "Operations": operations}
    body = check_answer(post(mock, operation, _encode(params, ascii_only=False)), operation)
    event(f"{operation}: {body.get('__type', 'OK')}")
    if kind == "user":
        reads = [("DescribeUser", {member: resource_id}), ("ListUsers", {})]
    else:
        reads = [("DescribeGroup", {member: resource_id}), ("ListGroups", {})]
    for read, extra in reads:
        request = {"IdentityStoreId": world.store_id, **extra}
        response = post(mock, read, _encode(request, ascii_only=True))
        check_answer(response, read)
        assert response.status == 200, response.body


enterprise_documents = st.dictionaries(
    st.sampled_from(["costCenter", "Department", "employeeNumber", "manager", "other"])
    | st.text(max_size=10),
    plausible_text | document_values | st.fixed_dictionaries({"value": document_values}),
    max_size=3,
)
ENTERPRISE_KEYS = ["employeeNumber", "costCenter", "organization", "division", "department"]
plausible_extensions = st.fixed_dictionaries(
    {
        "aws:identitystore:enterprise": st.dictionaries(
            st.sampled_from(ENTERPRISE_KEYS), plausible_text | control_text, min_size=1
        )
        | st.fixed_dictionaries(
            {"manager": plausible_text | st.fixed_dictionaries({"value": document_values})}
        )
    }
)
extension_maps = plausible_extensions | st.dictionaries(
    st.sampled_from(["aws:identitystore:enterprise"] * 3 + ["aws:identitystore:other"])
    | st.text(max_size=30),
    enterprise_documents | document_values,
    max_size=2,
)


@FAST
@given(extensions=extension_maps)
def test_extension_documents_take_any_json(
    mock: IdentityStoreMock, store_id: str, extensions: dict[str, Any]
) -> None:
    """CreateUser's Extensions values are documents; what it accepts, DescribeUser returns."""
    params = user_params(store_id, f"u{uuid.uuid4().hex}", Extensions=extensions)
    body = check_answer(post(mock, "CreateUser", _encode(params, ascii_only=False)), "CreateUser")
    event(f"CreateUser: {body.get('__type', 'OK')}")
    if "UserId" in body:
        request = {
            "IdentityStoreId": store_id,
            "UserId": body["UserId"],
            "Extensions": ["aws:identitystore:enterprise"],
        }
        response = post(mock, "DescribeUser", _encode(request, ascii_only=False))
        check_answer(response, "DescribeUser")
        assert response.status == 200, response.body


auth_keys = st.text(
    st.sampled_from([c for c in HEADER_CHARS if not re.match(r"[/,\s]", c)]),
    min_size=1,
    max_size=30,
)


@FAST
@given(
    target_header=st.one_of(
        st.sampled_from([target(op) for op in OPERATIONS]),
        header_text,
        header_text.map(lambda t: f"AWSIdentityStore.{t}"),
    ),
    content_type=st.one_of(st.none(), st.sampled_from([JSON_1_1, "application/json"]), header_text),
    authorization=st.one_of(st.none(), header_text),
    amz_date=st.one_of(st.none(), header_text),
)
def test_arbitrary_header_values(
    mock: IdentityStoreMock,
    store_id: str,
    target_header: str,
    content_type: str | None,
    authorization: str | None,
    amz_date: str | None,
) -> None:
    headers = {"X-Amz-Target": target_header}
    for name, value in [
        ("Content-Type", content_type),
        ("Authorization", authorization),
        ("X-Amz-Date", amz_date),
    ]:
        if value is not None:
            headers[name] = value
    body = {"IdentityStoreId": store_id, "DisplayName": f"g-{uuid.uuid4()}"}
    response = gateway_call(mock, _encode(body, ascii_only=True), headers=headers)
    operation = target_header.removeprefix("AWSIdentityStore.")
    if target_header == target(operation) and operation in OPERATIONS:
        assert check_answer(response, operation).get("__type") != "UnknownOperationException"
    else:
        check_aws_error(response, "UnknownOperationException")


@FAST
@given(key=auth_keys, amz_date=st.one_of(st.none(), header_text))
def test_access_key_id_is_recorded_as_the_principal(
    mock: IdentityStoreMock, store_id: str, key: str, amz_date: str | None
) -> None:
    """Local mode attributes a request to the access key id its Authorization header names."""
    headers = {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={key}/20240101/us-east-1/identitystore/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
        ),
    }
    if amz_date is not None:
        headers["X-Amz-Date"] = amz_date
    body = {"IdentityStoreId": store_id, "DisplayName": f"g-{uuid.uuid4()}"}
    created = check_answer(
        post(mock, "CreateGroup", _encode(body, ascii_only=True), **headers), "CreateGroup"
    )
    described = check_answer(
        post(
            mock,
            "DescribeGroup",
            _encode({"IdentityStoreId": store_id, "GroupId": created["GroupId"]}, True),
        ),
        "DescribeGroup",
    )
    assert described["CreatedBy"] == f"arn:aws:iam::000000000000:user/{key}"
    assert described["UpdatedBy"] == described["CreatedBy"]


cidr_pattern = SPEC.shape("IpCidrType").metadata["pattern"]
cidrs = st.lists(st.from_regex(cidr_pattern, fullmatch=True), min_size=1, max_size=4)


@fuzz_settings(60)  # each example is a write of the store's configuration
@given(allowed=cidrs, caller=st.ip_addresses())
def test_source_ip_rules_never_fail(
    mock: IdentityStoreMock,
    store_id: str,
    allowed: list[str],
    caller: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """Any allow-list the model accepts is stored as given and enforced without a 5xx."""
    network = {"VpceAccessRequired": False, "ApiAllowSourceIps": allowed}
    update = {"IdentityStoreId": store_id, "NetworkConfiguration": network}
    check_answer(post(mock, "UpdateIdentityStore", _encode(update, True)), "UpdateIdentityStore")

    describe = _encode({"IdentityStoreId": store_id}, True)
    # In-process, with no client address: the rules do not apply.
    described = check_answer(post(mock, "DescribeIdentityStore", describe), "DescribeIdentityStore")
    assert described["NetworkConfiguration"] == network

    response = gateway_call(
        mock,
        describe,
        headers={"X-Amz-Target": target("DescribeIdentityStore")},
        client_ip=str(caller),
    )
    body = check_answer(response, "DescribeIdentityStore")
    permitted = any(caller in ipaddress.ip_network(c, strict=False) for c in allowed)
    if permitted:
        assert response.status == 200, body
    else:
        check_aws_error(response, "AccessDeniedException")


# -- over real HTTP --------------------------------------------------------------------------


@OVER_HTTP
@given(
    operation=st.sampled_from(OPERATIONS),
    body=st.one_of(st.binary(max_size=256), json_values.map(lambda v: _encode(v, False))),
)
def test_arbitrary_bodies_over_http(server: RunningServer, operation: str, body: bytes) -> None:
    check_answer(raw_request(server.url, body, target=target(operation)), operation)


@OVER_HTTP
@given(target_header=header_text, content_type=header_text, authorization=header_text)
def test_arbitrary_headers_over_http(
    server: RunningServer, target_header: str, content_type: str, authorization: str
) -> None:
    response = raw_request(
        server.url,
        b"{}",
        target=target_header,
        content_type=content_type,
        headers={"Authorization": authorization, "X-Amz-Date": authorization[::-1]},
    )
    body = check_aws_response(response)
    operation = target_header.strip(" \t").removeprefix("AWSIdentityStore.")
    if operation not in OPERATIONS:
        assert body["__type"] == "UnknownOperationException"

"""Model-driven fuzz of UpdateUser and UpdateGroup through a real boto3 client (in-process).

The attribute paths come from the botocore model: every settable member of CreateUserRequest /
CreateGroupRequest in lower camel case (the spelling AWS documents), each member of a
structure (`name.givenName`), the read-only members of User / Group, the enterprise extension
and its attributes, in several letter cases, and paths that are none of these. Each is given
a value of every JSON type: one shaped like the member, and wrong shapes for documents and
lists (a string for `name` or for the extension, an object for `emails`, a list of strings
for `addresses`, members of the wrong type) and odd text (NUL, lone surrogates, ...).

Properties, on every database: no 5xx; every error is one the operation models, parsed by
botocore as that typed exception with a message; an update is all or nothing (a refused one
leaves the resource exactly as it was, an accepted one adds one to its Revision); the resource
stays readable; and a top-level text member set by the request reads back as set.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import ListShape, Shape, StructureShape
from hypothesis import event, given
from hypothesis import strategies as st

from idstore.aws.spec import load_spec, lower_camel
from idstore.model import ENTERPRISE_ATTRIBUTES, ENTERPRISE_EXTENSION
from idstore.testing import IdentityStoreMock
from tests.conftest import REGION, TEST_KEY_IDS, TEST_SECRET, fuzz_settings
from tests.helpers import make_group, make_user, without_metadata
from tests.strategies import any_text, case_variants, json_values, odd_text, plausible_text

SPEC = load_spec()
_SKIP = {"IdentityStoreId", "Extensions"}


def _paths(request: str, resource: str) -> tuple[dict[str, Shape], list[str]]:
    """The updatable paths of a resource with their shapes, and its read-only paths."""
    members = {n: s for n, s in SPEC.structure(request).members.items() if n not in _SKIP}
    paths: dict[str, Shape] = {}
    for name, shape in members.items():
        paths[lower_camel(name)] = shape
        if isinstance(shape, StructureShape) and not shape.metadata.get("document"):
            for sub, sub_shape in shape.members.items():
                paths[f"{lower_camel(name)}.{lower_camel(sub)}"] = sub_shape
    read_only = [
        lower_camel(n)
        for n in SPEC.structure(resource).members
        if n not in members and n not in _SKIP
    ]
    return paths, read_only


USER_PATHS, USER_READ_ONLY = _paths("CreateUserRequest", "User")
GROUP_PATHS, GROUP_READ_ONLY = _paths("CreateGroupRequest", "Group")
EXTENSION_PATHS = [
    ENTERPRISE_EXTENSION,
    *(f"{ENTERPRISE_EXTENSION}.{a}" for a in ENTERPRISE_ATTRIBUTES),
    f"{ENTERPRISE_EXTENSION}.manager.value",
    f"{ENTERPRISE_EXTENSION}.nickName",
    f"{ENTERPRISE_EXTENSION}.costCenter.value",
    "aws:identitystore:other",
    "aws:identitystore:other.costCenter",
]
# Top-level text members: a value set for them must read back as set.
USER_TEXT = {
    lower_camel(n).lower(): n
    for n, s in SPEC.structure("CreateUserRequest").members.items()
    if s.type_name == "string" and n not in _SKIP
}
GROUP_TEXT = {
    lower_camel(n).lower(): n
    for n, s in SPEC.structure("CreateGroupRequest").members.items()
    if s.type_name == "string" and n not in _SKIP
}


def shaped(shape: Shape) -> st.SearchStrategy[Any]:
    """Values of the member's own shape (keys in the model's spelling or lower camel case),
    with plausible content: most pass validation."""
    if isinstance(shape, StructureShape):
        members = {
            key: shaped(s) for name, s in shape.members.items() for key in {name, lower_camel(name)}
        }
        return st.fixed_dictionaries({}, optional=members)
    if isinstance(shape, ListShape):
        return st.lists(shaped(shape.member), min_size=1, max_size=2)
    if shape.type_name == "boolean":
        return st.booleans()
    enum = shape.metadata.get("enum")
    return st.sampled_from(enum) if enum else plausible_text


def wrong_shapes(shape: Shape) -> st.SearchStrategy[Any]:
    """Values of the wrong JSON type for the member, at its top or one level down."""
    if isinstance(shape, StructureShape):
        inner = st.dictionaries(st.sampled_from(list(shape.members)), json_values, max_size=2)
        return st.lists(shaped(shape), min_size=1, max_size=2) | any_text | inner
    if isinstance(shape, ListShape):
        return shaped(shape.member) | st.lists(any_text | st.integers(), min_size=1, max_size=2)
    return st.lists(shaped(shape), max_size=2) | st.dictionaries(any_text, any_text, max_size=1)


def values_for(shape: Shape | None) -> st.SearchStrategy[Any]:
    """A value for a path: mostly shaped (so that requests also succeed and change what later
    ones meet), else wrong-shaped, odd text, or any JSON value."""
    if shape is None:
        return json_values | odd_text
    good = shaped(shape)
    return st.one_of(good, good, good, wrong_shapes(shape), odd_text, json_values)


ENTERPRISE_DOCUMENTS = st.dictionaries(
    st.sampled_from([*ENTERPRISE_ATTRIBUTES, "Department", "other"]),
    plausible_text | st.fixed_dictionaries({"value": plausible_text}) | json_values,
    max_size=3,
)


def _operation(paths: dict[str, Shape], read_only: list[str], kind: str) -> Any:
    known = [(p, s) for p, s in paths.items()]
    settable = st.sampled_from(known).flatmap(
        lambda ps: st.tuples(case_variants(ps[0]), values_for(ps[1]))
    )
    others = st.tuples(
        st.sampled_from(read_only) | st.sampled_from(["foo", "name.unknown", "emails.value"]),
        json_values,
    )
    options = [settable, settable, settable, others]
    if kind == "user":
        extension = st.tuples(
            st.sampled_from(EXTENSION_PATHS),
            ENTERPRISE_DOCUMENTS | plausible_text | json_values | odd_text,
        )
        options += [extension, extension]
    pair = st.one_of(options)
    return pair.flatmap(
        lambda pv: (
            st.sampled_from(
                [{"AttributePath": pv[0], "AttributeValue": pv[1]}, {"AttributePath": pv[0]}]
            )
            if pv[1] is None
            else st.just({"AttributePath": pv[0], "AttributeValue": pv[1]})
        )
    )


def _nested(paths: dict[str, Shape], containers: list[str]) -> Any:
    """A whole container (a structure, the extension) given any value, then one of its
    members: what a request does when it sets `name` and then `name.givenName`."""
    members = [p for p in [*paths, *EXTENSION_PATHS] if "." in p]

    def pair(container: str) -> Any:
        inside = [m for m in members if m.lower().startswith(container.lower() + ".")]
        whole = values_for(paths[container]) if container in paths else values_for(None)
        if container == ENTERPRISE_EXTENSION:
            whole = ENTERPRISE_DOCUMENTS | whole
        return st.tuples(
            st.fixed_dictionaries({"AttributePath": st.just(container), "AttributeValue": whole}),
            st.fixed_dictionaries(
                {"AttributePath": st.sampled_from(inside), "AttributeValue": values_for(None)}
            ),
        ).map(list)

    return st.sampled_from(containers).flatmap(pair)


_USER_LISTS = st.lists(_operation(USER_PATHS, USER_READ_ONLY, "user"), min_size=1, max_size=4)
USER_OPERATIONS = st.one_of(
    _USER_LISTS,
    _USER_LISTS,
    _nested(USER_PATHS, ["name", ENTERPRISE_EXTENSION, f"{ENTERPRISE_EXTENSION}.manager"]),
)
GROUP_OPERATIONS = st.lists(
    _operation(GROUP_PATHS, GROUP_READ_ONLY, "group"), min_size=1, max_size=3
)
REVISIONS = st.sampled_from([None] * 8 + ["current", "current", "0", "9" * 64, "01"])


@pytest.fixture
def boto(mock: IdentityStoreMock) -> Any:
    """A boto3 client that does not retry: a 5xx must show as itself, at once."""
    return boto3.client(
        "identitystore",
        region_name=REGION,
        aws_access_key_id=TEST_KEY_IDS[0],
        aws_secret_access_key=TEST_SECRET,
        config=Config(retries={"total_max_attempts": 1}),
    )


def check_client_error(client: Any, operation: str, error: ClientError) -> str:
    """A refused call: a modelled error of `operation`, below 500, typed by botocore."""
    code = error.response["Error"]["Code"]
    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status < 500, error.response
    modelled = {e.name for e in SPEC.operation(operation).error_shapes}
    assert code in modelled - {"InternalServerException"}, error.response
    assert type(error) is client.exceptions.from_code(code), (type(error), code)
    assert error.response["Error"]["Message"], error.response
    return str(code)


def _expected_text(
    operations: list[dict[str, Any]], members: dict[str, str]
) -> dict[str, str | None]:
    """Top-level text members as the request leaves them (the last operation on each wins)."""
    expected: dict[str, str | None] = {}
    for op in operations:
        path = str(op["AttributePath"]).lower()
        name = members.get(path)
        value = op.get("AttributeValue")
        if name is not None and (value is None or isinstance(value, str)):
            expected[name] = value
    return expected


def _update(
    client: Any,
    operation: str,
    describe: Any,
    params: dict[str, Any],
    text_members: dict[str, str],
) -> None:
    before = describe()
    revision = params.pop("Revision")
    if revision == "current":
        revision = before["Revision"]
    if revision is not None:
        params["Revision"] = revision
    call = getattr(client, "update_user" if operation == "UpdateUser" else "update_group")
    try:
        call(**params)
    except ClientError as error:
        event(f"{operation}: {check_client_error(client, operation, error)}")
        assert describe() == before  # all or nothing
        return
    event(f"{operation}: OK")
    after = describe()
    assert int(after["Revision"]) == int(before["Revision"]) + 1
    for name, value in _expected_text(params["Operations"], text_members).items():
        assert after.get(name) == value, (name, after)


# Function-scoped fixtures run once for all examples of a test: the examples meet what the
# earlier ones left. A second user and group are there for uniqueness conflicts.
@pytest.fixture
def user_id(boto: Any, store_id: str) -> str:
    make_user(boto, store_id, "other", Emails=[{"Value": "other@example.com"}])
    return make_user(boto, store_id, "alice")


@pytest.fixture
def group_id(boto: Any, store_id: str) -> str:
    make_group(boto, store_id, "Other")
    return make_group(boto, store_id, "Engineering")


@fuzz_settings(120)
@given(operations=USER_OPERATIONS, revision=REVISIONS)
def test_update_user_paths_and_values(
    boto: Any,
    store_id: str,
    user_id: str,
    operations: list[dict[str, Any]],
    revision: str | None,
) -> None:

    def describe() -> dict[str, Any]:
        found = boto.describe_user(
            IdentityStoreId=store_id, UserId=user_id, Extensions=[ENTERPRISE_EXTENSION]
        )
        return without_metadata(found)

    params = {
        "IdentityStoreId": store_id,
        "UserId": user_id,
        "Operations": operations,
        "Revision": revision,
    }
    _update(boto, "UpdateUser", describe, params, USER_TEXT)
    assert boto.list_users(IdentityStoreId=store_id)["Users"]


@fuzz_settings(80)
@given(operations=GROUP_OPERATIONS, revision=REVISIONS)
def test_update_group_paths_and_values(
    boto: Any,
    store_id: str,
    group_id: str,
    operations: list[dict[str, Any]],
    revision: str | None,
) -> None:

    def describe() -> dict[str, Any]:
        return without_metadata(boto.describe_group(IdentityStoreId=store_id, GroupId=group_id))

    params = {
        "IdentityStoreId": store_id,
        "GroupId": group_id,
        "Operations": operations,
        "Revision": revision,
    }
    _update(boto, "UpdateGroup", describe, params, GROUP_TEXT)
    assert boto.list_groups(IdentityStoreId=store_id)["Groups"]

"""Profile documents on the AWS side: what CreateUser/CreateGroup store, and how UpdateUser/
UpdateGroup operations change it.

Everything is derived from the service model. The settable members of a user are those of
`CreateUserRequest` (less `IdentityStoreId` and `Extensions`); their lower-camel names are the
attribute paths of UpdateUser (`name.givenName`, `emails`, ...). From the shapes follow:

- which paths exist, and which are read-only (members of `User` that CreateUser cannot set,
  such as `userStatus` or `externalIds`);
- that a structure (`name`) may be replaced whole or one member at a time, while a list
  (`emails`, `photos`, ...) may only be replaced whole;
- how keys inside a complex value map onto member names, case-insensitively (`streetAddress`
  and `StreetAddress` both work; responses use the model's spelling).

An update applies every operation to a copy, in order, then checks the whole result with the
same rules as a create, so it is all or nothing. Null (or no value) removes an attribute; an
empty string is refused, as AWS does. The rules the model does not carry are Identity Center's
(docs/behaviour.md#validation): required names, reserved names, one primary photo; and the
enterprise extension's attribute names (`model.ENTERPRISE_ATTRIBUTES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from idstore.aws.spec import Spec, lower_camel
from idstore.aws.validate import Problems, Validator, json_type
from idstore.errors import InvalidInput, MalformedRequest, summarise
from idstore.model import (
    ENTERPRISE_ATTRIBUTES,
    ENTERPRISE_EXTENSION,
    MANAGER,
    MANAGER_VALUE,
    Json,
    is_reserved_name,
)

# Identity Center requires these on every user, beyond the model's own `required`
# (docs/behaviour.md#validation).
REQUIRED_USER_ATTRIBUTES = (
    ("UserName",),
    ("DisplayName",),
    ("Name", "GivenName"),
    ("Name", "FamilyName"),
)
_RESERVED = "Member must not be a reserved name (Administrator, AWSAdministrators)"
_EMPTY = "The API doesn't allow empty attribute values: to unset an attribute, set it to null"


@dataclass(frozen=True)
class _Path:
    member: str
    sub: str | None  # a member of a structure attribute, e.g. Name.GivenName


class ProfileSchema:
    """The settable attributes of one kind of resource, and how to update them."""

    def __init__(
        self,
        spec: Spec,
        validator: Validator,
        request: str,
        resource: str,
        noun: str,
        *,
        not_reserved: str | None = None,
    ) -> None:
        """`not_reserved`: a member whose value may not be a reserved name (a group's
        DisplayName); `check` enforces it wherever a profile is written from."""
        self._validator = validator
        self.noun = noun
        self._not_reserved = not_reserved
        request_shape = spec.structure(request)
        skip = {"IdentityStoreId", "Extensions"}
        self.members: dict[str, Shape] = {
            name: shape for name, shape in request_shape.members.items() if name not in skip
        }
        self.read_only = frozenset(
            lower_camel(name).lower()
            for name in spec.structure(resource).members
            if name not in self.members and name != "Extensions"
        )
        self._paths: dict[str, _Path] = {}
        self._whole_only: set[str] = set()
        for name, shape in self.members.items():
            camel = lower_camel(name)
            self._paths[camel.lower()] = _Path(name, None)
            if isinstance(shape, StructureShape) and not shape.metadata.get("document"):
                for sub in shape.members:
                    self._paths[f"{camel}.{lower_camel(sub)}".lower()] = _Path(name, sub)
            elif isinstance(shape, ListShape):
                self._whole_only.add(camel.lower())

    def from_request(self, params: Json) -> Json:
        """The profile document in validated CreateUser/CreateGroup parameters."""
        return {name: params[name] for name in self.members if name in params}

    def check(self, attributes: Json, problems: Problems) -> Json:
        """Validate a whole profile against the model; return it cleaned.

        Members this API cannot set (ExternalIds, written by SCIM) are kept as they are.
        """
        out: Json = {}
        for name, value in attributes.items():
            shape = self.members.get(name)
            if shape is None:
                out[name] = value
            elif value is not None:
                try:
                    cleaned = self._validator.collect(shape, value, lower_camel(name), problems)
                except MalformedRequest as wrong_type:
                    # In an update the value came in a free-form document, so a value of the
                    # wrong kind is a validation problem, not a malformed request.
                    problems.append(wrong_type.message)
                    continue
                if cleaned not in ({}, []):
                    out[name] = cleaned
        if self._not_reserved is not None:
            value = out.get(self._not_reserved)
            if isinstance(value, str) and is_reserved_name(value):
                where = lower_camel(self._not_reserved)
                problems.append(f"Value at '{where}' failed to satisfy constraint: {_RESERVED}")
        return out

    def apply(self, attributes: Json, operations: list[Json]) -> Json:
        """Apply UpdateUser/UpdateGroup operations to a copy of `attributes`.

        Extension paths are not handled here (see `apply_extension`); callers split them out.
        """
        doc = dict(attributes)
        for op in operations:
            path_text = op["AttributePath"]
            path = self._path(path_text)
            value = op.get("AttributeValue")
            shape = self.members[path.member]
            if path.sub is None:
                _set(doc, path.member, self._value(shape, value, path_text))
            else:
                assert isinstance(shape, StructureShape)
                current = dict(doc.get(path.member) or {})
                _set(current, path.sub, self._value(shape.members[path.sub], value, path_text))
                _set(doc, path.member, current or None)
        return doc

    def _path(self, text: str) -> _Path:
        key = text.lower()
        found = self._paths.get(key)
        if found is not None:
            return found
        head = key.split(".", 1)[0]
        if head in self._whole_only:
            raise InvalidInput(
                f"Unsupported update operation on multi-value attribute {head}: please provide "
                "full replacement of multi-value attribute types."
            )
        if key in self.read_only or head in self.read_only:
            raise InvalidInput(f"The attribute path '{text}' is read-only and cannot be updated.")
        raise InvalidInput(f"'{text}' is not an attribute path of a {self.noun}.")

    def _value(self, shape: Shape, value: Any, path: str) -> Any:
        if value is None:
            return None
        if value == "":
            raise InvalidInput(f"Invalid AttributeValue for '{path}'. {_EMPTY}.")
        return canonical_keys(shape, value, path)


def _set(doc: Json, key: str, value: Any) -> None:
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value


def canonical_keys(shape: Shape, value: Any, path: str) -> Any:
    """`value` with the keys of its objects spelled as the model's member names.

    Keys match case-insensitively; a key the shape does not have is an error. Values are not
    type-checked here: the model check that follows does that.
    """
    if isinstance(shape, StructureShape) and not shape.metadata.get("document"):
        if not isinstance(value, dict):
            raise InvalidInput(
                f"AttributeValue for '{path}' must be an object, not {json_type(value)}."
            )
        names = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = names.get(str(key).lower())
            if name is None:
                raise InvalidInput(
                    f"AttributeValue for '{path}' has an unknown member '{key}'; expected one "
                    f"of {', '.join(shape.members)}."
                )
            if item is not None:
                out[name] = canonical_keys(shape.members[name], item, f"{path}.{lower_camel(name)}")
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise InvalidInput(
                f"AttributeValue for '{path}' must be an array, not {json_type(value)}."
            )
        return [canonical_keys(shape.member, item, path) for item in value]
    return value


class UserRules:
    """Identity Center's rules on a whole user, beyond what the model says."""

    def __init__(self, spec: Spec, validator: Validator) -> None:
        self.profile = ProfileSchema(spec, validator, "CreateUserRequest", "User", "user")
        self._validator = validator
        self._string = spec.shape("SensitiveStringType")

    def check(
        self, attributes: Json, extensions: Json, *, modelled: bool = False
    ) -> tuple[Json, Json]:
        """Validate a user's profile and extensions; return both cleaned, or raise.

        `modelled`: the profile already passed the model's checks (as a CreateUser request's
        members do), so only the rules beyond the model remain.
        """
        problems: Problems = []
        if not modelled:
            attributes = self.profile.check(attributes, problems)
        for path in REQUIRED_USER_ATTRIBUTES:
            value: Any = attributes
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                where = ".".join(lower_camel(p) for p in path)
                problems.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        name = attributes.get("UserName")
        if isinstance(name, str) and is_reserved_name(name):
            problems.append(f"Value at 'userName' failed to satisfy constraint: {_RESERVED}")
        photos = attributes.get("Photos") or []
        if sum(1 for p in photos if isinstance(p, dict) and p.get("Primary")) > 1:
            problems.append(
                "Value at 'photos' failed to satisfy constraint: Only one photo can be primary"
            )
        extensions = self._extensions(extensions, problems)
        if problems:
            raise InvalidInput(summarise(problems), problems)
        return attributes, extensions

    def _extensions(self, extensions: Json, problems: Problems) -> Json:
        out: Json = {}
        for name, document in extensions.items():
            if name != ENTERPRISE_EXTENSION:
                problems.append(
                    f"Value at 'extensions' failed to satisfy constraint: Unsupported extension "
                    f"'{name}'; the only supported extension is {ENTERPRISE_EXTENSION}"
                )
                continue
            if document is None:
                continue
            cleaned = self._enterprise(document, problems)
            if cleaned:
                out[name] = cleaned
        return out

    def _enterprise(self, document: Any, problems: Problems) -> Json:
        base = f"extensions.{ENTERPRISE_EXTENSION}"
        if not isinstance(document, dict):
            problems.append(
                f"Value at '{base}' failed to satisfy constraint: Member must be an object"
            )
            return {}
        names = {n.lower(): n for n in ENTERPRISE_ATTRIBUTES}
        out: Json = {}
        for key, value in document.items():
            name = names.get(str(key).lower())
            if name is None:
                problems.append(
                    f"Value at '{base}' failed to satisfy constraint: Unknown attribute '{key}'; "
                    f"expected one of {', '.join(ENTERPRISE_ATTRIBUTES)}"
                )
                continue
            if value is None:
                continue
            path = f"{base}.{name}"
            if name == MANAGER:
                value = manager_value(value)
                if value is None:
                    problems.append(
                        f"Value at '{path}' failed to satisfy constraint: Member must be an "
                        'object {"value": <user id>} or a string'
                    )
                    continue
                self._text(value[MANAGER_VALUE], f"{path}.{MANAGER_VALUE}", problems)
            else:
                self._text(value, path, problems)
            out[name] = value
        return out

    def _text(self, value: Any, path: str, problems: Problems) -> None:
        if not isinstance(value, str):
            problems.append(
                f"Value at '{path}' failed to satisfy constraint: Member must be a string"
            )
        else:
            self._validator.collect(self._string, value, path, problems)

    def apply_extension(self, extensions: Json, path: str, value: Any) -> Json:
        """Apply one `aws:identitystore:<name>[.<attr>[.value]]` operation to a copy."""
        out = dict(extensions)
        parts = path.split(".")
        name = parts[0].lower()
        if name != ENTERPRISE_EXTENSION:
            raise InvalidInput(
                f"Unsupported extension in attribute path '{path}'; the only supported "
                f"extension is {ENTERPRISE_EXTENSION}."
            )
        if value == "":
            raise InvalidInput(f"Invalid AttributeValue for '{path}'. {_EMPTY}.")
        if len(parts) == 1:
            # The whole document is an object (or null); checked now, as later operations of
            # the same request may change its members.
            if value is not None and not isinstance(value, dict):
                raise InvalidInput(
                    f"AttributeValue for '{path}' must be an object, not {json_type(value)}."
                )
            _set(out, name, value)
            return out
        names = {n.lower(): n for n in ENTERPRISE_ATTRIBUTES}
        attr = names.get(parts[1].lower())
        nested = len(parts) == 3 and attr == MANAGER and parts[2].lower() == MANAGER_VALUE
        if attr is None or len(parts) > 3 or (len(parts) == 3 and not nested):
            raise InvalidInput(f"'{path}' is not an attribute path of the enterprise extension.")
        current = out.get(name)
        document = dict(current) if isinstance(current, dict) else {}
        _set(document, attr, {MANAGER_VALUE: value} if nested and value is not None else value)
        _set(out, name, document or None)
        return out


def manager_value(value: Any) -> Json | None:
    """A manager given as `"id"`, `{"value": "id"}` or `{"Value": "id"}`, as `{"value": "id"}`."""
    if isinstance(value, str):
        return {MANAGER_VALUE: value}
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if str(key).lower() == MANAGER_VALUE:
            return {MANAGER_VALUE: inner}
    return None

"""Users and groups between the domain and SCIM JSON, through the tables of `schema.py`.

A resource crosses this module as a *view*: the SCIM JSON object with every key spelled as the
schema spells it (`userName`, `name.givenName`, `emails[0].value`), the enterprise attributes
under their schema URN, `externalId` and, for groups, `members` as `[{"value": <user id>}]`.

- `canonical_view` turns a client's body into a view, leniently, as real IdPs need
  (docs/behaviour.md#scim-leniency): attribute and sub-attribute names in any case, URN-qualified
  keys, string booleans (`"False"`), numbers where strings are meant, a manager given as a string, a
  single object where a list is meant; `schemas`, `id`, `meta`, `password`, `groups` and unknown
  keys are ignored, and an empty string or list counts as absent. What AWS refuses is refused: more
  than one e-mail, address, phone number or role, and `ims`, `photos`, `x509Certificates` or
  `entitlements` with values.
- `user_view` / `group_view` render a record as a view (with `meta`).
- `user_data` / `group_data` turn a view back into the domain's document, over the current
  record: members SCIM cannot see (Photos, Website, Birthdate, Description, external ids of
  other issuers) are kept, so a PUT or PATCH never loses what the AWS API wrote.

`externalId` is the user's or group's ExternalIds element whose Issuer is `SCIM_ISSUER`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import regex

from idstore.errors import InvalidInput
from idstore.model import (
    ENTERPRISE_EXTENSION,
    EXTERNAL_IDS,
    ID,
    ISSUER,
    GroupData,
    GroupRecord,
    Json,
    UserData,
    UserRecord,
    UserStatus,
)
from idstore.scim.schema import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE,
    ENTERPRISE_USER,
    GROUP,
    USER,
    Attribute,
    ResourceKind,
    Schema,
)

# The Issuer of the ExternalIds element that holds SCIM's `externalId` (see docs/scim.md#mapping).
SCIM_ISSUER = "SCIM"
# CreatedBy / UpdatedBy of every SCIM write (docs/behaviour.md#other-fields).
ACTOR = "SCIM"

_IGNORED = frozenset({"schemas", "id", "meta", "password", "groups"})
_REFUSED = frozenset({"ims", "photos", "x509certificates", "entitlements"})
# The model's ExternalIdIdentifier: 1-256 characters, letters, marks, symbols, digits, punctuation.
_EXTERNAL_ID = regex.compile(r"[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,256}")
_USER_MEMBERS = frozenset(a.member for a in USER.attributes if a.member) | {EXTERNAL_IDS}


# -- client values into canonical form -------------------------------------------------------


def canonical(attr: Attribute, value: Any, where: str) -> Any:
    """A client's value for `attr`, canonical; None when it amounts to nothing."""
    if value is None:
        return None
    if not attr.multi_valued:
        return _single(attr, value, where)
    items = value if isinstance(value, list) else [value]
    out = [c for c in (_item(attr, v, where) for v in items) if c is not None]
    if len(out) > 1 and attr.member is not None:
        raise InvalidInput(
            f"'{where}' has {len(out)} values: AWS IAM Identity Center keeps one value of "
            f"'{attr.name}' per user."
        )
    return out or None


def _item(attr: Attribute, value: Any, where: str) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool) and attr.sub("value"):
        value = {"value": value}  # a bare value where an object is meant
    return _single(attr, value, where)


def _single(attr: Attribute, value: Any, where: str) -> Any:
    if attr.type != "complex":
        return _scalar(attr, value, where)
    if isinstance(value, str) and attr.sub("value"):
        value = {"value": value}  # Entra's `"manager": "<id>"`
    if not isinstance(value, dict):
        raise InvalidInput(f"'{where}' must be an object.")
    out: Json = {}
    for key, item in value.items():
        sub = attr.sub(str(key))
        if sub is None:
            continue  # `display`, Entra's `$ref: null`, and other keys idstore does not keep
        converted = _scalar(sub, item, f"{where}.{sub.name}")
        if converted is not None:
            out[sub.name] = converted
    return out or None


def _scalar(attr: Attribute, value: Any, where: str) -> Any:
    if value is None:
        return None
    if attr.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise InvalidInput(f"'{where}' must be a boolean.")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidInput(f"'{where}' must be a string.")
    return value or None


def external_id(value: Any) -> str | None:
    """A client's `externalId`, checked against the model's ExternalIdIdentifier."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _EXTERNAL_ID.fullmatch(value):
        raise InvalidInput(
            "'externalId' must be 1 to 256 letters, digits, symbols or punctuation (no spaces)."
        )
    return value


def resolve_key(kind: ResourceKind, key: str) -> tuple[Schema, Attribute | None] | None:
    """Which schema and attribute a body key names: `userName`, a core or extension URN
    qualified name, or a bare extension URN (attribute None). None if it names nothing."""
    attr = kind.schema.attribute(key)
    if attr is not None:
        return kind.schema, attr
    extension = kind.extension(key)
    if extension is not None:
        return extension, None
    urn, _, name = key.rpartition(":")
    if not urn:
        return None
    for schema in (kind.schema, *kind.extensions):
        if schema.id.lower() == urn.lower():
            found = schema.attribute(name)
            return (schema, found) if found is not None else None
    return None


def canonical_view(kind: ResourceKind, body: Json) -> Json:
    """A POST or PUT body as a canonical view (see the module docstring)."""
    view: Json = {}
    for key, value in body.items():
        name = str(key)
        lowered = name.lower()
        if lowered in _IGNORED:
            continue
        if lowered == "externalid":
            found = external_id(value)
            if found is not None:
                view["externalId"] = found
            continue
        if lowered in _REFUSED:
            if value not in (None, "", [], {}):
                raise InvalidInput(f"'{name}' is not supported by AWS IAM Identity Center.")
            continue
        resolved = resolve_key(kind, name)
        if resolved is None:
            continue  # unknown keys are ignored
        schema, attr = resolved
        if attr is None:  # a whole extension object
            if value is None:
                continue
            if not isinstance(value, dict):
                raise InvalidInput(f"'{schema.id}' must be an object.")
            for sub_key, sub_value in value.items():
                sub = schema.attribute(str(sub_key))
                if sub is not None:
                    _put(view, schema, sub, canonical(sub, sub_value, sub.name))
            continue
        if schema is GROUP and attr.name == "members":
            view["members"] = [{"value": m} for m in member_ids(value)]
            continue
        _put(view, schema, attr, canonical(attr, value, attr.name))
    return view


def _put(view: Json, schema: Schema, attr: Attribute, value: Any) -> None:
    target = view if schema is USER or schema is GROUP else view.setdefault(schema.id, {})
    if value is None:
        target.pop(attr.name, None)
    else:
        target[attr.name] = value
    if schema is not USER and schema is not GROUP and not target:
        view.pop(schema.id, None)


# -- records into views ----------------------------------------------------------------------


def _time(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _meta(kind: str, record: UserRecord | GroupRecord, location: str) -> Json:
    return {
        "resourceType": kind,
        "created": _time(record.audit.created_at),
        "lastModified": _time(record.audit.updated_at),
        "location": location,
    }


def _render(attr: Attribute, value: Any) -> Any:
    if value is None:
        return None
    if attr.multi_valued:
        items = [_render_one(attr, v) for v in value if isinstance(v, dict)]
        return [i for i in items if i] or None
    return _render_one(attr, value)


def _render_one(attr: Attribute, value: Any) -> Any:
    if attr.type != "complex":
        return value
    if not isinstance(value, dict):
        return None
    return {s.name: value[s.member] for s in attr.sub_attributes if s.member in value} or None


def _scim_external_id(document: Json) -> str | None:
    for item in document.get(EXTERNAL_IDS) or ():
        if isinstance(item, dict) and item.get(ISSUER) == SCIM_ISSUER:
            return str(item.get(ID))
    return None


def user_view(user: UserRecord, base: str) -> Json:
    """A user as its SCIM view."""
    document = user.attributes
    view: Json = {"schemas": [CORE_USER], "id": user.user_id}
    found = _scim_external_id(document)
    if found is not None:
        view["externalId"] = found
    for attr in USER.attributes:
        if attr.member is None:
            view[attr.name] = user.status is UserStatus.ENABLED  # `active`
            continue
        rendered = _render(attr, document.get(attr.member))
        if rendered is not None:
            view[attr.name] = rendered
    enterprise = user.extensions.get(ENTERPRISE_EXTENSION) if user.extensions_json else None
    if isinstance(enterprise, dict):
        extension: Json = {}
        for attr in ENTERPRISE.attributes:
            rendered = _render(attr, enterprise.get(str(attr.member)))
            if rendered is not None:
                extension[attr.name] = rendered
        if extension:
            view["schemas"].append(ENTERPRISE_USER)
            view[ENTERPRISE_USER] = extension
    view["meta"] = _meta("User", user, f"{base}/Users/{user.user_id}")
    return view


def group_view(group: GroupRecord, base: str, member_ids: list[str] | None) -> Json:
    """A group as its SCIM view; `members` only when `member_ids` is given (and not empty)."""
    document = group.attributes
    view: Json = {"schemas": [CORE_GROUP], "id": group.group_id}
    found = _scim_external_id(document)
    if found is not None:
        view["externalId"] = found
    if "DisplayName" in document:
        view["displayName"] = document["DisplayName"]
    if member_ids:
        view["members"] = [{"value": m, "$ref": f"{base}/Users/{m}"} for m in member_ids]
    view["meta"] = _meta("Group", group, f"{base}/Groups/{group.group_id}")
    return view


# -- views into the domain -------------------------------------------------------------------


def _member_value(attr: Attribute, value: Any) -> Any:
    if attr.type != "complex":
        return value
    if attr.multi_valued:
        return [_members_of(attr, v) for v in value]
    return _members_of(attr, value)


def _members_of(attr: Attribute, value: Json) -> Json:
    return {s.member: value[s.name] for s in attr.sub_attributes if s.name in value and s.member}


def _external_ids(view: Json, current: Json | None, keep_absent: bool) -> list[Json]:
    existing = list((current or {}).get(EXTERNAL_IDS) or ())
    others = [e for e in existing if not (isinstance(e, dict) and e.get(ISSUER) == SCIM_ISSUER)]
    value = view.get("externalId")
    if value is None and keep_absent and current is not None:
        value = _scim_external_id(current)
    return [*others, {ISSUER: SCIM_ISSUER, ID: value}] if value else others


def user_data(view: Json, current: UserRecord | None, *, keep_absent_external_id: bool) -> UserData:
    """The domain's user from a view, over `current` (see the module docstring). An absent
    `active` keeps the current status; an absent `externalId` is kept when asked to be (PUT)."""
    document: Json = {}
    if current is not None:
        document = {k: v for k, v in current.attributes.items() if k not in _USER_MEMBERS}
    for attr in USER.attributes:
        if attr.member is not None and attr.name in view:
            document[attr.member] = _member_value(attr, view[attr.name])
    ids = _external_ids(
        view, None if current is None else current.attributes, keep_absent_external_id
    )
    if ids:
        document[EXTERNAL_IDS] = ids
    extensions: Json = {} if current is None else dict(current.extensions)
    enterprise = view.get(ENTERPRISE_USER)
    if enterprise:
        extensions[ENTERPRISE_EXTENSION] = {
            str(a.member): _member_value(a, enterprise[a.name])
            for a in ENTERPRISE.attributes
            if a.name in enterprise
        }
    else:
        extensions.pop(ENTERPRISE_EXTENSION, None)
    active = view.get("active")
    if active is None:
        status = UserStatus.ENABLED if current is None else current.status
    else:
        status = UserStatus.ENABLED if active else UserStatus.DISABLED
    return UserData(document, extensions, status)


def group_data(
    view: Json, current: GroupRecord | None, *, keep_absent_external_id: bool
) -> GroupData:
    """The domain's group from a view, over `current` (its Description is kept)."""
    document: Json = {}
    if current is not None:
        document = {
            k: v for k, v in current.attributes.items() if k not in ("DisplayName", EXTERNAL_IDS)
        }
    if "displayName" in view:
        document["DisplayName"] = view["displayName"]
    ids = _external_ids(
        view, None if current is None else current.attributes, keep_absent_external_id
    )
    if ids:
        document[EXTERNAL_IDS] = ids
    return GroupData(document)


def member_ids(members: Any) -> list[str]:
    """The user ids in a client's `members` value, in order, without repeats. Each element is
    `{"value": <user id>}` (other keys, such as `display` or Entra's `$ref: null`, ignored) or
    the id itself; AWS groups hold users only, so `type` other than User is refused."""
    if members is None:
        return []
    ids: dict[str, None] = {}
    for item in members if isinstance(members, list) else [members]:
        value: Any = item
        if isinstance(item, dict):
            fields = {str(k).lower(): v for k, v in item.items()}
            kind = fields.get("type")
            if isinstance(kind, str) and kind.lower() not in ("user", ""):
                raise InvalidInput(f"Only users can be members of a group, not a {kind}.")
            value = fields.get("value")
        if not isinstance(value, str) or not value:
            raise InvalidInput("Every element of 'members' must have a 'value': a user id.")
        ids[value] = None
    return list(ids)

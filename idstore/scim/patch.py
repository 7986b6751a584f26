"""SCIM PATCH (RFC 7644 §3.5.2), applied to a resource's view, as Okta and Entra send it.

`parse_operations` reads a PatchOp body: `op` in any case (Entra sends `Replace`), an optional
`path` parsed by `filter.parse_path`, and `value`. `apply` runs the operations in order on a
copy of a view (see `resources.py`); the caller turns the result back into the domain and
validates it whole, so a PATCH is all or nothing. For groups, operations on `members` are not
applied to the view: `member_changes` turns them into store `MemberChange`s, run in the same
transaction as the attribute change.

Semantics, with the lenient forms the IdPs need (docs/behaviour.md#scim-leniency):

- no path: `value` is an object whose keys are paths (`"name.givenName"`, URN-qualified
  enterprise attributes, a whole extension object); keys that name nothing, and `id`, `meta`,
  `schemas`, `password`, `groups`, are ignored (Okta puts `id` in a group rename);
- a complex attribute (`name`, `manager`) is merged by `add` and `replace` alike (RFC 7644
  §3.5.2.3: sub-attributes not given are left unchanged);
- a value path (`emails[type eq "work"].value`) updates the values it selects, or creates one
  from the filter's equalities when none matches (Entra's first sync sets a work e-mail that
  way);
- `remove` accepts a path filter (`members[value eq "u"]`) or a `value` list of the elements to
  remove (Entra's default, and ssosync); `userName` and `active` cannot be removed (AWS);
- `replace` on `members` replaces the whole membership (Okta's group push). AWS refuses it;
  idstore accepts it, within the limit on membership changes per request.
- `password` is ignored, as everywhere.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from idstore.errors import InvalidInput
from idstore.model import Json
from idstore.scim import resources
from idstore.scim.filter import AttrRef, Eq, Path, Select, parse_path
from idstore.scim.problems import InvalidPath, InvalidSyntax, Mutability, NoTarget
from idstore.scim.schema import GROUP, GROUPS, USER, Attribute, ResourceKind, Schema
from idstore.store.groups import MemberChange

_OPS = ("add", "remove", "replace")
_IGNORED_KEYS = frozenset({"schemas", "id", "meta", "password", "groups"})
_READ_ONLY = frozenset({"id", "meta", "schemas", "groups"})
_UNREMOVABLE = frozenset({"username", "active"})


@dataclass(frozen=True)
class Operation:
    op: str
    path: Path | None
    path_text: str
    value: Any


@dataclass(frozen=True)
class _Target:
    """What a path designates: an attribute of a schema (None: the whole extension), maybe one
    of its sub-attributes, maybe only the values a filter selects; or a common attribute."""

    schema: Schema | None
    attr: Attribute | None
    sub: Attribute | None = None
    where: tuple[Eq, ...] | None = None
    common: str | None = None  # "externalId" or "password"


def _get(body: Json, name: str) -> Any:
    for key, value in body.items():
        if str(key).lower() == name:
            return value
    return None


def parse_operations(body: Any) -> list[Operation]:
    """The operations of a PatchOp body."""
    if not isinstance(body, dict):
        raise InvalidSyntax("A PATCH body must be a PatchOp object.")
    items = _get(body, "operations")
    if not isinstance(items, list) or not items:
        raise InvalidSyntax("A PatchOp must have a non-empty 'Operations' array.")
    operations = []
    for item in items:
        if not isinstance(item, dict):
            raise InvalidSyntax("Every element of 'Operations' must be an object.")
        op = _get(item, "op")
        if not isinstance(op, str) or op.lower() not in _OPS:
            raise InvalidInput(f"'op' must be add, remove or replace, not {op!r}.")
        path = _get(item, "path")
        if path is not None and not isinstance(path, str):
            raise InvalidPath("'path' must be a string.")
        parsed = parse_path(path) if path else None
        operations.append(Operation(op.lower(), parsed, path or "", _get(item, "value")))
    return operations


def member_changes(operations: Iterable[Operation]) -> list[MemberChange]:
    """The membership changes of a group PATCH, in request order."""
    changes = []
    for operation in operations:
        for target, value in _targets(GROUPS, operation):
            if target.attr is None or target.attr.name != "members":
                continue
            changes.append(_member_change(operation, target, value))
    return changes


def apply(kind: ResourceKind, view: Json, operations: Iterable[Operation]) -> Json:
    """A copy of `view` with the operations applied (for groups, all but `members` ones)."""
    out = copy.deepcopy(view)
    for operation in operations:
        for target, value in _targets(kind, operation):
            if target.attr is not None and target.attr.name == "members" and kind is GROUPS:
                continue
            if operation.op == "remove":
                _remove(out, target, value)
            else:
                _set(out, target, value, replace=operation.op == "replace")
    for attr in kind.schema.attributes:
        if not attr.multi_valued or attr.member is None:
            continue
        values = out.get(attr.name)
        count = len(values) if isinstance(values, list) else 0
        if count > 1:
            raise InvalidInput(
                f"'{attr.name}' would have {count} values: AWS IAM Identity Center "
                f"keeps one value of '{attr.name}' per user."
            )
    return out


# -- resolving paths -------------------------------------------------------------------------


def _targets(kind: ResourceKind, operation: Operation) -> list[tuple[_Target, Any]]:
    """The targets of one operation, each with the value to apply there."""
    if operation.path is not None:
        return [(_resolve(kind, operation.path, operation.path_text), operation.value)]
    if operation.op == "remove":
        raise NoTarget("A 'remove' operation needs a 'path'.")
    if not isinstance(operation.value, dict):
        raise InvalidInput(f"An '{operation.op}' operation without a 'path' needs an object value.")
    found = []
    for key, value in operation.value.items():
        text = str(key)
        if text.lower() in _IGNORED_KEYS:
            continue
        try:
            found.append((_resolve(kind, parse_path(text), text), value))
        except (InvalidPath, Mutability):
            continue  # keys that name nothing (or nothing writable) are ignored
    return found


def _resolve(kind: ResourceKind, path: Path, text: str) -> _Target:
    ref = path.attr if isinstance(path, Select) else path
    where = path.where if isinstance(path, Select) else None
    sub_name = path.sub if isinstance(path, Select) else ref.sub
    if ref.urn is None and ref.sub is None and ref.name.lower() in ("externalid", "password"):
        if isinstance(path, Select):
            raise InvalidPath(f"'{text}' selects values of an attribute that has one.")
        return _Target(
            None, None, common="externalId" if ref.name.lower() == "externalid" else "password"
        )
    if ref.urn is None and ref.name.lower() in _READ_ONLY:
        raise Mutability(f"'{ref.name}' is read-only.")
    schema, attr = _attribute(kind, ref, text)
    if attr is None:
        if where is not None or sub_name is not None:
            raise InvalidPath(f"'{text}' is not an attribute path of a {kind.name}.")
        return _Target(schema, None)
    sub = None
    if sub_name is not None:
        sub = attr.sub(sub_name)
        if sub is None:
            raise InvalidPath(f"'{text}': '{attr.name}' has no sub-attribute '{sub_name}'.")
    if where is not None:
        if not attr.multi_valued:
            raise InvalidPath(f"'{text}': '{attr.name}' is not multi-valued.")
        for eq in where:
            if attr.sub(eq.attr.name) is None:
                raise InvalidPath(f"'{text}': '{attr.name}' has no sub-attribute '{eq.attr.name}'.")
    return _Target(schema, attr, sub, where)


def _attribute(kind: ResourceKind, ref: AttrRef, text: str) -> tuple[Schema, Attribute | None]:
    if ref.urn is None:
        attr = kind.schema.attribute(ref.name)
        if attr is None:
            raise InvalidPath(f"'{text}' is not an attribute of a {kind.name}.")
        return kind.schema, attr
    whole = kind.extension(f"{ref.urn}:{ref.name}")
    if whole is not None and ref.sub is None:
        return whole, None
    schema = kind.schema if kind.schema.id.lower() == ref.urn.lower() else kind.extension(ref.urn)
    attr = schema.attribute(ref.name) if schema is not None else None
    if schema is None or attr is None:
        raise InvalidPath(f"'{text}' is not an attribute of a {kind.name}.")
    return schema, attr


# -- applying --------------------------------------------------------------------------------


def _is_core(schema: Schema) -> bool:
    return schema is USER or schema is GROUP


def _container(view: Json, schema: Schema, create: bool) -> Json | None:
    if _is_core(schema):
        return view
    if create:
        return view.setdefault(schema.id, {})  # type: ignore[no-any-return]
    found = view.get(schema.id)
    return found if isinstance(found, dict) else None


def _tidy(view: Json) -> None:
    for key in [k for k, v in view.items() if v in ({}, [], None)]:
        del view[key]


def _set(view: Json, target: _Target, value: Any, *, replace: bool) -> None:
    if target.common == "password":
        return
    if target.common == "externalId":
        found = resources.external_id(value)
        if found is None:
            view.pop("externalId", None)
        else:
            view["externalId"] = found
        return
    schema = target.schema
    assert schema is not None
    container = _container(view, schema, create=True)
    assert container is not None
    attr = target.attr
    if attr is None:  # a whole extension: merge its attributes
        if value is not None and not isinstance(value, dict):
            raise InvalidInput(f"'{schema.id}' must be an object.")
        for key, item in (value or {}).items():
            found_attr = schema.attribute(str(key))
            if found_attr is not None:
                _set(view, _Target(schema, found_attr), item, replace=replace)
        _tidy(view)
        return
    where = f"{attr.name}.{target.sub.name}" if target.sub else attr.name
    if attr.multi_valued:
        _set_multi(container, target, value, where, replace=replace)
    elif target.sub is not None:
        current = dict(container.get(attr.name) or {})
        converted = resources.canonical(attr, {target.sub.name: value}, where)
        current.pop(target.sub.name, None)
        current.update(converted or {})
        container[attr.name] = current
    elif attr.type == "complex":
        converted = resources.canonical(attr, value, where)
        if converted is None and value is None:
            container.pop(attr.name, None)
        else:
            container[attr.name] = {**(container.get(attr.name) or {}), **(converted or {})}
    else:
        container[attr.name] = resources.canonical(attr, value, where)
    _tidy(container)
    _tidy(view)


def _set_multi(container: Json, target: _Target, value: Any, where: str, *, replace: bool) -> None:
    attr = target.attr
    assert attr is not None
    values: list[Json] = [dict(v) for v in container.get(attr.name) or []]
    if target.where is None and target.sub is None:
        items = resources.canonical(attr, value, where) or []
        container[attr.name] = (
            items if replace else [*values, *(i for i in items if i not in values)]
        )
        return
    chosen = [v for v in values if _matches(attr, v, target.where or ())]
    if not chosen:  # create the value the path describes (Entra's first work e-mail)
        new: Json = {eq.attr.name: eq.value for eq in target.where or ()}
        values.append(new)
        chosen = [new]
    for item in chosen:
        patch = {target.sub.name: value} if target.sub is not None else value
        if not isinstance(patch, dict):
            raise InvalidInput(f"The value for '{where}' must be an object.")
        merged = resources.canonical(attr, [{**item, **patch}], where) or [{}]
        item.clear()
        item.update(merged[0])
    container[attr.name] = [v for v in values if v]


def _remove(view: Json, target: _Target, value: Any) -> None:
    if target.common == "password":
        return
    if target.common == "externalId":
        view.pop("externalId", None)
        return
    schema = target.schema
    assert schema is not None
    attr = target.attr
    if attr is None:
        view.pop(schema.id, None)
        return
    if _is_core(schema) and attr.name.lower() in _UNREMOVABLE:
        raise Mutability(f"'{attr.name}' cannot be removed.")
    container = _container(view, schema, create=False)
    if container is None or attr.name not in container:
        return
    if not attr.multi_valued:
        if target.sub is None:
            del container[attr.name]
        else:
            container[attr.name].pop(target.sub.name, None)
    else:
        values: list[Json] = container[attr.name]
        if target.where is not None:
            chosen = [v for v in values if _matches(attr, v, target.where)]
        elif value is not None and target.sub is None:
            items = value if isinstance(value, list) else [value]
            given = [g for i in items for g in resources.canonical(attr, [i], attr.name) or []]
            chosen = [v for v in values if any(_contains(attr, v, g) for g in given)]
        else:
            chosen = list(values)
        if target.sub is None:
            container[attr.name] = [v for v in values if v not in chosen]
        else:
            for item in chosen:
                item.pop(target.sub.name, None)
            container[attr.name] = [v for v in values if v]
    _tidy(container)
    _tidy(view)


def _member_change(operation: Operation, target: _Target, value: Any) -> MemberChange:
    if target.sub is not None:
        raise InvalidPath(f"'{operation.path_text}': change members as a whole.")
    if target.where is not None:
        if operation.op != "remove" or any(eq.attr.name.lower() != "value" for eq in target.where):
            raise InvalidPath(
                f"'{operation.path_text}': a members filter is only supported in 'remove', "
                'as members[value eq "<user id>"].'
            )
        return MemberChange("remove", tuple(str(eq.value) for eq in target.where))
    ids = tuple(resources.member_ids(value))
    if operation.op == "add":
        return MemberChange("add", ids)
    if operation.op == "replace":
        return MemberChange("replace", ids)
    return MemberChange("remove", ids) if value is not None else MemberChange("clear")


# -- matching --------------------------------------------------------------------------------


def _same(attr: Attribute, stored: Any, wanted: Any) -> bool:
    if isinstance(stored, str) and isinstance(wanted, str) and not attr.case_exact:
        return stored.casefold() == wanted.casefold()
    if attr.type == "boolean" and isinstance(wanted, str):
        return stored is (wanted.strip().lower() == "true")
    return bool(stored == wanted)


def _matches(attr: Attribute, item: Json, where: Iterable[Eq]) -> bool:
    for eq in where:
        sub = attr.sub(eq.attr.name)
        if sub is None or not _same(sub, item.get(sub.name), eq.value):
            return False
    return True


def _contains(attr: Attribute, item: Json, given: Json) -> bool:
    """Whether `item` has every sub-attribute value of `given` (a remove's `value` element)."""
    return all(_same(attr.sub(k) or attr, item.get(k), v) for k, v in given.items())

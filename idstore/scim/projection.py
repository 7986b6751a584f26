"""`attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which parts of a view a
response carries.

Each is a comma-separated list of attribute paths (`userName`, `name.givenName`, a URN-qualified
enterprise attribute, or a whole extension's URN), parsed by `filter.parse_path` and matched in
any case; a name that is not an attribute is ignored. `id` and `schemas` are always returned.
`wants` tells the caller before rendering whether an attribute will be returned at all, so that
`excludedAttributes=members` (Entra's group reads) spares reading the group's memberships.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from idstore.model import Json
from idstore.scim.filter import AttrRef, Select, parse_path
from idstore.scim.schema import ResourceKind

_ALWAYS = ("schemas", "id")
_COMMON = {"id": "id", "externalid": "externalId", "meta": "meta"}

# (container, attribute, sub-attribute): container "" is the core schema, else an extension's
# URN; attribute None is the whole extension.
_Spec = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class Projection:
    include: tuple[AttrRef, ...] | None = None
    exclude: tuple[AttrRef, ...] = ()

    @classmethod
    def parse(cls, attributes: str | None, excluded: str | None) -> Projection:
        return cls(
            None if attributes is None else _paths(attributes),
            () if excluded is None else _paths(excluded),
        )

    def wants(self, kind: ResourceKind, name: str) -> bool:
        """Whether the core attribute `name` is returned."""
        specs = [_spec(kind, r) for r in self.include or ()]
        if self.include is not None and not any(s and s[:2] == ("", name) for s in specs):
            return False
        excluded = [_spec(kind, r) for r in self.exclude]
        return not any(s == ("", name, None) for s in excluded)

    def apply(self, kind: ResourceKind, view: Json) -> Json:
        if self.include is None and not self.exclude:
            return view
        out = view if self.include is None else _only(kind, view, self.include)
        if self.exclude:
            out = copy.deepcopy(out) if out is view else out
            for ref in self.exclude:
                spec = _spec(kind, ref)
                if spec is not None:
                    _drop(out, spec)
        return out


def _paths(text: str) -> tuple[AttrRef, ...]:
    refs = []
    for part in text.split(","):
        if part.strip():
            path = parse_path(part.strip())
            refs.append(path.attr if isinstance(path, Select) else path)
    return tuple(refs)


def _spec(kind: ResourceKind, ref: AttrRef) -> _Spec | None:
    if ref.urn is None:
        common = _COMMON.get(ref.name.lower())
        if common is not None:
            return "", common, None
        attr = kind.schema.attribute(ref.name)
        if attr is None:
            return None
        sub = attr.sub(ref.sub) if ref.sub else None
        return "", attr.name, None if sub is None else sub.name
    whole = kind.extension(f"{ref.urn}:{ref.name}")
    if whole is not None:
        return whole.id, None, None
    schema = kind.schema if kind.schema.id.lower() == ref.urn.lower() else kind.extension(ref.urn)
    attr = schema.attribute(ref.name) if schema is not None else None
    if schema is None or attr is None:
        return None
    sub = attr.sub(ref.sub) if ref.sub else None
    container = "" if schema is kind.schema else schema.id
    return container, attr.name, None if sub is None else sub.name


def _only(kind: ResourceKind, view: Json, include: tuple[AttrRef, ...]) -> Json:
    out: Json = {k: view[k] for k in _ALWAYS if k in view}
    for ref in include:
        spec = _spec(kind, ref)
        if spec is None:
            continue
        container, name, sub = spec
        source = view if not container else view.get(container)
        if not isinstance(source, dict):
            continue
        target = out if not container else out.setdefault(container, {})
        if name is None:
            target.update(copy.deepcopy(source))
        elif name in source and sub is None:
            target[name] = copy.deepcopy(source[name])
        elif name in source:
            _copy_sub(source[name], target, name, sub)
    if "schemas" in out:
        out["schemas"] = [s for s in out["schemas"] if s == out["schemas"][0] or s in out]
    return out


def _copy_sub(value: object, target: Json, name: str, sub: str | None) -> None:
    if isinstance(value, list):
        items = [{sub: v[sub]} for v in value if isinstance(v, dict) and sub in v]
        if items:
            target[name] = items
    elif isinstance(value, dict) and sub in value:
        target.setdefault(name, {})[sub] = value[sub]


def _drop(view: Json, spec: _Spec) -> None:
    container, name, sub = spec
    if name in _ALWAYS and not container:
        return
    if name is None:
        view.pop(container, None)
        if "schemas" in view:
            view["schemas"] = [s for s in view["schemas"] if s != container]
        return
    target = view if not container else view.get(container)
    if not isinstance(target, dict) or name not in target:
        return
    if sub is None:
        del target[name]
    elif isinstance(target[name], dict):
        target[name].pop(sub, None)
    elif isinstance(target[name], list):
        for item in target[name]:
            if isinstance(item, dict):
                item.pop(sub, None)

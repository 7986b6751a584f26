"""SCIM filters and attribute paths: parsed with scim2-models, reduced to what idstore serves.

Why scim2-models. Its RFC 7644 grammar (a lark LALR parser) covers both filters (§3.4.2.2)
and PATCH paths (§3.5.2, with errata 7122), case-insensitive keywords and operators, URN
qualified attributes, and Entra's non-standard `emails[type eq "work"].value eq "x"`. It is
typed and maintained. scim2-filter-parser (15five) parses filters only, not PATCH paths such as
`emails[type eq "work"].value`, and is untyped. Nothing else of scim2-models is used: resources
are mapped by our own tables (`schema.py`), where the leniency real IdPs need is ours to decide.

Importing scim2-models builds its pydantic models, about two seconds on a small machine, so it
is imported on first use: only a server that receives SCIM requests with a filter or a PATCH
pays for it, once.

The syntax tree is converted to the small types below at once, and everything outside the
subset AWS serves is refused here: comparisons other than `eq`, `or`, `not`, `pr`. So the rest
of the front end sees only conjunctions of equalities, value selections and attribute refs.
Entra sends unquoted values (`externalId eq jyoung`); a filter that is one such comparison is
quoted and parsed again.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from idstore.scim.problems import InvalidFilter, InvalidPath


@dataclass(frozen=True, slots=True)
class AttrRef:
    """`[urn:]name[.sub]`: an attribute, perhaps of an extension, perhaps one sub-attribute."""

    urn: str | None
    name: str
    sub: str | None = None


@dataclass(frozen=True, slots=True)
class Eq:
    """`attr eq value`."""

    attr: AttrRef
    value: Any


@dataclass(frozen=True, slots=True)
class Select:
    """`attr[filter]` or, in a PATCH path, `attr[filter].sub`: values of a multi-valued
    attribute chosen by a conjunction of equalities on their sub-attributes."""

    attr: AttrRef
    where: tuple[Eq, ...]
    sub: str | None = None


Term = Eq | Select
Path = AttrRef | Select

# One `attribute eq bare-word` comparison (Entra's externalId query).
_BARE = re.compile(r"\s*([A-Za-z][\w$.:-]*)\s+(eq)\s+([^\s\"()\[\]]+)\s*", re.IGNORECASE)
_LITERALS = {"true", "false", "null"}
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


@functools.cache
def _grammar() -> Any:
    """scim2-models' path package, imported on first use (see the module docstring)."""
    import scim2_models.path

    return scim2_models.path


def parse_filter(text: str) -> tuple[Term, ...]:
    """A filter as the terms of a conjunction; InvalidFilter if it is not one idstore serves."""
    grammar = _grammar()
    try:
        ast = grammar.ScimFilter(text).ast
    except Exception as error:
        bare = _BARE.fullmatch(text)
        if bare is None or bare.group(3).lower() in _LITERALS or _NUMBER.fullmatch(bare.group(3)):
            raise InvalidFilter(f"The filter {text!r} is not valid: {error}") from None
        quoted = f"{bare.group(1)} eq {json.dumps(bare.group(3))}"
        ast = grammar.ScimFilter(quoted).ast
    return _conjunction(ast, grammar, InvalidFilter)


def parse_path(text: str) -> Path:
    """A PATCH path (or an `attributes` entry); InvalidPath if it does not parse."""
    grammar = _grammar()
    try:
        ast = grammar.Path(text).ast
    except Exception as error:
        raise InvalidPath(f"The path {text!r} is not valid: {error}") from None
    if isinstance(ast, grammar.AttrPath):
        return _ref(ast)
    if isinstance(ast, grammar.ValuePath):
        return _select(ast, grammar, InvalidPath)
    raise InvalidPath(f"The path {text!r} is a filter, not an attribute path.")


def _ref(node: Any) -> AttrRef:
    return AttrRef(node.uri, node.attr, node.sub_attr)


def _conjunction(node: Any, grammar: Any, error: type[Exception]) -> tuple[Term, ...]:
    if isinstance(node, grammar.LogicalExpr):
        if node.op != grammar.LogicalOperator.and_:
            raise error("Only 'eq' comparisons joined by 'and' are supported in filters.")
        terms: tuple[Term, ...] = ()
        for term in node.terms:
            terms += _conjunction(term, grammar, error)
        return terms
    if isinstance(node, grammar.ValuePath):
        return (_select(node, grammar, error),)
    return (_eq(node, grammar, error),)


def _eq(node: Any, grammar: Any, error: type[Exception]) -> Eq:
    if not isinstance(node, grammar.Comparison) or node.op != grammar.CompareOperator.eq:
        raise error(
            f"'{node}' is not supported: filters may only use 'eq' comparisons joined by 'and'."
        )
    return Eq(_ref(node.attr_path), node.value)


def _select(node: Any, grammar: Any, error: type[Exception]) -> Select:
    where = _conjunction(node.val_filter, grammar, error)
    if not all(isinstance(t, Eq) and t.attr.urn is None and t.attr.sub is None for t in where):
        raise error(f"'{node}' is not supported: a value filter may only compare sub-attributes.")
    eqs = tuple(t for t in where if isinstance(t, Eq))
    return Select(_ref(node.attr_path), eqs, node.sub_attr)

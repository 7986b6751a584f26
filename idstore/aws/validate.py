"""Server-side validation of request members against the service model, in one pass.

botocore checks only `required` and minimums on the client; everything else (maximum lengths,
list and map sizes, the `\\p{L}`-style patterns, enums, unions, integer ranges) is ours. Each
shape is compiled once into a small checker function; a checker walks a parsed JSON value and

- raises `MalformedRequest` (SerializationException) at the first member of the wrong JSON type;
- collects every constraint violation, reported together as one ValidationException in AWS's
  wording (`1 validation error detected: Value at 'userName' failed to satisfy constraint:
  Member must have length less than or equal to 128`);
- returns the value cleaned of what the model does not know: unknown members (a newer client may
  send them) and JSON nulls, which mean "absent".

Values of members the model marks `sensitive` are never echoed in messages. Document members
(`AttributeValue`, extension values) are free-form JSON, checked by the operations that read them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

from idstore.aws.spec import Spec, lower_camel
from idstore.errors import InvalidInput, MalformedRequest, summarise

Problems = list[str]
Checker = Callable[[Any, str, Problems], Any]

_JSON_TYPES = {
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    list: "array",
    dict: "object",
}


def json_type(value: object) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _wrong_type(path: str, expected: str, value: object) -> MalformedRequest:
    where = f"'{path}'" if path else "the request body"
    return MalformedRequest(
        f"Value at {where} must be a JSON {expected}, not a JSON {json_type(value)}."
    )


class Validator:
    """Checks values against shapes of one service model; compiled checkers are cached."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._checkers: dict[str, Checker] = {}

    def check_input(self, operation: str, params: Any) -> dict[str, Any]:
        """Validate an operation's input; return it cleaned. Raises on any problem."""
        shape = self._spec.operation(operation).input_shape
        if shape is None:  # pragma: no cover - every identitystore operation has an input
            return {}
        return self.check(shape, params, "")  # type: ignore[no-any-return]

    def check(self, shape: Shape, value: Any, path: str) -> Any:
        """Validate `value` against `shape`; return it cleaned. Raises on any problem."""
        problems: Problems = []
        cleaned = self.checker(shape)(value, path, problems)
        if problems:
            raise InvalidInput(summarise(problems))
        return cleaned

    def collect(self, shape: Shape, value: Any, path: str, problems: Problems) -> Any:
        """Like `check`, but add problems to `problems` instead of raising for them."""
        return self.checker(shape)(value, path, problems)

    def checker(self, shape: Shape) -> Checker:
        found = self._checkers.get(shape.name)
        if found is None:  # the identitystore model has no recursive shapes
            found = self._checkers[shape.name] = self._compile(shape)
        return found

    def _compile(self, shape: Shape) -> Checker:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            if shape.metadata.get("document"):
                return _document
            return self._structure(shape)
        if kind == "list":
            assert isinstance(shape, ListShape)
            return self._list(shape)
        if kind == "map":
            assert isinstance(shape, MapShape)
            return self._map(shape)
        if kind == "string":
            return _string(shape)
        if kind in ("integer", "long"):
            return _integer(shape)
        if kind == "boolean":
            return _boolean
        raise NotImplementedError(f"no checker for {kind} shape {shape.name}")  # pragma: no cover

    def _structure(self, shape: StructureShape) -> Checker:
        members = {
            name: (self.checker(member), lower_camel(name))
            for name, member in shape.members.items()
        }
        required = [(name, lower_camel(name)) for name in shape.required_members]
        union = bool(shape.metadata.get("union"))
        union_names = ", ".join(shape.members)

        def check(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path, "object", value)
            prefix = f"{path}." if path else ""
            out: dict[str, Any] = {}
            for name, member in value.items():
                if member is None or name not in members:
                    continue
                checker, camel = members[name]
                out[name] = checker(member, prefix + camel, problems)
            for name, camel in required:
                if name not in out:
                    problems.append(
                        f"Value null at '{prefix}{camel}' failed to satisfy constraint: "
                        "Member must not be null"
                    )
            if union and len(out) != 1:
                problems.append(
                    f"Value at '{path}' failed to satisfy constraint: Member must have exactly "
                    f"one of the following members set: {union_names}"
                )
            return out

        return check

    def _list(self, shape: ListShape) -> Checker:
        item = self.checker(shape.member)
        sized = _sized(shape)
        valid = _all_valid_strings(shape.member)

        def check(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, list):
                raise _wrong_type(path, "array", value)
            sized(len(value), path, problems)
            if valid is not None and valid(value):
                return list(value)
            return [item(v, f"{path}.{i}.member", problems) for i, v in enumerate(value, 1)]

        return check

    def _map(self, shape: MapShape) -> Checker:
        key = self.checker(shape.key)
        item = self.checker(shape.value)
        sized = _sized(shape)

        def check(value: Any, path: str, problems: Problems) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path, "object", value)
            sized(len(value), path, problems)
            out = {}
            for k, v in value.items():
                key(k, f"{path}.key", problems)
                out[k] = item(v, f"{path}.{k}", problems)
            return out

        return check


def _document(value: Any, path: str, problems: Problems) -> Any:
    return value


def _value_at(shape: Shape, value: Any, path: str) -> str:
    if shape.metadata.get("sensitive") or not isinstance(value, str | int):
        return f"Value at '{path}'"
    text = str(value)
    return f"Value '{text[:100]}' at '{path}'"


def _sized(shape: Shape) -> Callable[[int, str, Problems], None]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(size: int, path: str, problems: Problems) -> None:
        if high is not None and size > high:
            problems.append(
                f"Value at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {high}"
            )
        elif low is not None and size < low:
            problems.append(
                f"Value at '{path}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {low}"
            )

    return check


_MATCHED_MAX = 4096


# Escapes whose meaning follows the Unicode tables, which the stdlib `re` (the interpreter's)
# and `regex` (its own, newer) do not share: `\d` differs on some 110 code points. Inline
# flags too (case folding follows the tables).
_UNICODE_CLASSES = re.compile(r"\\[pPdDwWsSbB]|\(\?")


def compile_pattern(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """The model's pattern, compiled with the stdlib `re` when that cannot change its meaning
    (explicit ASCII classes only, as the id patterns are: four times faster on an id), else
    with `regex`, which has the `\\p{L}`-style classes `re` lacks.
    tests/aws/test_validation_patterns.py holds the two engines to the same answers."""
    if not _UNICODE_CLASSES.search(text):
        try:
            return re.compile(text)
        except re.error:
            pass
    return regex.compile(text)


def _all_valid_strings(shape: Shape) -> Callable[[list[Any]], bool] | None:
    """For a list of patterned strings (such as IsMemberInGroups' 100 group ids): whether
    every item is a string of the allowed length that matches, tested in C over the whole list
    (a fifth of the per-item checker's cost). Only a list that fails goes through the
    per-item checker, which says what is wrong where."""
    pattern_text = shape.metadata.get("pattern")
    if shape.type_name != "string" or not pattern_text or shape.metadata.get("enum"):
        return None
    fullmatch = compile_pattern(pattern_text).fullmatch
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", sys.maxsize)

    def valid(values: list[Any]) -> bool:
        return (
            bool(values)
            and all(type(v) is str for v in values)
            and low <= min(map(len, values))
            and max(map(len, values)) <= high
            and all(map(fullmatch, values))
        )

    return valid


def _string(shape: Shape) -> Checker:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    pattern_text = shape.metadata.get("pattern")
    pattern = compile_pattern(pattern_text) if pattern_text else None
    enum = shape.metadata.get("enum")
    allowed = frozenset(enum) if enum else None
    matched: dict[str, None] = {}

    def check(value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, str):
            raise _wrong_type(path, "string", value)
        size = len(value)
        failure = None
        if high is not None and size > high:
            failure = f"Member must have length less than or equal to {high}"
        elif low is not None and size < low:
            failure = f"Member must have length greater than or equal to {low}"
        elif pattern is not None and value not in matched:
            if pattern.fullmatch(value) is None:
                failure = f"Member must satisfy regular expression pattern: {pattern_text}"
            else:
                # Ids and names recur from request to request; remember some that matched.
                if len(matched) >= _MATCHED_MAX:
                    matched.clear()
                matched[value] = None
        elif allowed is not None and value not in allowed:
            failure = f"Member must satisfy enum value set: [{', '.join(enum)}]"
        if failure:
            problems.append(
                f"{_value_at(shape, value, path)} failed to satisfy constraint: {failure}"
            )
        return value

    return check


def _integer(shape: Shape) -> Checker:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise _wrong_type(path, "integer", value)
        if high is not None and value > high:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {high}"
            )
        elif low is not None and value < low:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {low}"
            )
        return value

    return check


def _boolean(value: Any, path: str, problems: Problems) -> Any:
    if not isinstance(value, bool):
        raise _wrong_type(path, "boolean", value)
    return value

"""The console's forms: reading a posted form, and turning form fields into profile documents.

A form arrives as `application/x-www-form-urlencoded` (the console has no file uploads), at
most `MAX_FORM_BYTES` and `MAX_FIELDS` fields, parsed with the standard library; anything else
is refused before it is read.

A user's form fields are paths into the profile document the API stores (`Name.GivenName`,
`Emails.0.Value`, `enterprise.department`), each with its label. `USER_FIELDS` covers every
attribute UpdateUser can change, and each list as many entries as the model allows (a test
holds it to the model). An empty field is an absent attribute, as null is in the API; the
document is then checked by the AWS side's own rules, so the console accepts and refuses
exactly what the API does, with its messages. Each message names the attribute it is about
(`Value at 'name.givenName' failed to satisfy constraint: ...`); `place_problems` uses that to
put it beside the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from idstore.errors import Conflict, InvalidInput, QuotaExceeded
from idstore.model import ENTERPRISE_EXTENSION, MANAGER, MANAGER_VALUE, Json

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


class FormError(Exception):
    """The body is not a form the console accepts; `status` says why (413 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a posted form (the first value of each name)."""
    if len(body) > MAX_FORM_BYTES:
        raise FormError(413, f"The form is larger than {MAX_FORM_BYTES} bytes.")
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        raise FormError(415, f"Forms must be sent as {FORM_TYPE}.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        raise FormError(
            413, f"The form has more than {MAX_FIELDS} fields, or is not UTF-8."
        ) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


@dataclass(frozen=True)
class Field:
    """One form field: `key` is its path in the document (and its form name)."""

    key: str
    label: str
    checkbox: bool = False
    wide: bool = False
    starts_row: bool = False  # the first field of a list entry begins a new row of the form
    required: bool = False  # Identity Center requires it (marked; the check is the API's)

    @property
    def parts(self) -> list[str | int]:
        return [int(p) if p.isdigit() else p for p in self.key.split(".")]

    @property
    def problem_path(self) -> str:
        """How the API's messages name this attribute (lower-case, for matching)."""
        parts = self.parts
        if parts[0] == "enterprise":
            tail = f".{MANAGER_VALUE}" if parts[1] == MANAGER else ""
            return f"extensions.{ENTERPRISE_EXTENSION}.{parts[1]}{tail}".lower()
        out: list[str] = []
        for part in parts:
            out.append(f"{part + 1}.member" if isinstance(part, int) else str(part))
        return ".".join(out).lower()

    @property
    def container(self) -> str:
        """The top-level attribute this field belongs to (its list, for list entries)."""
        return str(self.parts[0]).lower()

    @property
    def dom_id(self) -> str:
        return "f-" + self.key.replace(".", "-")


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


_TYPE_PRIMARY = (("Type", "{noun} type"), ("Primary", "Primary {noun_lower}"))


def _list_fields(
    member: str, noun: str, count: int, subs: tuple[tuple[str, str], ...]
) -> list[Field]:
    fields: list[Field] = []
    for i in range(count):
        numbered = f"{noun} {i + 1}" if count > 1 else noun
        for j, (sub, label) in enumerate(subs):
            text = label.format(noun=numbered, noun_lower=numbered.lower())
            key = f"{member}.{i}.{sub}"
            fields.append(Field(key, text, checkbox=sub == "Primary", starts_row=j == 0))
    return fields


def _sections() -> tuple[Section, ...]:
    value_type_primary = (("Value", "{noun}"), *_TYPE_PRIMARY)
    return (
        Section(
            "Identity",
            (
                Field("UserName", "User name", required=True),
                Field("DisplayName", "Display name", wide=True, required=True),
                Field("NickName", "Nickname"),
                Field("UserType", "User type"),
                Field("Title", "Title"),
            ),
        ),
        Section(
            "Name",
            (
                Field("Name.GivenName", "Given name", required=True),
                Field("Name.MiddleName", "Middle name"),
                Field("Name.FamilyName", "Family name", required=True),
                Field("Name.HonorificPrefix", "Honorific prefix"),
                Field("Name.HonorificSuffix", "Honorific suffix"),
                Field("Name.Formatted", "Formatted name", wide=True),
            ),
        ),
        Section(
            "Contact",
            (
                *_list_fields("Emails", "Email", 1, value_type_primary),
                *_list_fields("PhoneNumbers", "Phone number", 1, value_type_primary),
                *_list_fields(
                    "Addresses",
                    "Address",
                    1,
                    (
                        ("StreetAddress", "Street address"),
                        ("Locality", "Locality"),
                        ("Region", "Region"),
                        ("PostalCode", "Postal code"),
                        ("Country", "Country"),
                        ("Formatted", "Formatted address"),
                        *_TYPE_PRIMARY,
                    ),
                ),
            ),
        ),
        Section(
            "Profile",
            (
                Field("ProfileUrl", "Profile URL", wide=True),
                Field("Website", "Website", wide=True),
                Field("Birthdate", "Birth date"),
                Field("PreferredLanguage", "Preferred language"),
                Field("Locale", "Locale"),
                Field("Timezone", "Time zone"),
                *_list_fields("Roles", "Role", 1, value_type_primary),
                *_list_fields(
                    "Photos",
                    "Photo",
                    3,
                    (("Value", "{noun} URL"), ("Display", "{noun} text"), *_TYPE_PRIMARY),
                ),
            ),
        ),
        Section(
            "Enterprise",
            (
                Field("enterprise.employeeNumber", "Employee number"),
                Field("enterprise.costCenter", "Cost center"),
                Field("enterprise.organization", "Organization"),
                Field("enterprise.division", "Division"),
                Field("enterprise.department", "Department"),
                Field(f"enterprise.{MANAGER}", "Manager (user ID)"),
            ),
        ),
    )


USER_SECTIONS = _sections()
USER_FIELDS = tuple(f for s in USER_SECTIONS for f in s.fields)
# What the "Create user" form asks for: Identity Center's required attributes, and an e-mail.
CREATE_USER_FIELDS = tuple(
    f
    for f in USER_FIELDS
    if f.key in ("UserName", "DisplayName", "Name.GivenName", "Name.FamilyName", "Emails.0.Value")
)
GROUP_FIELDS = (
    Field("DisplayName", "Display name", wide=True),
    Field("Description", "Description", wide=True),
)
# The top-level profile members the user form sets (the rest, e.g. ExternalIds, are kept).
EDITABLE_USER_MEMBERS = frozenset(
    str(f.parts[0]) for f in USER_FIELDS if f.parts[0] != "enterprise"
)


def _get(doc: Any, parts: list[str | int]) -> Any:
    for part in parts:
        if isinstance(part, int):
            doc = doc[part] if isinstance(doc, list) and part < len(doc) else None
        else:
            doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def form_values(fields: Iterable[Field], attributes: Json, extensions: Json) -> dict[str, str]:
    """A stored user's or group's values as form field values."""
    enterprise = extensions.get(ENTERPRISE_EXTENSION) or {}
    values: dict[str, str] = {}
    for field in fields:
        parts = field.parts
        if parts[0] == "enterprise":
            value = enterprise.get(str(parts[1]))
            if isinstance(value, dict):
                value = value.get(MANAGER_VALUE)
        else:
            value = _get(attributes, parts)
        if field.checkbox:
            values[field.key] = "on" if value is True else ""
        elif value is not None:
            values[field.key] = value if isinstance(value, str) else str(value)
    return values


def documents(fields: Iterable[Field], form: Mapping[str, str]) -> tuple[Json, Json]:
    """The profile document and the enterprise extension the filled-in `fields` describe.

    An empty field is absent; a list entry with no text filled in is dropped (a ticked
    "Primary" alone describes nothing).
    """
    doc: Json = {}
    enterprise: Json = {}
    lists: dict[str, dict[int, Json]] = {}
    for field in fields:
        raw = form.get(field.key, "")
        value: Any = (True if raw else None) if field.checkbox else (raw or None)
        if value is None:
            continue
        parts = field.parts
        if parts[0] == "enterprise":
            name = str(parts[1])
            enterprise[name] = {MANAGER_VALUE: value} if name == MANAGER else value
        elif len(parts) == 1:
            doc[str(parts[0])] = value
        elif isinstance(parts[1], int):
            lists.setdefault(str(parts[0]), {}).setdefault(parts[1], {})[str(parts[2])] = value
        else:
            doc.setdefault(str(parts[0]), {})[str(parts[1])] = value
    for member, entries in lists.items():
        kept = [entry for _, entry in sorted(entries.items()) if any(k != "Primary" for k in entry)]
        if kept:
            doc[member] = kept
    return doc, ({ENTERPRISE_EXTENSION: enterprise} if enterprise else {})


_PATH = re.compile(r"Value (?:null |'.*' )?at '([^']+)'")


def place_problems(
    error: InvalidInput, fields: Iterable[Field]
) -> tuple[dict[str, str], list[str]]:
    """The API's validation messages by field (each beside the field it names), and those no
    field here can hold (shown above the form)."""
    fields = list(fields)
    exact = {f.problem_path: f.key for f in fields}
    first_of: dict[str, str] = {}
    for f in fields:
        first_of.setdefault(f.container, f.key)
    by_field: dict[str, str] = {}
    general: list[str] = []
    for problem in error.problems or (error.message,):
        match = _PATH.match(problem)
        path = match.group(1).lower() if match else ""
        key = exact.get(path) or first_of.get(path)
        if key is None:
            general.append(problem)
        elif key in by_field:
            by_field[key] += " " + problem
        else:
            by_field[key] = problem
    return by_field, general


# Which field a uniqueness conflict is about, by the Store's message.
_CONFLICT_FIELDS = (
    ("UserName", "UserName"),
    ("email", "Emails.0.Value"),
    ("DisplayName", "DisplayName"),
)


def refused(
    error: InvalidInput | Conflict | QuotaExceeded, fields: tuple[Field, ...]
) -> tuple[int, dict[str, str], list[str]]:
    """The status and messages (by field, and general) to show for a refused write."""
    if isinstance(error, InvalidInput):
        by_field, general = place_problems(error, fields)
        return 400, by_field, general
    if isinstance(error, Conflict) and error.reason == "UNIQUENESS_CONSTRAINT_VIOLATION":
        keys = {f.key for f in fields}
        for word, key in _CONFLICT_FIELDS:
            if word in error.message and key in keys:
                return 409, {key: error.message}, []
    return (409 if isinstance(error, Conflict) else 400), {}, [error.message]

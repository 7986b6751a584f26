"""Import and export of an identity store as JSON Lines: the format, its checks, and the load.

The format (version 1): UTF-8 text, one JSON object per line, each with a `kind`.

    {"kind": "header", "format": "idstore", "version": 1, "IdentityStoreId": "d-0123456789"}
    {"kind": "user", "UserId": "...", "UserName": "alice", ..., "UserStatus": "ENABLED",
     "Revision": "1", "CreatedAt": 1714564800.123, "CreatedBy": "...", ...}
    {"kind": "group", "GroupId": "...", "DisplayName": "Admins", ..., "Revision": "1", ...}
    {"kind": "membership", "MembershipId": "...", "GroupId": "...", "MemberId": {"UserId": "..."},
     "CreatedAt": ..., ...}

A record is what DescribeUser / DescribeGroup / DescribeGroupMembership answer for it, without
`IdentityStoreId` and the ARN (both are ignored on import, so Describe output can be pasted in):
the same member names and shapes, `ExternalIds` and `Extensions` included, timestamps in epoch
seconds. Export writes the header, then users and groups in creation order, then each group's
memberships in the order they were made, from one snapshot; the store id appears only in the
header.

Import reads the whole file first and checks every line against the service model, the same
rules CreateUser / CreateGroup apply (derived from the model, never restated here), plus
uniqueness within the file. Any problem stops it before anything is written, with the line
number. The records then go in (`Store.import_records`): a merge by id, so importing the same
file again changes nothing. By default they are committed in batches, so that a live server's
writes interleave; a failure then leaves the batches before it in the store (the message says
so; running the fixed file again completes the import). With `atomic`, one transaction: a
failure leaves the store as it was.

On import only the ids are required besides what a create requires: `UserId`, `GroupId`,
`GroupId` and `MemberId` (a membership without `MembershipId` gets a new one, and is skipped if
the pair is already a membership). To load data from elsewhere, give each user and group an id
of your choosing (a UUID). Missing `Revision` is 1, missing timestamps are the time of import
and missing authors are `actor`. Blank lines are ignored; the header is optional. A Revision is
at most `MAX_REVISION` (2^53 - 1); timestamps lie between 1970 and the end of year 9999.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import regex

from idstore.aws.attributes import ProfileSchema, UserRules
from idstore.aws.spec import Spec, load_spec
from idstore.aws.validate import Validator
from idstore.errors import Conflict, IdstoreError, NotFound, summarise
from idstore.model import (
    EXTERNAL_IDS,
    MAX_MS,
    MAX_REVISION,
    MIN_MS,
    Audit,
    GroupData,
    GroupRecord,
    IdFormat,
    Json,
    Membership,
    UserData,
    UserRecord,
    UserStatus,
    from_ms,
    new_resource_id,
    storable,
)
from idstore.store import Store
from idstore.store.bulk import (
    IMPORT_BATCH,
    BulkGroup,
    BulkMembership,
    BulkUser,
    ImportCounts,
    PartlyImported,
    RecordError,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "ImportFailed",
    "Reader",
    "Records",
    "export_lines",
    "import_records",
]

FORMAT = "idstore"
VERSION = 1

# Output members that describe a record rather than belong to it; written on export, read back.
_IGNORED = frozenset({"kind", "IdentityStoreId", "UserArn", "GroupArn", "MembershipArn"})
_AUDIT = ("CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")


class ImportFailed(Exception):
    """A line of the file cannot be imported; nothing was written, unless `done` says how many
    records (of an import in batches) were."""

    def __init__(self, line: int, message: str, done: ImportCounts | None = None) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message
        self.done = done


@dataclass
class Records:
    """A checked file: records of each kind, and the line each came from."""

    users: list[BulkUser] = field(default_factory=list)
    groups: list[BulkGroup] = field(default_factory=list)
    memberships: list[BulkMembership] = field(default_factory=list)
    lines: dict[str, list[int]] = field(
        default_factory=lambda: {"user": [], "group": [], "membership": []}
    )


class _Bad(Exception):
    """A problem with the line being read (the reader adds the line number)."""


def _seconds(at: datetime) -> float:
    return round(at.timestamp(), 3)


def _audit_json(audit: Audit) -> Json:
    return {
        "CreatedAt": _seconds(audit.created_at),
        "CreatedBy": audit.created_by,
        "UpdatedAt": _seconds(audit.updated_at),
        "UpdatedBy": audit.updated_by,
    }


# -- export ----------------------------------------------------------------------------------


def user_json(user: UserRecord) -> Json:
    """A user as a record of the format (also the CLI's `--json` view)."""
    out: Json = {"kind": "user", "UserId": user.user_id, **user.attributes}
    if user.extensions:
        out["Extensions"] = user.extensions
    out["UserStatus"] = user.status.value
    out["Revision"] = str(user.revision)
    out.update(_audit_json(user.audit))
    return out


def group_json(group: GroupRecord) -> Json:
    return {
        "kind": "group",
        "GroupId": group.group_id,
        **group.attributes,
        "Revision": str(group.revision),
        **_audit_json(group.audit),
    }


def membership_json(membership: Membership) -> Json:
    return {
        "kind": "membership",
        "MembershipId": membership.membership_id,
        "GroupId": membership.group_id,
        "MemberId": {"UserId": membership.user_id},
        **_audit_json(membership.audit),
    }


def export_lines(store: Store, store_id: str) -> Iterator[bytes]:
    """The store as lines of the format (each ending in a newline), header first."""
    header = {"kind": "header", "format": FORMAT, "version": VERSION, "IdentityStoreId": store_id}
    yield orjson.dumps(header) + b"\n"
    for record in store.export_records(store_id):
        if isinstance(record, UserRecord):
            out = user_json(record)
        elif isinstance(record, GroupRecord):
            out = group_json(record)
        else:
            out = membership_json(record)
        yield orjson.dumps(out) + b"\n"


# -- import ----------------------------------------------------------------------------------


class Reader:
    """Parses and checks lines of the format into `Records` (nothing touches the store)."""

    def __init__(
        self,
        store_id: str,
        *,
        actor: str,
        at: datetime,
        spec: Spec | None = None,
        id_format: IdFormat = IdFormat.UUID,
    ):
        self.spec = spec or load_spec()
        self._store_id = store_id
        # The store's form of id, for memberships the file gives without one.
        self._id_format = id_format
        self._actor = actor
        self._at = at
        validator = Validator(self.spec)
        self._validator = validator
        self._users = UserRules(self.spec, validator)
        self._groups = ProfileSchema(
            self.spec, validator, "CreateGroupRequest", "Group", "group", not_reserved="DisplayName"
        )
        # Ids are checked by the model's pattern directly: there are millions of them.
        id_shape = self.spec.shape("ResourceId")
        self._id_pattern = regex.compile(id_shape.metadata["pattern"])
        self._id_length = (id_shape.metadata.get("min", 1), id_shape.metadata.get("max", 100))
        self._external_ids = self.spec.shape("ExternalIds")
        self._member_keys = frozenset(self.spec.structure("MemberId").members)
        self._members = {
            kind: frozenset(self.spec.structure(shape).members) | _IGNORED
            for kind, shape in (
                ("user", "User"),
                ("group", "Group"),
                ("membership", "GroupMembership"),
            )
        }
        self._statuses = frozenset(s.value for s in UserStatus)

    def read(
        self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None
    ) -> Records:
        """Check every line; raise ImportFailed at the first bad one."""
        records = Records()
        seen = _Seen()
        for number, raw in enumerate(lines, 1):
            if progress is not None:
                progress(len(raw))
            if not raw.strip():
                continue
            try:
                self._line(raw, number, records, seen)
            except _Bad as bad:
                raise ImportFailed(number, str(bad)) from None
            except IdstoreError as error:
                raise ImportFailed(number, error.message) from None
        return records

    def _line(self, raw: bytes, number: int, records: Records, seen: _Seen) -> None:
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise _Bad(f"not valid JSON: {error}") from None
        if not isinstance(item, dict):
            raise _Bad("a line must be a JSON object")
        kind = item.get("kind")
        if kind == "header":
            if any(records.lines.values()):
                raise _Bad("the header must come before any record")
            if item.get("format") != FORMAT or item.get("version") != VERSION:
                raise _Bad(f"this is not an {FORMAT} file of version {VERSION}: {item!r:.200}")
            return
        if not isinstance(kind, str) or kind not in self._members:
            raise _Bad(f'"kind" must be "header", "user", "group" or "membership", not {kind!r}')
        unknown = sorted(set(item) - self._members[kind])
        if unknown:
            raise _Bad(f"unknown member {unknown[0]!r} in a {kind} record")
        if kind == "user":
            user = self._user(item)
            seen.user(user, number)
            records.users.append(user)
        elif kind == "group":
            group = self._group(item)
            seen.group(group, number)
            records.groups.append(group)
        else:
            membership = self._membership(item)
            seen.membership(membership, number)
            records.memberships.append(membership)
        records.lines[kind].append(number)

    # -- one record each ---------------------------------------------------------------------

    def _user(self, item: Json) -> BulkUser:
        user_id = self._id(item, "UserId")
        profile = {k: v for k, v in item.items() if k in self._users.profile.members}
        attributes, extensions = self._users.check(profile, _object(item, "Extensions"))
        attributes = self._with_external_ids(item, attributes)
        status = item.get("UserStatus", UserStatus.ENABLED.value)
        if not isinstance(status, str) or status not in self._statuses:
            raise _Bad(f"UserStatus must be one of {', '.join(sorted(self._statuses))}")
        return BulkUser.of(
            user_id,
            UserData(attributes, extensions, UserStatus(status)),
            self._revision(item),
            self._audit(item),
        )

    def _group(self, item: Json) -> BulkGroup:
        group_id = self._id(item, "GroupId")
        problems: list[str] = []
        profile = {k: v for k, v in item.items() if k in self._groups.members}
        attributes = self._groups.check(profile, problems)
        if problems:
            raise _Bad(summarise(problems))
        attributes = self._with_external_ids(item, attributes)
        return BulkGroup.of(
            group_id, GroupData(attributes), self._revision(item), self._audit(item)
        )

    def _membership(self, item: Json) -> BulkMembership:
        group_id = self._id(item, "GroupId")
        member = _required(item, "MemberId")
        if not isinstance(member, dict) or set(member) - self._member_keys:
            raise _Bad(f"MemberId must be an object with {', '.join(sorted(self._member_keys))}")
        user_id = self._checked_id(member.get("UserId"), "MemberId.UserId")
        membership_id = (
            self._id(item, "MembershipId")
            if "MembershipId" in item
            else new_resource_id(self._store_id, self._id_format)
        )
        return BulkMembership(membership_id, group_id, user_id, self._audit(item))

    # -- members -----------------------------------------------------------------------------

    def _id(self, item: Json, name: str) -> str:
        return self._checked_id(_required(item, name), name)

    def _checked_id(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise _Bad(f"{name} must be a string")
        low, high = self._id_length
        if value.startswith("arn:") or not (
            low <= len(value) <= high and self._id_pattern.fullmatch(value)
        ):
            raise _Bad(f"{name} must be a user, group or membership id, not {value!r:.120}")
        return value.lower()

    def _with_external_ids(self, item: Json, attributes: Json) -> Json:
        """The profile with the record's checked ExternalIds, members in the file's order (so
        that an export imported elsewhere exports byte for byte the same)."""
        value = item.get(EXTERNAL_IDS)
        if value is None or value == []:
            return attributes
        ids = self._validator.check(self._external_ids, value, "externalIds")
        return {
            k: ids if k == EXTERNAL_IDS else attributes[k]
            for k in item
            if k == EXTERNAL_IDS or k in attributes
        }

    @staticmethod
    def _revision(item: Json) -> int:
        value = item.get("Revision", "1")
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        # ASCII digits only ("²".isdigit() is true), and few enough to convert cheaply.
        digits = text.isascii() and text.isdigit() and len(text) <= len(str(MAX_REVISION))
        if not digits or not 1 <= int(text) <= MAX_REVISION:
            raise _Bad(
                f"Revision must be an integer from 1 to {MAX_REVISION} (as a string), "
                f"not {value!r:.50}"
            )
        return int(text)

    def _audit(self, item: Json) -> Audit:
        times = []
        for name in ("CreatedAt", "UpdatedAt"):
            value = item.get(name)
            if value is None:
                times.append(self._at)
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _Bad(f"{name} must be a number (seconds since the epoch)")
            ms = round(value * 1000)  # orjson reads no NaN or infinity
            if not MIN_MS <= ms <= MAX_MS:
                raise _Bad(
                    f"{name} must be between 0 (1970-01-01T00:00:00Z) and "
                    f"{MAX_MS / 1000:.3f} (9999-12-31T23:59:59.999Z) seconds, not {value!r:.50}"
                )
            times.append(from_ms(ms))
        authors = []
        for name in ("CreatedBy", "UpdatedBy"):
            value = item.get(name, self._actor)
            if not isinstance(value, str) or not value or not storable(value):
                raise _Bad(f"{name} must be a non-empty string (of Unicode text, with no NUL)")
            authors.append(value)
        return Audit.of(times[0], authors[0], times[1], authors[1])


def _required(item: Json, name: str) -> Any:
    if item.get(name) is None:
        raise _Bad(f"{name} is required")
    return item[name]


def _object(item: Json, name: str) -> Json:
    value = item.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{name} must be a JSON object")
    return value


class _Seen:
    """The unique keys met so far in the file, with their lines, to report duplicates."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, ...], int] = {}

    def _claim(self, key: tuple[str, ...], line: int, what: str) -> None:
        first = self._keys.setdefault(key, line)
        if first != line:
            raise _Bad(f"{what} is also on line {first}")

    def user(self, user: BulkUser, line: int) -> None:
        self._claim(("user", user.user_id), line, f"UserId {user.user_id}")
        self._claim(("user-name", user.user_name_key), line, "this UserName")
        if user.email_key is not None:
            self._claim(("email", user.email_key), line, "this email address")
        for key in user.external_id_keys:
            self._claim(("user-xid", key), line, "this user ExternalId")

    def group(self, group: BulkGroup, line: int) -> None:
        self._claim(("group", group.group_id), line, f"GroupId {group.group_id}")
        if group.display_name_key is not None:
            self._claim(("group-name", group.display_name_key), line, "this DisplayName")
        for key in group.external_id_keys:
            self._claim(("group-xid", key), line, "this group ExternalId")

    def membership(self, m: BulkMembership, line: int) -> None:
        self._claim(("membership", m.membership_id), line, f"MembershipId {m.membership_id}")
        self._claim(("pair", m.group_id, m.user_id), line, "this GroupId and MemberId")


def import_records(
    store: Store,
    store_id: str,
    records: Records,
    *,
    progress: Callable[[int], None] | None = None,
    atomic: bool = False,
    create_at: datetime | None = None,
) -> ImportCounts:
    """Write checked records, in batches (or, `atomic`, in one transaction), creating the
    store in the first of them if it is missing and `create_at` is given; ImportFailed names
    the line at fault."""
    try:
        return store.import_records(
            store_id,
            records.users,
            records.groups,
            records.memberships,
            progress=progress,
            batch=None if atomic else IMPORT_BATCH,
            create_at=create_at,
        )
    except PartlyImported as stopped:
        if isinstance(stopped.error, RecordError | Conflict):
            raise _explained(store, store_id, records, stopped.error, stopped.done) from None
        raise
    except (RecordError, Conflict) as error:
        raise _explained(store, store_id, records, error, None) from None


def _explained(
    store: Store,
    store_id: str,
    records: Records,
    error: RecordError | Conflict,
    done: ImportCounts | None,
) -> ImportFailed:
    if isinstance(error, RecordError):
        return _failed(records, error, done)
    culprit = store.find_conflict(store_id, records.users, records.groups, records.memberships)
    if culprit is None:
        return ImportFailed(
            0, f"{error.message} (records in the file swap unique values between them?)", done
        )
    return _failed(records, culprit, done)


def _failed(records: Records, error: RecordError, done: ImportCounts | None) -> ImportFailed:
    line = records.lines[error.kind][error.index]
    return ImportFailed(line, f"{_code(error.error)}: {error.message}", done)


def _code(error: IdstoreError) -> str:
    if isinstance(error, NotFound):
        return "ResourceNotFoundException"
    return "ConflictException" if isinstance(error, Conflict) else type(error).__name__

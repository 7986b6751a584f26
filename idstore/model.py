"""The domain: identity stores, users, groups and memberships, as plain Python values.

Design. A user's or group's *profile* (everything a client sets: names, e-mails, addresses,
photos, ...) is one JSON object shaped exactly like the botocore service model's `User` / `Group`
members (`UserName`, `Name.GivenName`, `Emails[].Value`). The service model is the schema of
that document; nothing here restates its ~20 members, so a member added to the model flows
through untouched, and the AWS read path can splice the stored JSON into a response without
re-encoding it. The SCIM front end maps onto the same document.

What the store must understand is pulled out as typed fields on the records below: ids,
the Revision counter, status, external ids, timestamps and authors, and the normalised keys
(`user_name_key`, `email_key`, `display_name_key`) that back the uniqueness indexes.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, TypeVar

import orjson

# Members of the profile document the domain itself relies on (the rest are opaque to it).
USER_NAME = "UserName"
DISPLAY_NAME = "DisplayName"
EMAILS = "Emails"
VALUE = "Value"
EXTERNAL_IDS = "ExternalIds"
ISSUER = "Issuer"
ID = "Id"

# The one extension AWS supports, holding the SCIM enterprise-user attributes (RFC 7643 §4.3)
# that Identity Center keeps; `manager` is an object `{"value": <user id>}`.
ENTERPRISE_EXTENSION = "aws:identitystore:enterprise"
ENTERPRISE_ATTRIBUTES = (
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
)
MANAGER = "manager"
MANAGER_VALUE = "value"

# Reserved for IAM Identity Center itself; compared case-insensitively
# (docs/behaviour.md#validation).
RESERVED_NAMES = frozenset({"administrator", "awsadministrators"})

Json = dict[str, Any]
T = TypeVar("T")


class UserStatus(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


# Unique keys longer than this many UTF-8 bytes are stored as a digest: PostgreSQL cannot index
# arbitrarily long text, and a 1,024-character display name can be 4 KiB.
_MAX_KEY_BYTES = 256


def _bounded(key: str) -> str:
    # surrogatepass: a lone surrogate (which no stored key holds) measures, and finds nothing.
    raw = key.encode("utf-8", "surrogatepass")
    if len(raw) <= _MAX_KEY_BYTES:
        return key
    # \x01 cannot occur in a modelled value, so a digest never equals a short key.
    return "\x01sha256:" + hashlib.sha256(raw).hexdigest()


def normalise_key(value: str) -> str:
    """The key for case-insensitive uniqueness and lookups (canonical caseless match)."""
    return _bounded(unicodedata.normalize("NFC", unicodedata.normalize("NFD", value).casefold()))


def external_id_key(external_id: ExternalId) -> str:
    """The key for an (Issuer, Id) pair, which matches exactly."""
    return _bounded(f"{external_id.issuer}\x1f{external_id.id}")


def is_reserved_name(value: str) -> bool:
    return value.casefold() in RESERVED_NAMES


def now() -> datetime:
    """The current time, truncated to the millisecond precision the store keeps."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(at: datetime) -> int:
    """Milliseconds since the epoch: how timestamps are stored. Integer arithmetic, so exact
    for every datetime (floats lose the last millisecond far from 1970); floored, so 1 µs
    before the epoch is -1."""
    return (at - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The instant `ms` milliseconds after the epoch (exactly; see `to_ms`)."""
    return _EPOCH + ms * _MS


# What a stored timestamp may be: from the epoch to the last millisecond of year 9999 (the
# range every client parses; before 1970 nothing in an identity store was created).
MIN_MS = 0
MAX_MS = to_ms(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC))

# The largest Revision a record may be given (on import): the largest integer every JSON
# client reads exactly. Updates add one each, and the store's BIGINT holds 2^63 - 1, so a
# record can be updated another 9.2e18 times (290,000 years at a million a second).
MAX_REVISION = 2**53 - 1


def storable(text: str) -> bool:
    """Whether `text` can be a stored value on every database: no NUL (PostgreSQL text cannot
    hold it) and no lone surrogate (not UTF-8). No such text equals any stored value."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def new_store_id() -> str:
    """`d-` followed by 10 lower-case hex digits, as AWS issues them."""
    return "d-" + secrets.token_hex(5)


def instance_id(store_id: str) -> str:
    """The Identity Center instance id of a store: `ssoins-` and the first 64 bits of SHA-256
    over the store id, so a store has the same one on every server and after an export and
    import (docs/identity-center.md). Stored with the store, indexed, for the reverse look-up."""
    digest = hashlib.sha256(b"idstore instance\x00" + store_id.encode()).hexdigest()
    return f"ssoins-{digest[:16]}"


class IdFormat(StrEnum):
    """How a store spells the ids it issues to users, groups and memberships (chosen when the
    store is created; see docs/compatibility.md). Both forms are accepted everywhere, whatever
    the store issues."""

    # A bare UUID (uuid4), as current AWS stores and moto issue them: `uuid.UUID(id)` works.
    UUID = "uuid"
    # `<10 hex of the store id>-<uuid4>`, as older AWS stores issue them.
    PREFIXED = "prefixed"


def new_resource_id(store_id: str, id_format: IdFormat = IdFormat.UUID) -> str:
    """A new user, group or membership id in the store's format."""
    if id_format is IdFormat.UUID:
        return str(uuid.uuid4())
    prefix = store_id[2:12] if store_id.startswith("d-") else store_id.replace("-", "")[:10]
    return f"{prefix}-{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class ExternalId:
    issuer: str
    id: str


@dataclass(frozen=True, slots=True)
class Audit:
    """Who created and last changed a record, and when (milliseconds since the epoch, as the
    store keeps them: reads render them without a round trip through datetime)."""

    created_ms: int
    created_by: str
    updated_ms: int
    updated_by: str

    @classmethod
    def new(cls, actor: str, at: datetime) -> Audit:
        ms = to_ms(at)
        return cls(ms, actor, ms, actor)

    @classmethod
    def of(
        cls, created_at: datetime, created_by: str, updated_at: datetime, updated_by: str
    ) -> Audit:
        return cls(to_ms(created_at), created_by, to_ms(updated_at), updated_by)

    def touched(self, actor: str, at: datetime) -> Audit:
        return Audit(self.created_ms, self.created_by, to_ms(at), actor)

    @property
    def created_at(self) -> datetime:
        return from_ms(self.created_ms)

    @property
    def updated_at(self) -> datetime:
        return from_ms(self.updated_ms)


@dataclass(frozen=True, slots=True)
class IdentityStore:
    store_id: str
    seq: int
    created_at: datetime
    # The model's NetworkConfiguration document, or None when unrestricted.
    network_configuration: Json | None = None
    user_count: int = 0
    group_count: int = 0
    id_format: IdFormat = IdFormat.UUID


def _loads(text: str | None) -> Json:
    return orjson.loads(text) if text else {}


def _external_ids(attributes: Json) -> tuple[ExternalId, ...]:
    return tuple(
        ExternalId(item[ISSUER], item[ID])
        for item in attributes.get(EXTERNAL_IDS) or ()
        if isinstance(item, dict) and ISSUER in item and ID in item
    )


@dataclass(frozen=True)
class UserData:
    """What a writer supplies for a user: the profile document, extensions and status."""

    attributes: Json
    extensions: Json = field(default_factory=dict)
    status: UserStatus = UserStatus.ENABLED

    @property
    def user_name_key(self) -> str:
        return normalise_key(self.attributes.get(USER_NAME) or "")

    @property
    def email_key(self) -> str | None:
        """The normalised e-mail address, or None when the user has none (AWS allows that)."""
        emails = self.attributes.get(EMAILS) or []
        value = emails[0].get(VALUE) if emails and isinstance(emails[0], dict) else None
        return normalise_key(value) if isinstance(value, str) and value else None

    @property
    def external_ids(self) -> tuple[ExternalId, ...]:
        return _external_ids(self.attributes)


@dataclass(frozen=True)
class UserRecord:
    """A stored user. The profile stays JSON text until someone needs it parsed."""

    store_id: str
    user_id: str
    seq: int
    revision: int
    status: UserStatus
    audit: Audit
    attributes_json: str
    extensions_json: str | None

    @cached_property
    def attributes(self) -> Json:
        return _loads(self.attributes_json)

    @cached_property
    def extensions(self) -> Json:
        return _loads(self.extensions_json)

    def data(self) -> UserData:
        """The writable part, as a starting point for an update."""
        return UserData(dict(self.attributes), dict(self.extensions), self.status)


@dataclass(frozen=True)
class GroupData:
    attributes: Json

    @property
    def display_name_key(self) -> str | None:
        value = self.attributes.get(DISPLAY_NAME)
        return normalise_key(value) if isinstance(value, str) and value else None

    @property
    def external_ids(self) -> tuple[ExternalId, ...]:
        return _external_ids(self.attributes)


@dataclass(frozen=True)
class GroupRecord:
    store_id: str
    group_id: str
    seq: int
    revision: int
    audit: Audit
    attributes_json: str

    @cached_property
    def attributes(self) -> Json:
        return _loads(self.attributes_json)

    def data(self) -> GroupData:
        return GroupData(dict(self.attributes))


@dataclass(frozen=True, slots=True)
class Membership:
    store_id: str
    membership_id: str
    seq: int
    group_id: str
    user_id: str
    audit: Audit


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated listing; `after` is the cursor for the next page."""

    items: list[T]
    after: int | None


def dump_json(value: Mapping[str, Any]) -> str:
    return orjson.dumps(value).decode()

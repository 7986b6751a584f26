"""Protocol-neutral domain errors, raised by the store and the front ends.

Each front end maps these to its own wire format in exactly one table (`aws/protocol.py`,
`scim/endpoints.py`); domain code never builds an error body.

    IdstoreError                    base; never raised itself
    ├── InvalidInput                the request breaks a rule (AWS ValidationException, SCIM 400)
    │   └── MalformedRequest        not parseable: bad JSON, wrong type (SerializationException)
    ├── UnknownOperation            no such operation (AWS UnknownOperationException)
    ├── NotFound                    a named resource does not exist; carries resource_type and id
    ├── Conflict                    uniqueness or revision precondition failed; carries reason
    ├── AccessDenied                authenticated, but not allowed
    ├── QuotaExceeded               users or groups per store at their limit
    ├── Throttled                   rate limit hit; carries retry_after seconds
    ├── Unauthenticated             no or bad credentials; carries the AWS error code to report
    └── InternalError               a fault of ours (the only 5xx)
        └── Unavailable             the database is busy or unreachable; retry after N seconds
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

ResourceType = Literal["USER", "GROUP", "GROUP_MEMBERSHIP", "IDENTITY_STORE"]
ConflictReason = Literal["UNIQUENESS_CONSTRAINT_VIOLATION", "CONCURRENT_MODIFICATION"]


class IdstoreError(Exception):
    """Base of every error idstore reports to a client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(IdstoreError):
    """The request is well-formed but breaks a validation rule. `problems`: each rule broken,
    when the message summarises several (the console shows each beside its field)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


def summarise(problems: list[str]) -> str:
    """Validation problems as one message, in AWS's wording (`2 validation errors detected:
    Value at 'userName' failed to satisfy constraint: ...; ...`)."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(problems)


class MalformedRequest(InvalidInput):
    """The request cannot be parsed: not JSON, not an object, or a member of the wrong type."""


class UnknownOperation(IdstoreError):
    """The request names an operation the service does not have."""


class NotFound(IdstoreError):
    """A resource named by the request does not exist."""

    def __init__(self, resource_type: ResourceType, resource_id: str, message: str = "") -> None:
        super().__init__(message or _not_found_message(resource_type, resource_id))
        self.resource_type: ResourceType = resource_type
        self.resource_id = resource_id


class Conflict(IdstoreError):
    """A uniqueness rule or a Revision precondition failed; nothing was changed."""

    def __init__(self, reason: ConflictReason, message: str) -> None:
        super().__init__(message)
        self.reason: ConflictReason = reason


class AccessDenied(IdstoreError):
    """The caller is known but may not do this (wrong store, read-only key, source IP)."""


class QuotaExceeded(IdstoreError):
    """The request would exceed the number of users or groups allowed in the store."""


class Throttled(IdstoreError):
    """Too many requests for this store and operation; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthenticated(IdstoreError):
    """The request carries no usable credentials; `code` is the AWS error code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InternalError(IdstoreError):
    """A fault on our side. Never used for bad input."""


class Unavailable(InternalError):
    """The request could not be served in time (the database's write lock stayed taken past
    the deadline, a connection could not be had, or a commit's outcome is unknown), and
    nothing was changed: retrying after `retry_after` seconds is safe."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_NOUNS: dict[ResourceType, str] = {
    "USER": "User",
    "GROUP": "Group",
    "GROUP_MEMBERSHIP": "GroupMembership",
    "IDENTITY_STORE": "IdentityStore",
}


def _not_found_message(resource_type: ResourceType, resource_id: str) -> str:
    if resource_type == "IDENTITY_STORE":
        return f"IdentityStore not present for IdentityStoreId: {resource_id}"
    if not resource_id:  # a lookup by another attribute found nothing
        return f"No {_NOUNS[resource_type]} matches the given identifier."
    return f"{_NOUNS[resource_type]} not found: {resource_id}"

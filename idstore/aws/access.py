"""Who is calling, and what they may do: the caller as a `Principal`, and `authorize`.

Local mode (`--auth none`, the default on loopback) accepts any request, like moto and
LocalStack do, and still attributes it: the principal is
`arn:aws:iam::<account>:user/<access key id the request was signed with>`, or the account's
root ARN when it carries none (docs/behaviour.md#other-fields). SigV4 mode (`aws/sigv4.py`) yields
the principal of a verified access key, limited to its identity stores and, for a read-only key, to
the reading operations: those whose model names start with Describe, Get or List, and
IsMemberInGroups. As in IAM, the rights are checked before the request is validated or any resource
looked up, so a key learns nothing about stores it may not use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

from idstore import errors, wire

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class Principal:
    arn: str
    access_key_id: str | None = None
    # The identity stores this caller may use (None: any), and whether it may only read.
    stores: frozenset[str] | None = None
    read_only: bool = False


def access_key_id(request: wire.Request) -> str | None:
    """The access key id a request was signed with (header or presigned query), if any."""
    match = _CREDENTIAL.search(request.headers.get("authorization", ""))
    if match:
        return match.group(1)
    if "X-Amz-Credential" in request.query:
        values = parse_qs(request.query).get("X-Amz-Credential")
        if values and "/" in values[0]:
            return values[0].split("/", 1)[0]
    return None


class OpenAccess:
    """Accept every request; attribute it to the access key id it carries."""

    def __init__(self, account_id: str) -> None:
        self._account_id = account_id

    def authenticate(self, request: wire.Request, service: str = "identitystore") -> Principal:
        key = access_key_id(request)
        if key is None:
            return Principal(f"arn:aws:iam::{self._account_id}:root")
        return Principal(f"arn:aws:iam::{self._account_id}:user/{key}", key)


_READING = ("Describe", "Get", "List")


def reading_operations(names: Iterable[str]) -> frozenset[str]:
    """The operations a read-only key may call, among the model's operation `names`."""
    return frozenset(n for n in names if n.startswith(_READING) or n == "IsMemberInGroups")


def authorize(
    principal: Principal,
    operation: str,
    store_id: str | None,
    *,
    reading: frozenset[str],
    scoped: frozenset[str],
) -> None:
    """AccessDenied unless `principal` may call `operation` on identity store `store_id`.

    `reading` are the operations a read-only key may call; `scoped` those that name a store
    (a key limited to some stores may call them only with one of its stores).
    """
    if principal.read_only and operation not in reading:
        raise errors.AccessDenied(
            f"User: {principal.arn} is not authorized to perform: identitystore:{operation} "
            "(its access key is read-only)."
        )
    if principal.stores is None or operation not in scoped or store_id in principal.stores:
        return
    shown = "an identity store it does not name" if store_id is None else store_id[:64]
    raise errors.AccessDenied(
        f"User: {principal.arn} is not authorized to perform: identitystore:{operation} "
        f"on identity store {shown}."
    )

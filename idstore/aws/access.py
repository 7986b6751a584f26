"""Who is calling, and what they may do: the caller as a `Principal`.

Local mode (`--auth none`, the default on loopback) accepts any request, like moto and
LocalStack do, and still attributes it: the principal is
`arn:aws:iam::<account>:user/<access key id the request was signed with>`, or the account's
root ARN when it carries none (SPEC §9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from idstore import wire

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

    def authenticate(self, request: wire.Request) -> Principal:
        key = access_key_id(request)
        if key is None:
            return Principal(f"arn:aws:iam::{self._account_id}:root")
        return Principal(f"arn:aws:iam::{self._account_id}:user/{key}", key)

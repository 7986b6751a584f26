"""SCIM cursor paging (RFC 9865), as AWS's SCIM endpoint offers it beside `startIndex` here.

A list request with a `cursor` parameter (empty for the first page; in a `/.search` body, a
`"cursor"` member) is answered with up to `count` resources (1 to 100, 100 by default: AWS's
range; RFC 9865 lets 0 return only `totalResults`) and, unless it is the last page,
`nextCursor`; the request for the next page repeats every parameter with the cursor changed.
The response has `totalResults` and `itemsPerPage` and no `startIndex`.

Pages are keyset pages in creation order (`seq`): a cursor holds the position after the last
resource returned (for the root endpoint, also whether the users are done and the groups
begun), so a walk is stable under concurrent writes: a resource that existed and was not
deleted for the whole walk is returned exactly once, whatever is created or deleted meanwhile.
Cursors never expire (no `cursorTimeout`).

A cursor is opaque: `urlsafe-base64(version, phase, position, HMAC)`, only RFC 3986 unreserved
characters, as RFC 9865 §2 asks. The HMAC (a server-wide key from the settings table, its own,
not the AWS NextToken's) binds it to the identity store, the endpoint and the filter text it was
issued for, so a cursor that was altered, forged, or replayed against another store or filter
is `400 invalidCursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from idstore.model import GroupRecord, UserRecord
from idstore.scim.problems import InvalidCursor

_VERSION = 1
_MAC_BYTES = 16
_SIZE = 2 + 8 + _MAC_BYTES

USERS, GROUPS = 0, 1


class Position(NamedTuple):
    """Where the next page starts: after `after` (a seq) among the resources of `phase`."""

    phase: int
    after: int


@dataclass(frozen=True)
class CursorPage:
    total: int
    users: list[UserRecord]
    groups: list[GroupRecord]
    next: Position | None


class Cursors:
    """Issues and verifies cursors with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: bytes, binding: tuple[str, ...]) -> bytes:
        message = payload + b"\x1f" + "\x1f".join(binding).encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, position: Position, *binding: str) -> str:
        payload = bytes((_VERSION, position.phase)) + position.after.to_bytes(8, "big")
        raw = payload + self._mac(payload, binding)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def verify(self, cursor: str, *binding: str) -> Position:
        """The position a cursor holds, if it was issued for this same store, endpoint and
        filter."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if (
            len(raw) == _SIZE
            and raw[0] == _VERSION
            and raw[1] in (USERS, GROUPS)
            and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == cursor  # one spelling
            and hmac.compare_digest(self._mac(raw[:10], binding), raw[10:])
        ):
            return Position(raw[1], int.from_bytes(raw[2:10], "big"))
        raise InvalidCursor(
            "The cursor is not valid for this request: pass back a nextCursor exactly as "
            "returned, with the same filter, to the same endpoint (an empty cursor starts over)."
        )


# fetch(phase, after, limit) -> (up to `limit` resources after `after`, whether more follow)
Fetch = Callable[[int, int, int], tuple[list[UserRecord] | list[GroupRecord], bool]]


def walk(
    phases: tuple[int, ...],
    totals: dict[int, int],
    start: Position | None,
    count: int,
    fetch: Fetch,
) -> CursorPage:
    """One page of a walk over `phases` (users, then groups, for the root endpoint)."""
    users: list[UserRecord] = []
    groups: list[GroupRecord] = []
    total = sum(totals[p] for p in phases)
    if count <= 0:
        return CursorPage(total, users, groups, None)
    phase, after = start if start is not None else Position(phases[0], 0)
    remaining = count
    following = [p for p in phases if p >= phase]
    for index, current in enumerate(following):
        items, more = fetch(current, after if current == phase else 0, remaining)
        if current == USERS:
            users.extend(items)  # type: ignore[arg-type]
        else:
            groups.extend(items)  # type: ignore[arg-type]
        remaining -= len(items)
        if more:
            return CursorPage(total, users, groups, Position(current, items[-1].seq))
        rest = following[index + 1 :]
        if remaining == 0:
            # This phase is done; another page only if a later phase has anything to show.
            later = next((p for p in rest if totals[p] > 0), None)
            return CursorPage(total, users, groups, None if later is None else Position(later, 0))
    return CursorPage(total, users, groups, None)

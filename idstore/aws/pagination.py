"""NextToken: an opaque, signed, request-bound keyset cursor.

A token carries the position after which the next page starts (the `seq` of the last item
returned) and is bound, by an HMAC, to the operation, the identity store and the filter it was
issued for. Listings are keyset-paginated, so a token never goes stale: items inserted or
deleted between pages are simply seen or not seen, and nothing that existed for the whole walk
is skipped or repeated. A token that does not verify, or is presented with another request,
is a ValidationException.

The format stays within the model's pattern `[-a-zA-Z0-9+=/:_]*`:
`v1:<position, base36>:<urlsafe base64 of the first 18 bytes of the HMAC-SHA256>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from idstore.errors import InvalidInput

_VERSION = "v1"


class Tokens:
    """Issues and verifies NextTokens with one server-wide key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, position: str, binding: tuple[str, ...]) -> str:
        message = "\x1f".join((_VERSION, position, *binding)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def issue(self, after: int, *binding: str) -> str:
        position = _base36(after)
        return f"{_VERSION}:{position}:{self._mac(position, binding)}"

    def verify(self, token: str, *binding: str) -> int:
        """The position a token carries, if it was issued for this same request."""
        parts = token.split(":")
        if len(parts) == 3 and parts[0] == _VERSION and parts[1].isascii() and parts[1].isalnum():
            expected = self._mac(parts[1], binding).encode()
            if hmac.compare_digest(expected, parts[2].encode()):
                return int(parts[1], 36)
        raise InvalidInput(
            "The NextToken is not valid for this request: pass back the NextToken exactly as "
            "returned, with the same IdentityStoreId and filters."
        )


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out

"""NextToken: an opaque, sealed, request-bound keyset cursor.

A token carries the position after which the next page starts (the `seq` of the last item
returned). That position is a row number shared by every identity store of the database, so
it must not be readable: a client limited to one store could otherwise count the writes made
in the others. The token is therefore the position sealed with AES-SIV (RFC 5297, from
`cryptography`) under a server-wide key, with the operation, the identity store and the
filter it was issued for as associated data. Nothing in it can be read without the key, and
a token presented with another request, or altered in any way, does not open: it is a
ValidationException.

AES-SIV rather than AES-GCM: it is deterministic, so the same page of the same listing always
yields the same token (tokens stay stable, and can be compared or cached by clients), and it
needs no nonce that could repeat. Equal tokens reveal only equal positions within one binding.
Listings stay keyset-paginated on `seq`, so a token never goes stale: items inserted or deleted
between pages are simply seen or not seen, and nothing that existed for the whole walk is
skipped or repeated.

The format stays within the model's pattern `[-a-zA-Z0-9+=/:_]*`:
`v2:<urlsafe base64, unpadded, of the 16-byte SIV and the 8-byte sealed position>`.
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idstore.errors import InvalidInput

_VERSION = "v2"
# 16 bytes of SIV and 8 of position: 32 base64 characters, no padding, no spare bits (so no
# second spelling of a token opens).
_FORMAT = re.compile(_VERSION + r":([A-Za-z0-9_-]{32})")


class Tokens:
    """Issues and opens NextTokens with one server-wide key."""

    def __init__(self, key: bytes) -> None:
        # A key of its own for tokens (AES-256-SIV takes 64 bytes), derived from the setting.
        derived = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"idstore NextToken v2"
        ).derive(key)
        self._siv = AESSIV(derived)

    @staticmethod
    def _binding(binding: tuple[str, ...]) -> list[bytes]:
        # Each value with its length before it: unambiguous whatever the values contain.
        parts = [v.encode("utf-8", "surrogatepass") for v in (_VERSION, *binding)]
        return [b"".join(len(p).to_bytes(4, "big") + p for p in parts)]

    def issue(self, after: int, *binding: str) -> str:
        sealed = self._siv.encrypt(after.to_bytes(8, "big"), self._binding(binding))
        return f"{_VERSION}:{base64.urlsafe_b64encode(sealed).decode()}"

    def verify(self, token: str, *binding: str) -> int:
        """The position a token carries, if it was issued for this same request."""
        match = _FORMAT.fullmatch(token)
        if match is not None:
            sealed = base64.urlsafe_b64decode(match.group(1))
            try:
                return int.from_bytes(self._siv.decrypt(sealed, self._binding(binding)), "big")
            except InvalidTag:
                pass
        raise InvalidInput(
            "The NextToken is not valid for this request: pass back the NextToken exactly as "
            "returned, with the same IdentityStoreId and filters."
        )

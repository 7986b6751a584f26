"""SCIM bearer tokens: making them, and checking the one a request carries.

A token is 32 random bytes (URL-safe base64) behind a recognisable prefix, so secret scanners
can spot a leaked one. Only its SHA-256 digest is stored: the token has 256 bits of entropy, so
an unsalted fast hash is the right tool (as for GitHub's tokens), and it lets the lookup be one
unique-index probe. The token is shown once, by `idstore scim-tokens create`.

As in IAM Identity Center: at most two active tokens per identity store (create a second one,
move the IdP to it, delete the first), valid for one year by default. A token is bound to its
store: presented at another store's URL, it is refused exactly like a wrong token (401), so a
caller learns nothing about other stores.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from idstore import wire
from idstore.errors import Unauthenticated
from idstore.store import Store
from idstore.store.tokens import ScimToken

PREFIX = "idstore_scim_"
MAX_ACTIVE = 2
DEFAULT_LIFETIME = timedelta(days=365)

_UNAUTHORIZED = "UnauthorizedException"


def digest(token: str) -> str:
    """The stored form of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    store: Store, store_id: str, *, at: datetime, lifetime: timedelta = DEFAULT_LIFETIME
) -> tuple[str, ScimToken]:
    """A new token for `store_id` (QuotaExceeded if it has MAX_ACTIVE live ones)."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = store.create_scim_token(
        store_id,
        str(uuid.uuid4()),
        digest(token),
        at=at,
        expires_at=at + lifetime,
        max_active=MAX_ACTIVE,
    )
    return token, record


class RefusedToken(Unauthenticated):
    """A bearer token refused (401). `reason` says why, for the request log only (clients are
    told the same for every reason): missing, malformed, unknown, other_store or expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(_UNAUTHORIZED, message)
        self.reason = reason


_INVALID = (
    "The bearer token is not valid for this identity store (unknown, deleted, expired, or "
    "issued for another store)."
)


def authenticate(store: Store, request: wire.Request, store_id: str, at: datetime) -> ScimToken:
    """The live token of `store_id` that the request's `Authorization: Bearer` carries."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        reason = "malformed" if header else "missing"
        raise RefusedToken(reason, "The Authorization header is missing or invalid.")
    found = store.find_scim_token(digest(token))
    if found is None:
        raise RefusedToken("unknown", _INVALID)
    if found.store_id != store_id:
        raise RefusedToken("other_store", _INVALID)
    if not found.active(at):
        raise RefusedToken("expired", _INVALID)
    return found

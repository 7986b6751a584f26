"""Console sessions: signed cookies, and the CSRF token bound to each.

A session is the access key it was signed in with (none before sign-in, and in local mode),
when it was issued, when it expires, and a random nonce. The cookie carries those in the clear
with an HMAC-SHA256 under the console's secret, so any server process on the same database
accepts it and none keeps session state. What the cookie cannot say is whether the key still
exists, or has signed out since: the service checks that on every request (see service.py).

Every visitor gets a session, signed in or not, so that every form (the sign-in form too)
carries a CSRF token: an HMAC of the session's nonce under the same secret, compared in
constant time. Signing in issues a new session (new nonce), so a token or cookie planted
before sign-in is worth nothing after it.

The cookie is `HttpOnly`, `SameSite=Strict`, scoped to `/console/`, and `Secure` when the
console is served over TLS.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "idstore_console"
PATH = "/console/"
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session; `key_id` None until it signs in (or in local mode)."""

    key_id: str | None
    issued: int  # milliseconds since the epoch
    expires: int
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Makes, signs and checks sessions under one secret."""

    def __init__(
        self, secret: bytes, lifetime: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._mac_key = hmac.digest(secret, b"idstore console session", "sha256")
        self._csrf_key = hmac.digest(secret, b"idstore console csrf", "sha256")
        self.lifetime = lifetime
        self._clock = clock

    def new(self, key_id: str | None) -> Session:
        issued = int(self._clock() * 1000)
        return Session(key_id, issued, issued + self.lifetime * 1000, secrets.token_urlsafe(18))

    def encode(self, session: Session) -> str:
        fields = [_VERSION, session.key_id or "", str(session.issued), str(session.expires)]
        payload = "\n".join([*fields, session.nonce]).encode()
        mac = hmac.digest(self._mac_key, payload, "sha256")
        return f"{_b64(payload)}.{_b64(mac)}"

    def decode(self, value: str) -> Session | None:
        """The session a cookie value carries, if it is ours, intact and unexpired."""
        head, _, tail = value.partition(".")
        try:
            payload, mac = _unb64(head), _unb64(tail)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(hmac.digest(self._mac_key, payload, "sha256"), mac):
            return None
        parts = payload.decode("utf-8", "replace").split("\n")
        if len(parts) != 5 or parts[0] != _VERSION:
            return None
        _, key_id, issued, expires, nonce = parts
        if not (issued.isdigit() and expires.isdigit()) or int(expires) <= self._clock() * 1000:
            return None
        return Session(key_id or None, int(issued), int(expires), nonce)

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.digest(self._csrf_key, session.nonce.encode(), "sha256"))

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session).encode(), token.encode())

    def cookie(self, session: Session | None, *, secure: bool) -> str:
        """The Set-Cookie value for `session` (None: delete the cookie)."""
        value, age = ("", 0) if session is None else (self.encode(session), self.lifetime)
        flags = f"Path={PATH}; Max-Age={age}; HttpOnly; SameSite=Strict"
        return f"{COOKIE}={value}; {flags}{'; Secure' if secure else ''}"


def cookie_value(header: str) -> str | None:
    """Our cookie's value in a Cookie header, if present."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def derive_secret(material: bytes) -> bytes:
    """The console's secret from other key material (the server key), for this use only."""
    return hmac.digest(material, b"idstore console v1", "sha256")

"""The server key: it encrypts access keys' secrets at rest, and lives outside the database.

SigV4 proves possession of a secret with an HMAC, so the server needs each secret itself, not a
digest of it. Each secret is therefore sealed with AES-256-GCM under one 256-bit server key that
never enters the database, with the access key id as associated data (a sealed secret copied
into another row does not open). A copy of the database alone yields no usable secret.

Where the key comes from, first found:

1. `Config.server_key`: the key itself, base64 (`IDSTORE_SERVER_KEY`);
2. `Config.server_key_file` (`--server-key-file`, `IDSTORE_SERVER_KEY_FILE`);
3. a file beside the SQLite database (`idstore.db` → `idstore.db.key`), or, for PostgreSQL,
   `idstore-server.key` in the working directory.

A missing file is generated on first use: written to a temporary file with mode 0600 and
linked into place, so servers starting at once agree on one key. An in-memory database has no
place for a file; it needs the key in the configuration. Whether a key is the one a database's
secrets were sealed with is checked against a sealed marker in the database
(`store/credentials.py`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["LoadedKey", "ServerKey", "ServerKeyError", "default_key_file", "load_server_key"]

KEY_BYTES = 32
_NONCE_BYTES = 12
_FORMAT = "v1:"  # sealed values: "v1:" + base64(nonce || ciphertext || tag)
POSTGRESQL_KEY_FILE = "idstore-server.key"


class ServerKeyError(Exception):
    """The server key is missing, malformed, or not the one the database needs."""


class ServerKey:
    """A 256-bit AES-GCM key that seals and opens short secrets."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ServerKeyError(f"a server key is {KEY_BYTES} bytes, not {len(key)}")
        self._key = key
        self._aead = AESGCM(key)

    @classmethod
    def generate(cls) -> ServerKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str, source: str = "the server key") -> ServerKey:
        """A key from its base64 text (as `text()` writes it); `source` names it in errors."""
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ServerKeyError(
                f"{source} is not an idstore server key: expected {KEY_BYTES} bytes in base64"
            )
        return cls(key)

    def text(self) -> str:
        return base64.b64encode(self._key).decode()

    def seal(self, plaintext: str, context: str) -> str:
        """`plaintext` encrypted and authenticated, bound to `context` (e.g. the key id)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _FORMAT + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        """The plaintext of `seal(plaintext, context)`; ServerKeyError under another key."""
        try:
            if not sealed.startswith(_FORMAT):
                raise ValueError(sealed[:3])
            raw = base64.b64decode(sealed[len(_FORMAT) :], validate=True)
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise ServerKeyError("the value was not sealed with this server key") from None
        return plain.decode()

    def __repr__(self) -> str:
        return "ServerKey(...)"  # never the key


@dataclass(frozen=True)
class LoadedKey:
    """A server key, the file it is kept in (None: from the configuration), and whether this
    call generated it."""

    key: ServerKey
    path: Path | None
    created: bool

    @property
    def source(self) -> str:
        return f"the server key file {self.path}" if self.path else "IDSTORE_SERVER_KEY"


def default_key_file(db_url: str, cwd: Path | None = None) -> Path | None:
    """Where the key lives by default for `db_url`; None for an in-memory database."""
    scheme, _, rest = db_url.partition("://")
    if scheme.split("+")[0] != "sqlite":
        return (cwd or Path.cwd()) / POSTGRESQL_KEY_FILE
    path = rest[1:].split("?")[0] if rest.startswith("/") else rest.split("?")[0]
    if path in ("", ":memory:"):
        return None
    database = Path(path) if Path(path).is_absolute() else (cwd or Path.cwd()) / path
    return database.with_name(database.name + ".key")


def load_server_key(
    *,
    text: str | None,
    file: str | None,
    db_url: str,
    create: bool,
    cwd: Path | None = None,
) -> LoadedKey:
    """The server key given as `text`, else in `file`, else in the default file for `db_url`
    (`Config.server_key`, `.server_key_file`, `.db_url`); with `create`, a missing file is
    generated."""
    if text:
        return LoadedKey(ServerKey.from_text(text, "IDSTORE_SERVER_KEY"), None, False)
    if file:
        path = Path(file).expanduser()
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
    else:
        found = default_key_file(db_url, cwd)
        if found is None:
            raise ServerKeyError(
                "an in-memory database has no place for a server key file: set one in the "
                "configuration (server_key, e.g. ServerKey.generate().text())"
            )
        path = found
    if not path.exists():
        if not create:
            raise ServerKeyError(
                f"the server key file {path} is missing, and this database holds access keys "
                "encrypted with a server key: restore the file from your backup (or point "
                "--server-key-file / IDSTORE_SERVER_KEY_FILE at it)"
            )
        _create_key_file(path)
        return LoadedKey(_read_key_file(path), path, True)
    return LoadedKey(_read_key_file(path), path, False)


def _read_key_file(path: Path) -> ServerKey:
    try:
        text = path.read_text()
    except OSError as error:
        raise ServerKeyError(f"cannot read the server key file {path}: {error}") from None
    return ServerKey.from_text(text, f"the server key file {path}")


def _create_key_file(path: Path) -> None:
    """Write a new key to `path` unless another process just did (then theirs stands)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(ServerKey.generate().text() + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # atomic, and never replaces a key already there
    finally:
        temporary.unlink(missing_ok=True)

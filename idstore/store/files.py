"""SQLite database files: created private (0600), and named when others can read them.

The database holds every profile, the SCIM token digests and the sealed access-key secrets,
so no other user of the machine should read it. SQLite would create it with 0644 under the
usual umask; idstore creates the file itself first, with mode 0600, and SQLite gives the
files it makes next to it (`-wal`, `-shm`, `-journal`) the permissions of the database file.
A file that already exists keeps its mode (the operator may have chosen it), but
`readable_by_others` names those that group or others may read, for the server to warn
about at start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

SUFFIXES = ("", "-wal", "-shm", "-journal")


def database_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL, in-memory and URI-form databases."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    if str(u.query.get("uri", "")).lower() == "true":
        return None
    return Path(str(u.database))


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (the umask cannot widen 0600)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def readable_by_others(url: str) -> list[tuple[Path, int]]:
    """The database's files (and its -wal, -shm, -journal) that group or others may read,
    with their permission bits."""
    path = database_file(url)
    if path is None:
        return []
    found = []
    for suffix in SUFFIXES:
        file = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            found.append((file, mode))
    return found

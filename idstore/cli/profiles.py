"""Writing one profile into an AWS credentials file, keeping everything else in it.

`keys create --credentials-file PATH` uses it. The file is edited as text, not through
configparser, so that comments, blank lines, key order and other profiles stay exactly as they
were: the lines of `[PROFILE]` (its header up to the next header) are replaced by the new ones,
or the profile is appended. Later duplicates of the same header, which make AWS clients refuse
the whole file, are removed. The new content goes to a temporary file in the same directory,
with the old file's mode (0600 for a new file), is flushed to disk, and then replaces the old
one in one rename, so a reader sees the old file or the new one, never half of either. A
symbolic link is followed: its target is replaced, the link kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from pathlib import Path

# A section header line: `[name]`, spaces allowed around the name and after the bracket.
_HEADER = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$")


def profile_lines(profile: str, access_key_id: str, secret: str) -> list[str]:
    """The lines of a credentials-file profile, without line endings."""
    return [
        f"[{profile}]",
        f"aws_access_key_id = {access_key_id}",
        f"aws_secret_access_key = {secret}",
    ]


def with_profile(text: str, profile: str, lines: list[str]) -> tuple[str, bool]:
    """`text` with `[profile]` set to `lines`, and whether the profile was there before."""
    out: list[str] = []
    replaced = False
    skipping = False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            skipping = header.group(1) == profile
            if skipping and not replaced:
                out.extend(lines)
                replaced = True
                continue
        if not skipping:
            out.append(line)
    if not replaced:
        while out and not out[-1].strip():
            out.pop()
        if out:
            out.append("")
        out.extend(lines)
    return "\n".join(out) + "\n", replaced


def write_profile(path: Path, profile: str, lines: list[str]) -> bool:
    """Set `[profile]` in the credentials file at `path` (created if missing), atomically.

    Returns whether the profile existed and was replaced. The directory is created (mode 0700,
    as the AWS CLI makes ~/.aws) when missing.
    """
    target = path.expanduser()
    if target.is_symlink():
        target = target.resolve()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        old = target.read_text(encoding="utf-8")
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        old, mode = "", 0o600
    new, replaced = with_profile(old, profile, lines)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            os.fchmod(file.fileno(), mode)
            file.write(new)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
    return replaced

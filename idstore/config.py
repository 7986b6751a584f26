"""Configuration: one frozen value, read once (from flags and the environment) and passed down.

Nothing reads the environment after start-up; `Config.from_env` is the only place that does, and
the CLI calls it once. Library users build a `Config` directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

DEFAULT_DB_FILE = "idstore.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def default_db_url(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """`IDSTORE_DB` if set, else a SQLite file named `idstore.db` in the working directory."""
    env = os.environ if env is None else env
    if env.get("IDSTORE_DB"):
        return env["IDSTORE_DB"]
    return f"sqlite:///{(cwd or Path.cwd()) / DEFAULT_DB_FILE}"


@dataclass(frozen=True)
class Config:
    """Everything a server or an in-process instance needs to know."""

    db_url: str = "sqlite://"
    account_id: str = "000000000000"
    # Requests larger than this are refused with ValidationException before parsing.
    max_body_bytes: int = 1024 * 1024
    # Default page size when MaxResults is absent (AWS's maximum, as peers use).
    default_page_size: int = 100
    # Quotas per identity store (AWS defaults).
    max_users_per_store: int = 200_000
    max_groups_per_store: int = 100_000

    def with_changes(self, **changes: object) -> Config:
        """A copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> str:
        """The configuration as JSON, to hand to worker processes."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls(**json.loads(text))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Build a Config from `IDSTORE_*` variables, then apply explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {"db_url": default_db_url(env)}
        if env.get("IDSTORE_ACCOUNT_ID"):
            values["account_id"] = env["IDSTORE_ACCOUNT_ID"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

"""Configuration: one frozen value, read once (from flags and the environment) and passed down.

Nothing reads the environment after start-up; `Config.from_env` is the only place that does, and
the CLI calls it once. Library users build a `Config` directly. The variables: IDSTORE_DB,
IDSTORE_ACCOUNT_ID, IDSTORE_AUTH, IDSTORE_SERVER_KEY, IDSTORE_SERVER_KEY_FILE,
IDSTORE_THROTTLE_TPS, IDSTORE_MAX_USERS, IDSTORE_MAX_GROUPS, IDSTORE_MAX_BODY_BYTES,
IDSTORE_TRUSTED_PROXIES (comma-separated), IDSTORE_PROXY_HEADER.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

DEFAULT_DB_FILE = "idstore.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# How requests are authenticated (SPEC §10): "none" accepts any credentials (local mode),
# "sigv4" verifies signatures made with access keys from `idstore keys create`.
AUTH_MODES = ("none", "sigv4")
# The header a trusted reverse proxy puts the client's address in (see docs/reverse-proxy.md).
PROXY_HEADERS = ("x-forwarded-for", "forwarded")


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
    # "none" or "sigv4"; None: decided by the listening address (`idstore serve`: "none" on
    # loopback only), and "none" in process.
    auth: str | None = None
    # The key that encrypts access keys' secrets at rest, as base64 text (IDSTORE_SERVER_KEY),
    # or the file holding it; neither: a file beside the database (see idstore/serverkey.py).
    server_key: str | None = field(default=None, repr=False)
    server_key_file: str | None = None
    # Requests per second per (identity store, operation) in each process; 0: no throttling.
    throttle_tps: float = 0.0
    # The reverse proxies (addresses or CIDR blocks) whose `proxy_header` names the client;
    # none: forwarded headers are ignored, the TCP peer is the client (docs/reverse-proxy.md).
    trusted_proxies: tuple[str, ...] = ()
    proxy_header: str = "x-forwarded-for"

    def __post_init__(self) -> None:
        if self.auth is not None and self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if self.throttle_tps < 0:
            raise ValueError("throttle_tps must be 0 (off) or a positive number")
        proxies = tuple(p.strip() for p in self.trusted_proxies if p.strip())
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxies must be IP addresses or CIDR blocks, not {proxy!r}"
                ) from None
        object.__setattr__(self, "trusted_proxies", proxies)  # also from JSON's lists
        if self.proxy_header not in PROXY_HEADERS:
            raise ValueError(
                f"proxy_header must be one of {', '.join(PROXY_HEADERS)}, not {self.proxy_header!r}"
            )

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
        for name, key in _TEXT_VARIABLES.items():
            if env.get(name):
                values[key] = env[name]
        for name, (key, kind) in _NUMBER_VARIABLES.items():
            if env.get(name):
                values[key] = _number(name, env[name], kind)
        if env.get("IDSTORE_TRUSTED_PROXIES"):
            values["trusted_proxies"] = tuple(env["IDSTORE_TRUSTED_PROXIES"].split(","))
        if env.get("IDSTORE_PROXY_HEADER"):
            values["proxy_header"] = env["IDSTORE_PROXY_HEADER"].lower()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


_TEXT_VARIABLES = {
    "IDSTORE_AUTH": "auth",
    "IDSTORE_SERVER_KEY": "server_key",
    "IDSTORE_SERVER_KEY_FILE": "server_key_file",
}
_NUMBER_VARIABLES: dict[str, tuple[str, Callable[[str], int | float]]] = {
    "IDSTORE_THROTTLE_TPS": ("throttle_tps", float),
    "IDSTORE_MAX_USERS": ("max_users_per_store", int),
    "IDSTORE_MAX_GROUPS": ("max_groups_per_store", int),
    "IDSTORE_MAX_BODY_BYTES": ("max_body_bytes", int),
}


def _number(name: str, text: str, kind: Callable[[str], int | float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{name} must be a non-negative number, not {text!r}")
    return value

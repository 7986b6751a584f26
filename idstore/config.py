"""Configuration: one frozen value, read once (from flags and the environment) and passed down.

`Config.from_env` reads the `IDSTORE_*` variables below, once, when a command starts; library
users build a `Config` directly. The variables: IDSTORE_DB, IDSTORE_ACCOUNT_ID, IDSTORE_AUTH,
IDSTORE_SERVER_KEY, IDSTORE_SERVER_KEY_FILE, IDSTORE_THROTTLE_TPS, IDSTORE_MAX_USERS,
IDSTORE_MAX_GROUPS, IDSTORE_MAX_BODY_BYTES, IDSTORE_METRICS_ALLOW, IDSTORE_DRAIN_DELAY,
IDSTORE_DRAIN_TIMEOUT, the HTTP limits IDSTORE_MAX_HEADERS, IDSTORE_MAX_HEADER_BYTES,
IDSTORE_READ_TIMEOUT, IDSTORE_KEEP_ALIVE_TIMEOUT, IDSTORE_MAX_CONNECTIONS,
IDSTORE_SCIM_MAX_MEMBERS (every limit, its default and why: docs/limits.md), IDSTORE_LOCK_TIMEOUT
(docs/durability.md), IDSTORE_CONSOLE_SESSION_SECONDS (docs/console.md), IDSTORE_TRUSTED_PROXIES
(comma-separated) and IDSTORE_PROXY_HEADER (docs/reverse-proxy.md). One variable is read
elsewhere, each time an engine is created: IDSTORE_SQLITE_SYNCHRONOUS (`store/dialects.py`), a
SQLite setting that only the SQLite engine has a use for. Docs: docs/reference/configuration.md
lists them all.

`database_url` turns what a user gives as the database (`--db`, IDSTORE_DB) into a URL: a plain
file path, relative or absolute, is a SQLite file; `sqlite:///...` and `postgresql://...` URLs
pass as they are (`postgres://` is read as `postgresql://`); another scheme is refused with the
accepted forms.
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
# How requests are authenticated (docs/behaviour.md#access): "none" accepts any credentials (local
# mode), "sigv4" verifies signatures made with access keys from `idstore keys create`.
AUTH_MODES = ("none", "sigv4")
# The header a trusted reverse proxy puts the client's address in (see docs/reverse-proxy.md).
PROXY_HEADERS = ("x-forwarded-for", "forwarded")


# The URL schemes a database may have (SQLAlchemy's names: a driver may follow a "+").
DB_SCHEMES = ("sqlite", "postgresql")
DB_FORMS = (
    "a file path (idstore.db, ./data/idstore.db, /var/lib/idstore/idstore.db), "
    "sqlite:///RELATIVE/FILE, sqlite:////ABSOLUTE/FILE, "
    "or postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
)


def database_url(given: str, cwd: Path | None = None) -> str:
    """The database URL for what a user gave: a URL as it is, a plain path as a SQLite file.

    A relative path is made absolute against `cwd` (the working directory), so that the URL
    means the same file wherever it is used later (worker processes, the server key beside it).
    Raises ValueError, naming the accepted forms, for an empty value or an unknown scheme.
    """
    text = given.strip()
    if not text:
        raise ValueError(f"the database is empty: give {DB_FORMS}")
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() == "postgres":  # the spelling of Heroku and others; SQLAlchemy's is:
            return f"postgresql://{rest}"
        if scheme.lower().split("+")[0] in DB_SCHEMES:
            return text
        raise ValueError(f"cannot use the database {given!r}: give {DB_FORMS}")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    return f"sqlite:///{path}"


def default_db_url(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """`IDSTORE_DB` if set, else a SQLite file named `idstore.db` in the working directory."""
    env = os.environ if env is None else env
    if env.get("IDSTORE_DB"):
        try:
            return database_url(env["IDSTORE_DB"], cwd)
        except ValueError as error:
            raise ValueError(f"IDSTORE_DB: {error}") from None
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
    # GET /metrics without a signature from these addresses (comma-separated IPs or CIDRs),
    # when requests are authenticated (docs/operations.md).
    metrics_allow: str = ""
    # On SIGTERM: /ready answers 503 at once; requests are still served for `drain_delay`
    # seconds (so a load balancer notices), then new connections are refused and in-flight
    # requests get up to `drain_timeout` seconds to finish.
    drain_delay: float = 0.0
    drain_timeout: float = 30.0
    # HTTP limits of `idstore serve` (idstore/httpserver.py), per connection or process:
    # header fields and bytes of one request's header section (Apache allows 100 fields, an
    # AWS load balancer 64 KiB; SDKs, the CLI and IdPs send under 20 fields and 4 KiB),
    max_headers: int = 100
    max_header_bytes: int = 64 * 1024
    # seconds for a request to arrive whole, and for an idle keep-alive connection (uvicorn's),
    read_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    # and open connections per process.
    max_connections: int = 4096
    # Members embedded in one SCIM group read (lists embed none).
    scim_max_members: int = 1000
    # Seconds a request may wait for the database (a write lock, a connection) before it is
    # answered with a retryable error (see docs/durability.md).
    lock_timeout: float = 5.0
    # How long an admin console session lasts after sign-in (see docs/console.md).
    console_session_seconds: int = 8 * 3600
    # The reverse proxies (addresses or CIDR blocks) whose `proxy_header` names the client;
    # none: forwarded headers are ignored, the TCP peer is the client (docs/reverse-proxy.md).
    trusted_proxies: tuple[str, ...] = ()
    proxy_header: str = "x-forwarded-for"

    def __post_init__(self) -> None:
        if self.auth is not None and self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")
        if self.throttle_tps < 0:
            raise ValueError("throttle_tps must be 0 (off) or a positive number")
        if self.drain_delay < 0 or self.drain_timeout < 0:
            raise ValueError("drain_delay and drain_timeout must be non-negative")
        for name in _POSITIVE:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number")
        self.metrics_networks()  # refuses a malformed metrics_allow now, not at a scrape
        if not 0 < self.lock_timeout <= 3600:  # also refuses NaN
            raise ValueError("lock_timeout must be more than 0 and at most 3600 seconds")
        if self.console_session_seconds < 1:
            raise ValueError("console_session_seconds must be at least 1")
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

    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks `metrics_allow` names."""
        try:
            return [
                ipaddress.ip_network(part.strip(), strict=False)
                for part in self.metrics_allow.split(",")
                if part.strip()
            ]
        except ValueError as error:
            raise ValueError(f"metrics_allow: {error}") from None

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
        if "db_url" in overrides and overrides["db_url"] is not None:
            values["db_url"] = database_url(str(overrides["db_url"]))
        return cls(**values)  # type: ignore[arg-type]


_TEXT_VARIABLES = {
    "IDSTORE_AUTH": "auth",
    "IDSTORE_SERVER_KEY": "server_key",
    "IDSTORE_SERVER_KEY_FILE": "server_key_file",
    "IDSTORE_METRICS_ALLOW": "metrics_allow",
}
_NUMBER_VARIABLES: dict[str, tuple[str, Callable[[str], int | float]]] = {
    "IDSTORE_THROTTLE_TPS": ("throttle_tps", float),
    "IDSTORE_MAX_USERS": ("max_users_per_store", int),
    "IDSTORE_MAX_GROUPS": ("max_groups_per_store", int),
    "IDSTORE_MAX_BODY_BYTES": ("max_body_bytes", int),
    "IDSTORE_DRAIN_DELAY": ("drain_delay", float),
    "IDSTORE_DRAIN_TIMEOUT": ("drain_timeout", float),
    "IDSTORE_MAX_HEADERS": ("max_headers", int),
    "IDSTORE_MAX_HEADER_BYTES": ("max_header_bytes", int),
    "IDSTORE_READ_TIMEOUT": ("read_timeout", float),
    "IDSTORE_KEEP_ALIVE_TIMEOUT": ("keep_alive_timeout", float),
    "IDSTORE_MAX_CONNECTIONS": ("max_connections", int),
    "IDSTORE_SCIM_MAX_MEMBERS": ("scim_max_members", int),
    "IDSTORE_LOCK_TIMEOUT": ("lock_timeout", float),
    "IDSTORE_CONSOLE_SESSION_SECONDS": ("console_session_seconds", int),
}
_POSITIVE = (
    "max_headers",
    "max_header_bytes",
    "read_timeout",
    "keep_alive_timeout",
    "max_connections",
    "scim_max_members",
    "console_session_seconds",
)


def _number(name: str, text: str, kind: Callable[[str], int | float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"{name} must be a non-negative number, not {text!r}")
    return value

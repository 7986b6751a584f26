"""Running the server, and managing the database schema."""

from __future__ import annotations

import ipaddress
import logging
import sys

import click

from idstore import __version__
from idstore.cli.common import db_option, open_db
from idstore.cli.keys import open_server_key, server_key_option
from idstore.config import AUTH_MODES, DEFAULT_HOST, DEFAULT_PORT, PROXY_HEADERS, Config
from idstore.model import now


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on."
)
@db_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (and the database).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="At info, one JSON line per request on stderr.",
)
@click.option(
    "--auth",
    type=click.Choice(AUTH_MODES),
    default=None,
    help="none: accept any credentials (local mode); sigv4: verify signatures made with "
    "access keys (idstore keys create).  [default: $IDSTORE_AUTH, else none on a loopback "
    "--host, sigv4 on any other]",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Allow --auth none on a non-loopback --host: anyone who reaches the port can read "
    "and change every identity store.",
)
@server_key_option
@click.option(
    "--throttle-tps",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Requests per second per identity store and operation, per process (AWS: 20); "
    "beyond: ThrottlingException.  [default: $IDSTORE_THROTTLE_TPS, else no limit]",
)
@click.option(
    "--max-users",
    type=click.IntRange(min=0),
    default=None,
    help="Users per identity store.  [default: $IDSTORE_MAX_USERS, else 200000]",
)
@click.option(
    "--max-groups",
    type=click.IntRange(min=0),
    default=None,
    help="Groups per identity store.  [default: $IDSTORE_MAX_GROUPS, else 100000]",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Largest request body.  [default: $IDSTORE_MAX_BODY_BYTES, else 1048576]",
)
@click.option(
    "--metrics-allow",
    metavar="CIDR[,CIDR]",
    default=None,
    help="Addresses that may read GET /metrics without a signature when requests are "
    "authenticated (e.g. a Prometheus server).  [default: $IDSTORE_METRICS_ALLOW, else none]",
)
@click.option(
    "--drain-delay",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to keep serving after SIGTERM while /ready answers 503, so that a load "
    "balancer takes the server out first.  [default: $IDSTORE_DRAIN_DELAY, else 0]",
)
@click.option(
    "--drain-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds in-flight requests get to finish once the server stops accepting "
    "connections.  [default: $IDSTORE_DRAIN_TIMEOUT, else 30]",
)
@click.option(
    "--max-headers",
    type=click.IntRange(min=1),
    default=None,
    help="Header fields in one request; beyond: 431 (SCIM) or ValidationException.  "
    "[default: $IDSTORE_MAX_HEADERS, else 100]",
)
@click.option(
    "--max-header-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Bytes of one request's target and headers; beyond: as --max-headers.  "
    "[default: $IDSTORE_MAX_HEADER_BYTES, else 65536]",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds for a request (headers and body) to arrive; beyond: 408 and close.  "
    "[default: $IDSTORE_READ_TIMEOUT, else 30]",
)
@click.option(
    "--keep-alive-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds an idle keep-alive connection stays open.  "
    "[default: $IDSTORE_KEEP_ALIVE_TIMEOUT, else 5]",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=None,
    help="Open connections per process; beyond: 503 at once.  "
    "[default: $IDSTORE_MAX_CONNECTIONS, else 4096]",
)
@click.option(
    "--scim-max-members",
    type=click.IntRange(min=1),
    default=None,
    help="Members embedded in one SCIM group read.  [default: $IDSTORE_SCIM_MAX_MEMBERS, "
    "else 1000]",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0, max=3600, min_open=True),
    default=None,
    metavar="SECONDS",
    help="How long a request may wait for the database (a write lock, a connection); beyond: "
    "InternalServerException with RetryAfterSeconds (SCIM: 503 with Retry-After).  "
    "[default: $IDSTORE_LOCK_TIMEOUT, else 5]",
)
@click.option(
    "--trusted-proxies",
    default=None,
    metavar="CIDRS",
    help="Reverse proxies (comma-separated addresses or CIDR blocks) whose --proxy-header "
    "names the client; from any other peer, forwarded headers are ignored (see "
    "docs/reverse-proxy.md).  [default: $IDSTORE_TRUSTED_PROXIES, else none]",
)
@click.option(
    "--proxy-header",
    type=click.Choice(PROXY_HEADERS, case_sensitive=False),
    default=None,
    help="The header the trusted proxies set.  [default: $IDSTORE_PROXY_HEADER, else "
    "x-forwarded-for]",
)
@click.option(
    "--console-session-seconds",
    type=click.IntRange(min=1),
    default=None,
    metavar="SECONDS",
    help="How long an admin console sign-in lasts (/console/).  "
    "[default: $IDSTORE_CONSOLE_SESSION_SECONDS, else 28800]",
)
def serve(
    host: str,
    port: int,
    db_url: str | None,
    workers: int,
    log_level: str,
    auth: str | None,
    insecure_no_auth: bool,
    server_key_file: str | None,
    throttle_tps: float | None,
    max_users: int | None,
    max_groups: int | None,
    max_body_bytes: int | None,
    metrics_allow: str | None,
    drain_delay: float | None,
    drain_timeout: float | None,
    max_headers: int | None,
    max_header_bytes: int | None,
    read_timeout: float | None,
    keep_alive_timeout: float | None,
    max_connections: int | None,
    scim_max_members: int | None,
    lock_timeout: float | None,
    trusted_proxies: str | None,
    proxy_header: str | None,
    console_session_seconds: int | None,
) -> None:
    """Run the server. Applies migrations; creates an identity store if there is none."""
    from idstore.app import create_app
    from idstore.app import serve as run

    logging.basicConfig(level=log_level.upper(), format="%(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        config = Config.from_env(
            db_url=db_url,
            auth=auth,
            server_key_file=server_key_file,
            throttle_tps=throttle_tps,
            max_users_per_store=max_users,
            max_groups_per_store=max_groups,
            max_body_bytes=max_body_bytes,
            metrics_allow=metrics_allow,
            drain_delay=drain_delay,
            drain_timeout=drain_timeout,
            max_headers=max_headers,
            max_header_bytes=max_header_bytes,
            read_timeout=read_timeout,
            keep_alive_timeout=keep_alive_timeout,
            max_connections=max_connections,
            scim_max_members=scim_max_members,
            lock_timeout=lock_timeout,
            trusted_proxies=None if trusted_proxies is None else tuple(trusted_proxies.split(",")),
            proxy_header=proxy_header and proxy_header.lower(),
            console_session_seconds=console_session_seconds,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    config = config.with_changes(auth=_auth_mode(config.auth, host, insecure_no_auth))
    store = open_db(config.db_url, lock_timeout=config.lock_timeout)
    _warn_if_readable(config.db_url)
    if config.auth == "sigv4":
        loaded = open_server_key(store, config)
        if loaded.path is not None:  # workers find the key where this process did
            config = config.with_changes(server_key_file=str(loaded.path))
        count = len(store.list_access_keys())
        click.echo(f"Authentication: SigV4, {count} access key(s) ({loaded.source})")
        if not count:
            click.echo("Create one with: idstore keys create --store ID --name NAME")
    else:
        click.echo("Authentication: none (local mode: any credentials are accepted)")
    stores = store.list_identity_stores(None, 1000).items
    if stores:
        for s in stores:
            click.echo(f"Identity store: {s.store_id}")
    else:
        click.echo(f"Created identity store {store.create_identity_store(now()).store_id}")
    app = create_app(config, store)
    url = f"http://{host}:{port}"

    def ready() -> None:
        click.echo(f"idstore {__version__} listening on {url} (database: {config.db_url})")
        sys.stdout.flush()

    run(app, host, port, workers=workers, log_level=log_level, on_ready=ready)


def _warn_if_readable(db_url: str) -> None:
    """Warn about database files other users of the machine can read: they hold every profile
    and the sealed secrets. (New databases are created 0600; an existing file keeps its mode.)"""
    from idstore.store.files import readable_by_others

    for path, mode in readable_by_others(db_url):
        click.echo(
            f"Warning: {path} is readable by other users (mode {mode:04o}); it holds every "
            f"profile and the sealed secrets. Restrict it: chmod 600 {path}",
            err=True,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _auth_mode(requested: str | None, host: str, insecure_no_auth: bool) -> str:
    """The authentication to serve with (docs/behaviour.md#access): local mode only on loopback,
    unless the operator insists."""
    if _is_loopback(host):
        return requested or "none"
    if requested == "sigv4" or (requested is None and not insecure_no_auth):
        return "sigv4"
    if not insecure_no_auth:
        raise click.ClickException(
            f"refusing to serve without authentication on {host}, which is not a loopback "
            "address: anyone who can reach it could read and change every identity store. "
            "Use --auth sigv4 (with keys from `idstore keys create`), listen on 127.0.0.1, or "
            "pass --insecure-no-auth if that is really what you want."
        )
    return "none"


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Apply pending migrations (all servers may keep running); print the schema revision."""
    from idstore.store import migrate

    store = open_db(db_url)  # opening applies the migrations, under a lock
    click.echo(f"Database schema is at revision {migrate.current(store.engine)}")
    store.close()

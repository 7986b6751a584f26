"""The HTTP shell: a plain ASGI application, and `serve()` to run it under uvicorn.

This is the only module that knows about ASGI and the web server. It routes by path:

    GET  /health                      liveness: 200 while the process serves
    GET  /ready                       readiness: 200 while the database answers, its schema is
                                      current and the server is not draining; 503 and why
    GET  /metrics                     Prometheus text (idstore/metrics.py); not an API request
    *    /console/…                   the admin console (HTML; see idstore/console/)
    *    /{IdentityStoreId}/scim/v2/…  the SCIM front end (bearer tokens: `idstore scim-tokens`)
    *    anything else                 the AWS JSON 1.1 gateway (POST / with X-Amz-Target)

and copies each request into a `wire.Request` for the front end's `handle`, with the client's
address (forwarded headers believed only from the configured proxies: forwarded.py). uvicorn
runs it over `httpserver.LimitedProtocol`, which enforces the header, read-time and connection
limits before a request reaches the app; `refusal` renders those answers. It is a bare ASGI
callable rather than a framework app: there are few routes, and a request should cost the
least the server allows (the performance target is a fraction of a bare ASGI app's rate).

Each API, SCIM and console request is counted in `Metrics` from what its response says. On
SIGTERM the server drains (`serve`): /ready turns 503 at once, requests are served for
`drain_delay` seconds more, then new connections are refused and in-flight requests get
`drain_timeout` seconds to finish.

The event loop never waits for the database (see docs/durability.md):

- SQLite reads (the AWS API's Describe/List/Get/IsMemberInGroups) run on the event loop: each
  is a few hundred microseconds of local work, and a hop to a thread would cost more than it
  saves (measured: 12-15% of the read rate). They use connections that never wait: if one
  would (the file is locked), the request is run again on a thread (`WouldBlock`).
- Everything else runs on threads: writes (which may wait for SQLite's write lock or a
  PostgreSQL row lock), SCIM requests, and every PostgreSQL request (they wait on the network).
  Reads and writes have pools of their own, so that writes waiting for a lock never hold up
  reads. A request's waits end `lock_timeout` seconds after it arrived (time spent queued for
  a thread included); then it gets a retryable error.
- An in-memory database (the test mode, `sqlite://`) has one connection that nothing else can
  lock: its requests all run on the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import functools
import ipaddress
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

import orjson

from idstore import wire
from idstore.aws.access import reading_operations
from idstore.aws.gateway import Gateway
from idstore.aws.protocol import error_response as aws_error
from idstore.aws.services import api_of
from idstore.aws.ssoadmin import OPERATIONS as SSO_ADMIN_OPERATIONS
from idstore.aws.sts import ACTIONS as STS_ACTIONS
from idstore.config import Config
from idstore.console import ConsoleService, is_console_path
from idstore.errors import IdstoreError
from idstore.forwarded import ForwardedHeaders
from idstore.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from idstore.metrics import Metrics
from idstore.scim import tokens as scim_tokens
from idstore.scim.endpoints import ScimService, is_scim_path
from idstore.scim.endpoints import error_response as scim_error
from idstore.store import Store, WouldBlock, open_store
from idstore.store.stats import readiness, store_sizes
from idstore.tracing import tracer_from_environment

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[wire.Request], wire.Response]

log = logging.getLogger("idstore")

_HEALTH = orjson.dumps({"status": "ok"})
_JSON = {"content-type": "application/json"}
# How long /ready waits for the database before it answers 503.
_READY_TIMEOUT = 5.0
_SCIM_RESOURCES = frozenset(
    {"Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me"}
)


class App:
    """The ASGI application serving one Store."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        threads: int | None = None,
        tracer: Any | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.aws = Gateway(store, config)
        # SCIM writes must pass the AWS side's profile rules; the front ends stay independent.
        self.scim = ScimService(
            store, config, users=self.aws.operations.users, groups=self.aws.operations.groups
        )
        self.console = ConsoleService(
            store,
            config,
            users=self.aws.operations.users,
            groups=self.aws.operations.groups,
            issue_token=functools.partial(scim_tokens.issue, store),
        )
        self._forwarded = ForwardedHeaders(config.trusted_proxies, config.proxy_header)
        self.draining = False
        # An OpenTelemetry tracer (idstore/tracing.py), or None: no tracing, no cost.
        self.tracer = tracer if tracer is not None else tracer_from_environment()
        self.metrics = Metrics(
            {
                "aws": self.aws.spec.operation_names,
                "scim": _scim_operations(),
                "sts": STS_ACTIONS,
                "sso-admin": SSO_ADMIN_OPERATIONS,
                "console": self.console.route_names,
            },
            lambda: store_sizes(store),
            pool_in_use=store.connections_in_use,
        )
        store.transactions.observer = self.metrics  # database waits and retries
        self._metrics_networks = config.metrics_networks()
        # X-Amz-Target -> the metrics' (front end, operation), for the API's own operations:
        # most requests, named at the cost of one lookup.
        self._targets = {
            f"{self.aws.spec.target_prefix}.{name}": ("aws", name)
            for name in self.aws.spec.operation_names
        }
        # Where requests run (see the module docstring); threads=0: all on the loop.
        self._all_inline = store.in_memory if threads is None else threads == 0
        self._inline_reads = store.dialect == "sqlite"
        prefix = self.aws.spec.target_prefix
        # The X-Amz-Target values of the API's reads: on the read pool, or on the loop (SQLite).
        self._reading_targets = frozenset(
            f"{prefix}.{name}" for name in reading_operations(self.aws.spec.operation_names)
        )
        self._transactions = store.transactions
        self._lock_timeout = config.lock_timeout
        self._reads: concurrent.futures.ThreadPoolExecutor | None = None
        self._writes: concurrent.futures.ThreadPoolExecutor | None = None
        if not self._all_inline:
            self._reads = concurrent.futures.ThreadPoolExecutor(
                threads or 16, thread_name_prefix="idstore-read"
            )
            self._writes = concurrent.futures.ThreadPoolExecutor(
                threads or 16, thread_name_prefix="idstore-write"
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for pool in (self._reads, self._writes):
                    if pool is not None:
                        pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health" and method in ("GET", "HEAD"):
            await _respond(send, wire.Response(200, _HEALTH, _JSON))
            return
        if path in ("/ready", "/metrics") and method in ("GET", "HEAD"):
            await _respond(send, await self._operational(path, scope))
            return
        started = time.perf_counter()
        body = await _read_body(receive, self.config.max_body_bytes)
        if body is None:
            return  # the client went away (or took too long) before sending the whole body
        forwarded = self._forwarded
        # With no trusted proxy, forwarded headers are dropped as they are read.
        headers = _headers(scope["headers"], forwarded.always_dropped)
        peer = scope.get("client")
        peer_ip = peer[0] if peer else None
        request = wire.Request(
            method=method,
            path=path,
            headers=headers,
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
            client_ip=forwarded.client(peer_ip, headers) if forwarded.trusts_any else peer_ip,
        )
        # The AWS endpoint is "/"; only other paths can be the console's or SCIM's.
        if path != "/" and is_console_path(path):
            response = await self._console(request, scope)
            await _respond(send, response)
            operation = self.metrics.operation("console", self.console.route_name(path))
            self.metrics.observe(
                "console", operation, response.status, None, time.perf_counter() - started
            )
            return
        scim = path != "/" and is_scim_path(path)
        handler: Handler = self.scim.handle if scim else self.aws.handle
        if scim:
            frontend, operation = "scim", self.metrics.operation("scim", _scim_operation(request))
        else:
            frontend, operation = self._aws_operation(request)
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(f"{frontend} {operation}")
            _describe_span(span, frontend, operation, request, scim)
        # Most reads are answered here, without the cost of another coroutine.
        answered = self._answer_here(request, handler, scim)
        response = (
            answered if answered is not None else await self._dispatch(request, handler, scim)
        )
        await _respond(send, response)
        error = response.headers.get("x-amzn-errortype")
        self.metrics.observe(
            frontend, operation, response.status, error, time.perf_counter() - started
        )
        if span is not None:
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_attribute("idstore.error", error or str(response.status))
            span.end()

    def _reading_request(self, request: wire.Request, scim: bool) -> bool:
        if scim:
            return request.method in ("GET", "HEAD")
        return request.headers.get("x-amz-target") in self._reading_targets

    def _answer_here(
        self, request: wire.Request, handler: Handler, scim: bool
    ) -> wire.Response | None:
        """The response, if the request may be answered on the event loop (see above): every
        request on an in-memory database, an API read on SQLite unless it would wait."""
        if self._all_inline:
            return handler(request)
        if scim or not self._inline_reads:
            return None
        if request.headers.get("x-amz-target") not in self._reading_targets:
            return None  # a write, or another API's request (`_reading_request`, inline)
        try:
            return self._transactions.inline(handler, request)
        except WouldBlock:
            return None  # the database is locked: wait on a thread

    async def _dispatch(self, request: wire.Request, handler: Handler, scim: bool) -> wire.Response:
        """Run the request's handler on a thread, where it may wait as long as it needs."""
        pool = self._reads if self._reading_request(request, scim) else self._writes
        assert pool is not None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self._lock_timeout
        return await loop.run_in_executor(pool, self._transactions.by, deadline, handler, request)

    async def _console(self, request: wire.Request, scope: Scope) -> wire.Response:
        """A console page: on a write thread (a page reads and writes, and takes milliseconds to
        render), or on the loop for an in-memory database, like every other request there."""
        # TLS here, or at a trusted proxy (the forwarded headers of any other peer are dropped).
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        secure = scope.get("scheme") == "https" or proto == "https"
        handler = functools.partial(self.console.handle, secure=secure)
        if self._all_inline:
            return handler(request)
        assert self._writes is not None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self._lock_timeout
        return await loop.run_in_executor(
            self._writes, self._transactions.by, deadline, handler, request
        )

    def _aws_operation(self, request: wire.Request) -> tuple[str, str]:
        """The metrics' front end and operation of a request to the AWS endpoint, which also
        serves STS and sso-admin (aws/services.py)."""
        known = self._targets.get(request.headers.get("x-amz-target", ""))
        if known is not None:
            return known
        api = api_of(request)
        if api == "sts":
            body = request.body if b"Action=" in request.body else request.query.encode()
            action = "GetCallerIdentity" if b"Action=GetCallerIdentity" in body else None
            return "sts", self.metrics.operation("sts", action)
        target = request.headers.get("x-amz-target", "").rpartition(".")[2]
        frontend = "aws" if api == "identitystore" else "sso-admin"
        return frontend, self.metrics.operation(frontend, target)

    async def _operational(self, path: str, scope: Scope) -> wire.Response:
        """GET /ready or GET /metrics; both read the database off the event loop."""
        loop = asyncio.get_running_loop()
        if path == "/ready":
            if self.draining:
                reason: str | None = "draining"
            else:
                try:
                    reason = await asyncio.wait_for(
                        loop.run_in_executor(None, readiness, self.store), _READY_TIMEOUT
                    )
                except TimeoutError:
                    reason = "database unreachable: no answer within 5 s"
            if reason is None:
                return wire.Response(200, orjson.dumps({"status": "ready"}), _JSON)
            body = orjson.dumps({"status": "unavailable", "reason": reason})
            return wire.Response(503, body, _JSON)
        denied = self._metrics_denied(scope)
        if denied is not None:
            return denied
        body = await loop.run_in_executor(None, self.metrics.render)
        return wire.Response(200, body, {"content-type": METRICS_CONTENT_TYPE})

    def _metrics_denied(self, scope: Scope) -> wire.Response | None:
        """None if this scrape may read /metrics: local mode, an address `metrics_allow` names,
        or a valid SigV4 signature of an access key for every store."""
        if self.config.auth != "sigv4":
            return None
        client = scope.get("client")
        if client and self._metrics_networks:
            with contextlib.suppress(ValueError):
                address = ipaddress.ip_address(client[0])
                if any(address in network for network in self._metrics_networks):
                    return None
        headers = _headers(scope["headers"], frozenset())
        request = wire.Request(
            "GET", "/metrics", headers, b"", scope.get("query_string", b"").decode("latin-1")
        )
        try:
            principal = self.aws.authenticate(request)
        except IdstoreError:
            principal = None
        if principal is not None and principal.stores is None:
            return None
        body = b"GET /metrics needs a signature of an access key for all stores (--all-stores), "
        body += b"or a scrape from an address that --metrics-allow names.\n"
        return wire.Response(403, body, {"content-type": "text/plain; charset=utf-8"})


def _describe_span(
    span: Any, frontend: str, operation: str, request: wire.Request, scim: bool
) -> None:
    """The span's request attributes; the store is read from the path or the JSON body (only
    when tracing, so untraced requests do not pay for a second parse)."""
    span.set_attribute("idstore.frontend", frontend)
    span.set_attribute("idstore.operation", operation)
    store: object = None
    if scim:
        store = request.path.lstrip("/").split("/", 1)[0]
    else:
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.loads(request.body)
            store = body.get("IdentityStoreId") if isinstance(body, dict) else None
    if isinstance(store, str):
        span.set_attribute("idstore.store", store[:64])


def _scim_operations() -> list[str]:
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    return [f"{m} /{r}{i}" for m in methods for r in _SCIM_RESOURCES for i in ("", "/{id}")]


def _scim_operation(request: wire.Request) -> str:
    """A SCIM request's method and path template, e.g. `PATCH /Groups/{id}`."""
    parts = request.path.split("/scim/v2/", 1)[-1].strip("/").split("/")
    return f"{request.method} /{parts[0]}{'/{id}' if len(parts) > 1 else ''}"


def _headers(raw: list[tuple[bytes, bytes]], drop: frozenset[str]) -> dict[str, str]:
    """The request's headers by lower-case name, but those `drop` names; a repeated field's
    values joined by commas (RFC 9110 §5.3), once, at the end: joining at each repeat would be
    quadratic."""
    headers: dict[str, str] = {}
    repeated: dict[str, list[str]] | None = None
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        if name in drop:
            continue
        value = raw_value.decode("latin-1")
        if name not in headers:
            headers[name] = value
        else:
            if repeated is None:
                repeated = {}
            repeated.setdefault(name, [headers[name]]).append(value)
    if repeated is not None:
        for name, values in repeated.items():
            headers[name] = ",".join(values)
    return headers


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, keeping at most `limit + 1` bytes (enough to know it is too big);
    None if the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        if size <= limit:
            chunks.append(chunk)
            size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, response: wire.Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def refusal(
    status: int, path: str | None, message: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer to a request the HTTP layer refuses before routing it (httpserver.py), in the
    error shape of the front end its path belongs to: a SCIM error with `status`, or an AWS
    error (header limits: 400 ValidationException, as for every AWS client error; 408
    RequestTimeoutException and 503, which botocore retries). See docs/limits.md."""
    request_id = str(uuid.uuid4())
    if path is not None and is_scim_path(path):
        response = scim_error(status, message, request_id)
    else:
        code, aws_status = _AWS_REFUSALS[status]
        response = aws_error(aws_status, code, message, request_id)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    return response.status, headers, response.body


_AWS_REFUSALS = {
    431: ("ValidationException", 400),
    408: ("RequestTimeoutException", 408),
    503: ("ServiceUnavailableException", 503),
}


def create_app(config: Config, store: Store | None = None) -> App:
    """The application for `config`, on `store` or on a Store opened (and migrated) from
    `config.db_url`."""
    return App(store or open_store(config.db_url, lock_timeout=config.lock_timeout), config)


# Worker processes (`serve(..., workers=N)`) are started by uvicorn and build their own app
# from the configuration the parent leaves in this variable.
WORKER_CONFIG = "IDSTORE_WORKER_CONFIG"


def app_from_environment() -> App:
    """The app of one worker process (an import-string factory for uvicorn)."""
    return create_app(Config.from_json(os.environ[WORKER_CONFIG]))


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus idstore's loggers (request lines are JSON, alone on
    their line, on stderr). uvicorn applies it in every worker process, too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["idstore"] = {"format": "%(message)s"}
    config["handlers"]["idstore"] = {
        "class": "logging.StreamHandler",
        "formatter": "idstore",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["idstore"] = {
        "handlers": ["idstore"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _draining_server(config: Any, app: App) -> Any:
    """uvicorn's Server, draining on the first SIGTERM or SIGINT (see the module docstring);
    a second signal stops it at once. uvicorn is imported here, as in `serve`."""
    import uvicorn

    class Server(uvicorn.Server):
        exit_at: float | None = None

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if app.draining or not app.config.drain_delay:
                app.draining = True
                super().handle_exit(sig, frame)
                return
            app.draining = True
            self.exit_at = time.monotonic() + app.config.drain_delay

        async def on_tick(self, counter: int) -> bool:
            if self.exit_at is not None and time.monotonic() >= self.exit_at:
                self.should_exit = True
            return bool(await super().on_tick(counter))

    return Server(config)


def serve(
    app: App,
    host: str,
    port: int,
    *,
    workers: int = 1,
    log_level: str = "info",
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run `app` under uvicorn until SIGINT or SIGTERM, then drain (the module docstring).

    With `workers` > 1, that many processes share the listening socket; each opens its own
    connections to the database (every worker is a stateless server, as several machines
    behind a load balancer would be), and counts its metrics in a directory all of them share.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from idstore.httpserver import LimitedProtocol, Limits, connection_limit

    limits = Limits(
        max_headers=app.config.max_headers,
        max_header_bytes=app.config.max_header_bytes,
        read_timeout=app.config.read_timeout,
        max_connections=connection_limit(app.config.max_connections),
        refusal=f"{__name__}:refusal",
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
        "log_config": _log_config(log_level),
        "timeout_graceful_shutdown": app.config.drain_timeout,
        # Our limits on headers, read time and connections (see idstore/httpserver.py).
        "http": functools.partial(LimitedProtocol, limits=limits),
        "timeout_keep_alive": app.config.keep_alive_timeout,
        # uvicorn would believe X-Forwarded-For from any loopback peer (its default
        # forwarded_allow_ips): the App reads forwarded headers itself, from the proxies
        # the configuration names only (idstore/forwarded.py).
        "proxy_headers": False,
    }
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # that was installed before it. Make that handler a no-op, so that a graceful stop exits 0.
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
    if workers > 1:
        import tempfile

        from idstore.metrics import MULTIPROCESS_DIR

        os.environ[WORKER_CONFIG] = app.config.to_json()
        with tempfile.TemporaryDirectory(prefix="idstore-metrics-") as metrics_dir:
            os.environ[MULTIPROCESS_DIR] = metrics_dir
            config = uvicorn.Config(
                "idstore.app:app_from_environment", factory=True, workers=workers, **options
            )
            sock = config.bind_socket()
            if on_ready is not None:
                on_ready()
            Multiprocess(config, sockets=[sock]).run()
        return
    server = _draining_server(uvicorn.Config(app, **options), app)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets)
            on_ready()

        server.startup = startup
    server.run()

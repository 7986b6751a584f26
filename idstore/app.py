"""The HTTP shell: a plain ASGI application, and `serve()` to run it under uvicorn.

This is the only module that knows about ASGI and the web server. It routes by path:

    GET  /health                      200 once the store is open and migrated
    *    /{IdentityStoreId}/scim/v2/…  the SCIM front end (bearer tokens: `idstore scim-tokens`)
    *    anything else                 the AWS JSON 1.1 gateway (POST / with X-Amz-Target)

and copies each request into a `wire.Request` for the front end's `handle`. It is a bare ASGI
callable rather than a framework app: there are three routes, and a request should cost the
least the server allows (the performance target is a fraction of a bare ASGI app's rate).

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
import copy
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from idstore import wire
from idstore.aws.access import reading_operations
from idstore.aws.gateway import Gateway
from idstore.config import Config
from idstore.scim.endpoints import ScimService, is_scim_path
from idstore.store import Store, WouldBlock, open_store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[wire.Request], wire.Response]

log = logging.getLogger("idstore")

_HEALTH = orjson.dumps({"status": "ok"})


class App:
    """The ASGI application serving one Store."""

    def __init__(self, store: Store, config: Config, *, threads: int | None = None) -> None:
        self.store = store
        self.config = config
        self.aws = Gateway(store, config)
        # SCIM writes must pass the AWS side's profile rules; the front ends stay independent.
        self.scim = ScimService(
            store, config, users=self.aws.operations.users, groups=self.aws.operations.groups
        )
        # Where requests run (see the module docstring); threads=0: all on the loop.
        self._all_inline = store.in_memory if threads is None else threads == 0
        self._inline_reads = store.dialect == "sqlite"
        self._reading = reading_operations(self.aws.spec.operation_names)
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
            await _respond(send, wire.Response(200, _HEALTH, {"content-type": "application/json"}))
            return
        body = await _read_body(receive, self.config.max_body_bytes)
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        client = scope.get("client")
        request = wire.Request(
            method=method,
            path=path,
            headers=headers,
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
            client_ip=client[0] if client else None,
        )
        await _respond(send, await self._dispatch(request))

    async def _dispatch(self, request: wire.Request) -> wire.Response:
        """Run the request's handler where it may wait as long as it needs (see above)."""
        arrived = time.monotonic()
        if is_scim_path(request.path):
            handler: Handler = self.scim.handle
            reading = request.method in ("GET", "HEAD")
            inline = False
        else:
            handler = self.aws.handle
            target = request.headers.get("x-amz-target", "")
            reading = target[target.rfind(".") + 1 :] in self._reading
            inline = reading and self._inline_reads
        if self._all_inline:
            return handler(request)
        if inline:
            try:
                return self._transactions.inline(handler, request)
            except WouldBlock:
                pass  # the database is locked: wait on a thread
        pool = self._reads if reading else self._writes
        assert pool is not None
        loop = asyncio.get_running_loop()
        deadline = arrived + self._lock_timeout
        return await loop.run_in_executor(pool, self._transactions.by, deadline, handler, request)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, reading at most `limit + 1` bytes (enough to know it is too big)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
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


def serve(
    app: App,
    host: str,
    port: int,
    *,
    workers: int = 1,
    log_level: str = "info",
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run `app` under uvicorn until SIGINT or SIGTERM, then finish in-flight requests.

    With `workers` > 1, that many processes share the listening socket; each opens its own
    connections to the database (every worker is a stateless server, as several machines
    behind a load balancer would be).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
        "log_config": _log_config(log_level),
    }
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # that was installed before it. Make that handler a no-op, so that a graceful stop exits 0.
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
    if workers > 1:
        os.environ[WORKER_CONFIG] = app.config.to_json()
        config = uvicorn.Config(
            "idstore.app:app_from_environment", factory=True, workers=workers, **options
        )
        sock = config.bind_socket()
        if on_ready is not None:
            on_ready()
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(uvicorn.Config(app, **options))
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets)
            on_ready()

        server.startup = startup  # type: ignore[method-assign]
    server.run()

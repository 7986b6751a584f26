"""The HTTP shell: a plain ASGI application, and `serve()` to run it under uvicorn.

This is the only module that knows about ASGI and the web server. It routes by path:

    GET  /health                      200 once the store is open and migrated
    *    /{IdentityStoreId}/scim/v2/…  the SCIM front end (bearer tokens: `idstore scim-tokens`)
    *    anything else                 the AWS JSON 1.1 gateway (POST / with X-Amz-Target)

and copies each request into a `wire.Request` for the front end's `handle`, with the client's
address (forwarded headers believed only from the configured proxies: forwarded.py). It is a
bare ASGI callable rather than a framework app: there are three routes, and a request should
cost the least the server allows (the performance target is a fraction of a bare ASGI app's rate).

SQLite requests run on the event loop: each is a few hundred microseconds of local work, and a
hop to a thread would cost more than it saves. PostgreSQL requests wait on the network, so they
run in a thread pool and the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from idstore import wire
from idstore.aws.gateway import Gateway
from idstore.config import Config
from idstore.forwarded import ForwardedHeaders
from idstore.scim.endpoints import ScimService, is_scim_path
from idstore.store import Store, open_store

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
        self._forwarded = ForwardedHeaders(config.trusted_proxies, config.proxy_header)
        inline = store.dialect == "sqlite" if threads is None else threads == 0
        self._pool = (
            None
            if inline
            else concurrent.futures.ThreadPoolExecutor(threads or 16, thread_name_prefix="idstore")
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
                if self._pool is not None:
                    self._pool.shutdown(wait=True)
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
        peer = scope.get("client")
        request = wire.Request(
            method=method,
            path=path,
            headers=headers,
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
            client_ip=self._forwarded.client(peer[0] if peer else None, headers),
        )
        handler: Handler = self.scim.handle if is_scim_path(path) else self.aws.handle
        if self._pool is None:
            response = handler(request)
        else:
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self._pool, handler, request)
        await _respond(send, response)


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
    return App(store or open_store(config.db_url), config)


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

"""In-process test mode: real boto3 clients served by idstore, with no server and no sockets.

    from idstore.testing import mock_identitystore

    @mock_identitystore()
    def test_something():
        client = boto3.client("identitystore")
        ...

While a mock is active, every botocore `identitystore` request to an AWS endpoint, from any
client, is answered in-process by the same `Gateway.handle` that the HTTP server uses: a
botocore `before-send` hook copies the signed request into a `wire.Request` and the
`wire.Response` back into a botocore response. Other AWS services are untouched. Each mock
has its own in-memory SQLite database (or a Store you pass in) and one identity store created
for it (`.store_id`).

The hook is registered once, when this module is imported, for every botocore session created
afterwards (and on boto3's default session); it does nothing while no mock is active.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from idstore import wire
from idstore.aws.gateway import Gateway
from idstore.config import Config
from idstore.model import now
from idstore.store import Store, open_store

__all__ = ["IdentityStoreMock", "mock_identitystore"]

F = TypeVar("F", bound=Callable[..., Any])

_EVENT = "before-send.identitystore"
_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_active: list[IdentityStoreMock] = []
_active_lock = threading.Lock()


class _Raw:
    """The minimal raw-stream interface botocore reads a response body through."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body


# Requests to AWS's own endpoints are served by the mock; a client given an `endpoint_url`
# elsewhere (a real idstore server, say) is left alone, as moto does.
_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def _before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    with _active_lock:
        mock = _active[-1] if _active else None
    if mock is None or not (urlsplit(request.url).hostname or "").endswith(_AWS_DOMAINS):
        return None
    return mock.send(request)


def _install() -> None:
    handler = (_EVENT, _before_send)
    if handler not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(handler)


_install()


class IdentityStoreMock:
    """One in-process identity store service; use as a context manager or a decorator."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        db_url: str = "sqlite://",
        config: Config | None = None,
    ) -> None:
        self._given_store = store
        self._db_url = db_url
        self.config = config or Config(db_url=db_url)
        self.store: Store | None = None
        self.gateway: Gateway | None = None
        self.store_id = ""
        self._saved_env: dict[str, str | None] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> IdentityStoreMock:
        self.store = self._given_store or open_store(self._db_url)
        self.gateway = Gateway(self.store, self.config)
        self.store_id = self.store.create_identity_store(now()).store_id
        self._set_dummy_credentials()
        _reset_boto3_default_session()
        with _active_lock:
            _active.append(self)
        return self

    def stop(self) -> None:
        with _active_lock:
            if self in _active:
                _active.remove(self)
        self._restore_env()
        if self.store is not None and self._given_store is None:
            self.store.close()
        _reset_boto3_default_session()

    def __enter__(self) -> IdentityStoreMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _set_dummy_credentials(self) -> None:
        for name, value in _DUMMY_ENV.items():
            if name == "AWS_SESSION_TOKEN" and os.environ.get("AWS_ACCESS_KEY_ID"):
                continue  # a real key without a token must stay usable as it is
            if not os.environ.get(name):
                self._saved_env[name] = os.environ.get(name)
                os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    # -- serving -----------------------------------------------------------------------------

    def send(self, request: AWSPreparedRequest) -> AWSResponse:
        """Answer one botocore request through the gateway."""
        assert self.gateway is not None, "the mock is not started"
        url = urlsplit(request.url)
        body = request.body
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body.read()
        response = self.gateway.handle(
            wire.Request(
                method=request.method,
                path=url.path or "/",
                headers={k.lower(): _text(v) for k, v in request.headers.items()},
                body=data,
                query=url.query,
            )
        )
        return AWSResponse(request.url, response.status, response.headers, _Raw(response.body))


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _reset_boto3_default_session() -> None:
    """Make boto3 build a new default session, so it sees the hook and the credentials."""
    try:
        import boto3
    except ImportError:  # pragma: no cover - botocore alone is enough
        return
    boto3.DEFAULT_SESSION = None


def mock_identitystore(**options: Any) -> IdentityStoreMock:
    """An in-process identitystore for tests; see `IdentityStoreMock` for the options."""
    return IdentityStoreMock(**options)


@contextmanager
def serving(store: Store, config: Config | None = None) -> Iterator[IdentityStoreMock]:
    """Serve an existing Store in-process for the duration of a `with` block."""
    mock = IdentityStoreMock(store=store, config=config)
    with mock:
        yield mock

"""In-process test mode: real boto3 clients served by idstore, with no server and no sockets.

    from idstore.testing import mock_identitystore

    @mock_identitystore()
    def test_something():
        client = boto3.client("identitystore")
        ...

While a mock is active, every botocore `identitystore` request to an AWS endpoint, from any
client (boto3's, botocore's, and aiobotocore's async clients alike) and any thread, is answered
in-process (and so are `sts` GetCallerIdentity and the `sso-admin` instance operations, which
Identity Center tools call first) by the same `Gateway.handle` that the HTTP server uses: a
botocore `before-send` hook copies the signed request into a `wire.Request` and the
`wire.Response` back into a botocore response. Other AWS services, and clients given an
`endpoint_url` of their own, are untouched. Each mock has its own in-memory SQLite database (or
a Store you pass in) and one identity store created for it (`.store_id`), so each starts empty.

Options, all off by default:

- `id_format="prefixed"` makes the mock's identity stores issue `<10 hex>-<uuid>` ids, as
  older AWS stores do, instead of bare UUIDs (see docs/compatibility.md).
- `auto_create_stores=True` creates any well-formed identity store id (the model's
  `IdentityStoreId` pattern, ARNs of this account included) the first time a request names it,
  as moto does; a suite written against moto moves over by changing its decorator.
- `faults={"ThrottlingException": 0.2, ...}` answers that share of requests with that modelled
  error instead of serving them, drawn from `random.Random(seed)`: for one seed, the n-th request
  gets the same answer on every run. A faulted request never reaches the store, so a retry is
  safe. `.injected` lists what was injected, as (operation, error code) pairs.

While active, the mock sets dummy credentials (and a region, if none is set) in the
environment, as moto does, so clients need no configuration; whatever was there before is put
back on exit. Clients must be created while the mock is active: botocore resolves credentials
when it builds a client. The hook is registered once, when this module is imported, for every
botocore session created afterwards; each mock gives boto3 a new default session (sharing
the parsed service models with the previous one), and puts the user's own back on exit. The
hook does nothing while no mock is active. Mocks nest: the innermost active one serves.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit

import botocore.handlers
import botocore.session
import orjson
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from idstore import errors, wire
from idstore.aws import protocol
from idstore.aws.gateway import Gateway
from idstore.config import Config
from idstore.model import IdFormat, now
from idstore.store import Store, open_store

__all__ = ["FAULTS", "IdentityStoreMock", "mock_identitystore"]

F = TypeVar("F", bound=Callable[..., Any])

# identitystore, and the calls tools make before it: STS and sso-admin (see aws/services.py).
_EVENTS = ("before-send.identitystore", "before-send.sts", "before-send.sso-admin")

# Set while a mock is active, whatever was there: real credentials must never sign a request
# a test makes (moto's rule too). A session token would not belong to the dummy key.
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_DROPPED = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# Set only when the environment names no region; a configured region works as well as any.
_REGION = ("AWS_DEFAULT_REGION", "us-east-1")


def _fault(code: str) -> errors.IdstoreError:
    message = f"{code} injected by idstore.testing."
    match code:
        case "ThrottlingException":
            return errors.Throttled("Rate exceeded. " + message, retry_after=1)
        case "InternalServerException":
            return errors.InternalError(message)
        case "AccessDeniedException":
            return errors.AccessDenied(message)
        case "ServiceQuotaExceededException":
            return errors.QuotaExceeded(message)
        case "ConflictException":
            return errors.Conflict("CONCURRENT_MODIFICATION", message)
        case _:
            return errors.InvalidInput(message)


# The modelled errors a mock can inject (ResourceNotFoundException needs a resource to name).
FAULTS = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "AccessDeniedException",
        "ServiceQuotaExceededException",
        "ConflictException",
        "ValidationException",
    }
)

_active: list[IdentityStoreMock] = []
_active_lock = threading.Lock()


class _Body(bytes):
    """A response body that botocore reads as bytes and aiobotocore awaits: its
    `AioAWSResponse.content` is a coroutine, and its endpoint `await`s it. One object serves
    both, so the hook needs to know nothing about which library sent the request."""

    def __await__(self) -> Generator[Any, None, bytes]:
        yield from ()
        return bytes(self)


class _Response(AWSResponse):  # type: ignore[misc]  # botocore is untyped
    """botocore's response, with the body already in hand (a `_Body`)."""

    def __init__(self, url: str, status: int, headers: Any, body: bytes) -> None:
        super().__init__(url, status, headers, _Raw(body))
        self._body = _Body(body)

    @property
    def content(self) -> _Body:
        return self._body


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
    for event in _EVENTS:
        handler = (event, _before_send)
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
        auto_create_stores: bool = False,
        faults: dict[str, float] | None = None,
        seed: int | None = None,
        id_format: IdFormat | str = IdFormat.UUID,
    ) -> None:
        self._given_store = store
        self.id_format = IdFormat(id_format)
        self._db_url = db_url
        self.config = config or Config(db_url=db_url)
        self.auto_create_stores = auto_create_stores
        self.faults = _checked_faults(faults or {})
        # Without a seed the faults are still reproducible: the seed drawn is kept here.
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.injected: list[tuple[str, str]] = []
        self.store: Store | None = None
        self.gateway: Gateway | None = None
        self.store_id = ""
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()  # the fault draws and the known store ids
        self._known_stores: set[str] = set()
        self._store_pattern: re.Pattern[str] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_session: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> IdentityStoreMock:
        if self.gateway is not None:
            raise RuntimeError("this mock is already active")
        self.store = self._given_store or open_store(self._db_url)
        self.gateway = Gateway(self.store, self.config)
        self.store_id = self.store.create_identity_store(now(), id_format=self.id_format).store_id
        self._known_stores = {self.store_id}
        self._random = random.Random(self.seed)
        self.injected = []
        pattern = self.gateway.spec.shape("IdentityStoreId").metadata["pattern"]
        self._store_pattern = re.compile(pattern)
        self._set_dummy_environment()
        self._saved_session = _swap_default_session(_new_default_session())
        with _active_lock:
            _active.append(self)
        return self

    def stop(self) -> None:
        with _active_lock:
            if self in _active:
                _active.remove(self)
        self._restore_env()
        _swap_default_session(self._saved_session)
        if self.store is not None and self._given_store is None:
            self.store.close()
        self.gateway = None

    def __enter__(self) -> IdentityStoreMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        if inspect.isclass(func):
            raise TypeError(
                "mock_identitystore decorates functions, not classes: decorate each test, use "
                "the `idstore` pytest fixture, or start the mock in setUp and stop it in tearDown"
            )
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def _set_dummy_environment(self) -> None:
        changes: dict[str, str | None] = dict(_DUMMY_CREDENTIALS)
        changes.update(dict.fromkeys(_DROPPED))
        if not os.environ.get(_REGION[0]):
            changes[_REGION[0]] = _REGION[1]
        for name, value in changes.items():
            self._saved_env[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
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
        """Answer one botocore request through the gateway (or with an injected fault)."""
        gateway = self.gateway
        if gateway is None:
            raise RuntimeError("the mock is not active")
        url = urlsplit(request.url)
        data = _body(request.body)
        headers = {k.lower(): _text(v) for k, v in request.headers.items()}
        # The HTTP client adds Host when it sends; SigV4 signs it, so the gateway needs it too.
        headers.setdefault("host", url.netloc)
        target = headers.get("x-amz-target", "")
        # Faults are identitystore's modelled errors: STS and sso-admin calls are served as is.
        fault = self._draw_fault(target) if target.startswith("AWSIdentityStore.") else None
        if fault is not None:
            response = protocol.failure(fault, str(uuid.uuid4()))
        else:
            if self.auto_create_stores:
                self._create_named_store(data)
            response = gateway.handle(
                wire.Request(
                    method=request.method,
                    path=url.path or "/",
                    headers=headers,
                    body=data,
                    query=url.query,
                )
            )
        return _Response(request.url, response.status, response.headers, response.body)

    def _draw_fault(self, target: str) -> errors.IdstoreError | None:
        if not self.faults:
            return None
        with self._lock:
            draw = self._random.random()
            for code, rate in self.faults.items():
                if draw < rate:
                    self.injected.append((target.rpartition(".")[2], code))
                    return _fault(code)
                draw -= rate
        return None

    def _create_named_store(self, body: bytes) -> None:
        """Create the identity store a request names, if it is well-formed and new."""
        assert self.gateway is not None and self.store is not None
        try:
            value = orjson.loads(body or b"{}").get("IdentityStoreId")
        except (orjson.JSONDecodeError, AttributeError):
            return  # the gateway reports the malformed request
        if not isinstance(value, str) or value in self._known_stores:
            return
        if self._store_pattern is None or not self._store_pattern.fullmatch(value):
            return
        try:
            store_id = self.gateway.operations.store_id(value)
        except errors.NotFound:
            return  # an ARN of another account: the gateway reports it
        with self._lock:
            if store_id not in self._known_stores:
                try:
                    self.store.get_identity_store(store_id)
                except errors.NotFound:
                    with suppress(errors.Conflict):  # created meanwhile by another thread
                        self.store.create_identity_store(now(), store_id, self.id_format)
                self._known_stores.update((store_id, value))


def _checked_faults(faults: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(faults) - FAULTS)
    if unknown:
        raise ValueError(f"cannot inject {unknown}: choose from {sorted(FAULTS)}")
    if any(not 0 <= rate <= 1 for rate in faults.values()) or sum(faults.values()) > 1:
        raise ValueError("fault rates must be between 0 and 1 and add up to at most 1")
    return {code: float(rate) for code, rate in faults.items() if rate > 0}


def _body(body: bytes | str | Any | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return bytes(body.read())


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


# botocore's data loader, shared by the default sessions of successive mocks: it caches the
# parsed service models, which a new session otherwise spends ~0.1 s reloading for its first
# client. Everything else about each mock's session (credentials, config, events) is new.
_loaders: list[Any] = []
_loader_lock = threading.Lock()


def _new_default_session() -> Any:
    """A boto3 session for one mock: built inside the dummy environment, with the hook."""
    try:
        import boto3
    except ImportError:  # pragma: no cover - botocore alone is enough
        return None
    core = botocore.session.Session()
    with _loader_lock:
        if _loaders:
            core.register_component("data_loader", _loaders[0])
    session = boto3.session.Session(botocore_session=core)
    loader = core.get_component("data_loader")
    with _loader_lock:
        if not _loaders:
            _loaders.append(loader)
        # boto3 adds its own data path to the loader of every session it wraps.
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return session


def _swap_default_session(session: Any) -> Any:
    """Make `session` boto3's default session; return the one it replaces."""
    try:
        import boto3
    except ImportError:  # pragma: no cover
        return None
    previous = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
    return previous


def mock_identitystore(
    *,
    auto_create_stores: bool = False,
    faults: dict[str, float] | None = None,
    seed: int | None = None,
    **options: Any,
) -> IdentityStoreMock:
    """An in-process identitystore for tests; see `IdentityStoreMock` for the options."""
    return IdentityStoreMock(
        auto_create_stores=auto_create_stores, faults=faults, seed=seed, **options
    )


@contextmanager
def serving(store: Store, config: Config | None = None) -> Iterator[IdentityStoreMock]:
    """Serve an existing Store in-process for the duration of a `with` block."""
    mock = IdentityStoreMock(store=store, config=config)
    with mock:
        yield mock

"""The AWS front end, end to end: `Gateway.handle(wire.Request) -> wire.Response`.

    body size → authenticate → parse (target, JSON) → authorize (the key's stores and rights)
    → validate against the model → source-IP rules of the store → throttle → dispatch to
    `Operations` → serialise the result or the error → one log line

The same endpoint also serves the calls Identity Center tools make before identitystore: STS
GetCallerIdentity (`aws/sts.py`) and sso-admin's instance operations (`aws/ssoadmin.py`).
`aws/services.py` tells from the request which API it is for; those two are authenticated by
the same authenticator (signed for their own signing names), logged the same way, and answered
in their own error shapes.

The ASGI app and the in-process test mode both call `handle`, so tests and production share one
code path. Nothing escapes it: a domain error becomes its AWS error shape, and anything
unexpected is logged with its traceback and answered as InternalServerException (500), with no
detail in the body.

Authentication follows `Config.auth` unless an authenticator is given: `OpenAccess` (local
mode) or `SigV4Access`. Each request is logged as one JSON object on the `idstore.requests`
logger (INFO, idstore/requestlog.py): request id, operation, identity store, principal, client
address, status, error code and latency. Nothing from the body is logged, so neither are
secrets, signatures nor members the model marks sensitive; when INFO is off, the line is not
even built.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from idstore import errors, requestlog, wire
from idstore.aws import protocol
from idstore.aws.access import OpenAccess, Principal, authorize, reading_operations
from idstore.aws.operations import Call, Operations
from idstore.aws.services import api_of
from idstore.aws.spec import Spec, load_spec
from idstore.aws.ssoadmin import SsoAdmin
from idstore.aws.sts import Sts
from idstore.aws.throttle import Throttle
from idstore.aws.validate import Validator
from idstore.config import Config
from idstore.sources import AllowedSources
from idstore.store import Store

log = logging.getLogger("idstore.aws")


class Authenticator(Protocol):
    def authenticate(self, request: wire.Request, service: str = ...) -> Principal: ...


def authenticator_for(store: Store, config: Config) -> Authenticator:
    """The authenticator `config.auth` asks for (no mode given: local mode)."""
    if config.auth == "sigv4":
        # Imported here: botocore's signing module is a tenth of a second of start-up.
        from idstore.aws.sigv4 import SigV4Access

        return SigV4Access(store, config)
    return OpenAccess(config.account_id)


class _Trace:
    """What one request turned out to be, for its log line."""

    __slots__ = ("operation", "principal", "store")

    def __init__(self) -> None:
        self.operation: str | None = None
        self.store: str | None = None
        self.principal: str | None = None


class Gateway:
    """Serves the identitystore API over one Store."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        spec: Spec | None = None,
        access: Authenticator | None = None,
    ) -> None:
        self.spec = spec or load_spec()
        self.config = config
        self._store = store
        self._validator = Validator(self.spec)
        self.operations = Operations(store, self.spec, self._validator, config)
        self._access = access or authenticator_for(store, config)
        self._reading = reading_operations(self.spec.operation_names)
        self._scoped = frozenset(
            name
            for name in self.spec.operation_names
            if "IdentityStoreId" in self.spec.operation(name).input_shape.members
        )
        self._throttle = Throttle(config.throttle_tps) if config.throttle_tps > 0 else None
        self._sources = AllowedSources("ApiAllowSourceIps", self._network_configuration)
        self._sts = Sts(self._access.authenticate, config.account_id, config.max_body_bytes)
        self._sso_admin = SsoAdmin(store, config, self._sources)

    def authenticate(self, request: wire.Request) -> Principal:
        """Who signed `request` (raises the domain errors SigV4 refusals map to)."""
        return self._access.authenticate(request)

    def handle(self, request: wire.Request) -> wire.Response:
        logging_on = requestlog.log.isEnabledFor(logging.INFO)
        started = time.perf_counter() if logging_on else 0.0
        request_id = requestlog.request_id()
        trace = _Trace()
        api = api_of(request)
        if api != "identitystore":
            response = self._other(api, request, request_id, trace)
            if logging_on:
                _log(request, response, request_id, trace, started)
            return response
        try:
            response = protocol.success(self._handle(request, trace), request_id)
        except errors.IdstoreError as error:
            response = protocol.failure(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            response = protocol.failure(
                errors.InternalError("The server could not complete the request."), request_id
            )
        if logging_on:
            _log(request, response, request_id, trace, started)
        return response

    def _handle(self, request: wire.Request, trace: _Trace) -> dict[str, Any] | bytes:
        protocol.check_size(request, self.config.max_body_bytes)  # before the signature
        principal = self._access.authenticate(request)
        trace.principal = principal.arn
        operation, params = protocol.parse(
            request, self.spec.target_prefix, self.spec.operation_names
        )
        trace.operation = operation
        store_id = trace.store = self._store_named(params)
        # Rights before validation, as IAM does: a key learns nothing about stores it may not use.
        if principal.read_only or principal.stores is not None:
            authorize(principal, operation, store_id, reading=self._reading, scoped=self._scoped)
        params = self._validator.check_input(operation, params)
        # After validation, so that throttling buckets and cached stores are keyed by valid
        # ids only; requests for stores that do not exist share one bucket per operation.
        known = False
        if store_id is not None and (request.client_ip or self._throttle is not None):
            known = self._sources.check(store_id, request.client_ip)
        if self._throttle is not None:
            self._throttle.take(store_id if known and store_id else "", operation)
        call = Call(principal.arn, principal.stores)
        result = self.operations.handlers[operation](params, call)
        if operation == "UpdateIdentityStore" and store_id is not None:
            self._sources.forget(store_id)  # this process sees its own change at once
        return result

    def _other(
        self, api: str, request: wire.Request, request_id: str, trace: _Trace
    ) -> wire.Response:
        """An STS or sso-admin request, answered in that API's shapes."""
        if api == "sts":
            response, trace.operation, trace.principal = self._sts.handle(request, request_id)
            return response
        try:
            principal = self._access.authenticate(request, "sso")
        except errors.IdstoreError as error:
            return protocol.failure(error, request_id)
        trace.principal = principal.arn
        outcome = self._sso_admin.handle(request, request_id, principal)
        trace.operation, trace.store = outcome.operation, outcome.store
        return outcome.response

    def _store_named(self, params: dict[str, Any]) -> str | None:
        """The identity store id a request names (from an id or an ARN), before validation."""
        value = params.get("IdentityStoreId")
        if not isinstance(value, str):
            return None  # none, or of a wrong type that validation reports
        try:
            return self.operations.store_id(value)
        except errors.NotFound:
            return value  # an ARN of another account: the operation reports it

    def _network_configuration(self, store_id: str) -> dict[str, Any] | None:
        try:
            store = self._store.get_identity_store(self.operations.store_id(store_id))
        except errors.NotFound:
            return None  # the operation itself reports the unknown store
        return store.network_configuration or {}


def _log(
    request: wire.Request,
    response: wire.Response,
    request_id: str,
    trace: _Trace,
    started: float,
) -> None:
    """The request's one log line (never anything from its body or its signature)."""
    store = trace.store
    line = {
        "request_id": request_id,
        "operation": trace.operation,
        "store": store[:64] if store else None,
        "principal": trace.principal,
        "client_ip": request.client_ip,
        "status": response.status,
        "error": response.headers.get("x-amzn-errortype"),
    }
    requestlog.write(line, started)

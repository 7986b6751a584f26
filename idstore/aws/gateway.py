"""The AWS front end, end to end: `Gateway.handle(wire.Request) -> wire.Response`.

    authenticate → parse (target, JSON) → source-IP rules of the store → validate against the
    model → dispatch to `Operations` → serialise the result or the error

The ASGI app and the in-process test mode both call `handle`, so tests and production share one
code path. Nothing escapes it: a domain error becomes its AWS error shape, and anything
unexpected is logged with its traceback and answered as InternalServerException (500), with no
detail in the body.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import uuid
from typing import Any, Protocol

from idstore import errors, wire
from idstore.aws import protocol
from idstore.aws.access import OpenAccess, Principal
from idstore.aws.operations import Call, Operations
from idstore.aws.spec import Spec, load_spec
from idstore.aws.validate import Validator
from idstore.config import Config
from idstore.model import now
from idstore.store import Store

log = logging.getLogger("idstore.aws")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# How long a process trusts its copy of a store's source-IP allow-list (other processes may
# change it through UpdateIdentityStore on the shared database).
NETWORK_CACHE_SECONDS = 1.0


class Authenticator(Protocol):
    def authenticate(self, request: wire.Request) -> Principal: ...


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
        self._access = access or OpenAccess(config.account_id)
        self._networks: dict[str, tuple[float, list[IpNetwork] | None]] = {}

    def handle(self, request: wire.Request) -> wire.Response:
        request_id = str(uuid.uuid4())
        try:
            return protocol.success(self._handle(request), request_id)
        except errors.IdstoreError as error:
            return protocol.failure(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return protocol.failure(
                errors.InternalError("The server could not complete the request."), request_id
            )

    def _handle(self, request: wire.Request) -> dict[str, Any] | bytes:
        principal = self._access.authenticate(request)
        operation, params = protocol.parse(
            request,
            self.spec.target_prefix,
            self.spec.operation_names,
            self.config.max_body_bytes,
        )
        params = self._validator.check_input(operation, params)
        store_id = params.get("IdentityStoreId")
        if store_id is not None and request.client_ip:
            self._check_source(store_id, request.client_ip)
        call = Call(principal.arn, now(), principal.stores)
        result = self.operations.handlers[operation](params, call)
        if operation == "UpdateIdentityStore" and store_id is not None:
            self._networks.pop(store_id, None)  # this process sees its own change at once
        return result

    def _check_source(self, store_id: str, client_ip: str) -> None:
        """Enforce the store's ApiAllowSourceIps (set with UpdateIdentityStore)."""
        allowed = self._allowed_networks(store_id)
        if allowed is None:
            return
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            address = None
        if address is None or not any(address in net for net in allowed):
            raise errors.AccessDenied(
                f"Requests from {client_ip} are not allowed by the identity store's "
                "ApiAllowSourceIps."
            )

    def _allowed_networks(self, store_id: str) -> list[IpNetwork] | None:
        cached = self._networks.get(store_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            store = self._store.get_identity_store(self.operations.store_id(store_id))
        except errors.NotFound:
            return None  # the operation itself reports the unknown store
        config = store.network_configuration or {}
        cidrs = config.get("ApiAllowSourceIps")
        networks = [ipaddress.ip_network(c, strict=False) for c in cidrs] if cidrs else None
        self._networks[store_id] = (time.monotonic() + NETWORK_CACHE_SECONDS, networks)
        return networks

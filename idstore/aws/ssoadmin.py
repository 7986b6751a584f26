"""sso-admin's instance operations: every identity store is an IAM Identity Center instance.

Tools find their identity store through sso-admin before they call identitystore: Terraform's
`data "aws_ssoadmin_instances"` (ListInstances), reporting tools, scripts that read
`IdentityStoreId` from `aws sso-admin list-instances`. idstore serves the five instance
operations, in AWS JSON 1.1 (`X-Amz-Target: SWBExternalService.<Operation>`, signing name
`sso`), on the same endpoint and keys as identitystore:

    ListInstances      the stores the key may use, in creation order (MaxResults, NextToken)
    DescribeInstance   one of them, by InstanceArn
    CreateInstance     a new, empty identity store (with its optional Name); idempotent by
                       ClientToken (Store.create_instance keeps the token with the store)
    UpdateInstance     its Name ("" removes it)
    DeleteInstance     the store and everything in it

An instance is `arn:aws:sso:::instance/ssoins-<16 hex>`, the hex being the first 64 bits of
SHA-256 over the store id (`model.instance_id`): the same store has the same ARN on every server
and after an export and import. Each store row keeps its instance id under a unique index, so
finding the store an ARN names is one indexed read (`Store.store_of_instance`); for a key
limited to some stores, the ARNs of those stores are compared instead. `OwnerAccountId` is the
server's account id, `CreatedDate` the store's creation time, `Status` always ACTIVE, `Name`
what CreateInstance or UpdateInstance gave (kept by `Store.set_instance_name`).

Rights, as for identitystore (see aws/access.py), checked before the ARN is looked up so that a
key learns nothing about stores it may not use: a key limited to some stores lists, describes
and renames only those, and is refused (AccessDeniedException) for any other ARN, existing or
not; a read-only key may only list and describe. Creating and deleting instances is an
administrator's act: it needs a read-write key for all stores (`idstore keys create` without
`--store`), as creating a store on the command line needs the database itself. A store's
`ApiAllowSourceIps` applies to the operations that name its instance.

Every other sso-admin operation is UnknownOperationException, naming the five served. The
members idstore reads are few; their limits and patterns are the sso-admin model's, kept here
as data (a test holds them equal to the installed botocore's model), so this module does not
depend on how, or whether, botocore's sso-admin model is loaded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from idstore import errors, wire
from idstore.aws import protocol
from idstore.aws.access import Principal
from idstore.aws.services import SSO_ADMIN_PREFIX
from idstore.config import Config
from idstore.errors import InvalidInput, MalformedRequest
from idstore.model import IdentityStore, instance_id, now
from idstore.sources import AllowedSources
from idstore.store import Store

log = logging.getLogger("idstore.aws")

SIGNING_NAME = "sso"
TARGET_PREFIX = SSO_ADMIN_PREFIX.rstrip(".")
OPERATIONS = (
    "ListInstances",
    "DescribeInstance",
    "CreateInstance",
    "UpdateInstance",
    "DeleteInstance",
)
READING = frozenset({"ListInstances", "DescribeInstance"})
# Operations only a read-write key for every store may call.
ADMINISTRATIVE = frozenset({"CreateInstance", "DeleteInstance"})


@dataclass(frozen=True)
class Limits:
    """A string member's constraints in the sso-admin model."""

    min: int
    max: int
    pattern: str


# The sso-admin model's constraints on the members read here (tests/aws/test_identity_center.py
# compares them with the installed botocore's model).
INSTANCE_ARN = Limits(
    10, 1224, r"arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}"
)
NAME = Limits(0, 255, r"[\w+=,.@-]+")
CLIENT_TOKEN = Limits(1, 64, r"[!-~]+")
NEXT_TOKEN = Limits(0, 2048, r"[-a-zA-Z0-9+=/_]*")
MAX_RESULTS = (1, 100)
TAGS_MAX = 75

# ASCII: the model's patterns are ECMAScript regular expressions, where \w is [A-Za-z0-9_].
_PATTERNS = {
    limits: re.compile(limits.pattern, re.ASCII)
    for limits in (INSTANCE_ARN, NAME, CLIENT_TOKEN, NEXT_TOKEN)
}
_ARN_PREFIX = "arn:aws:sso:::instance/"


def instance_arn(store_id: str) -> str:
    """The stable Identity Center instance ARN of an identity store."""
    return _ARN_PREFIX + instance_id(store_id)


@dataclass(frozen=True)
class Outcome:
    """One answered request, with what its log line names."""

    response: wire.Response
    operation: str | None = None
    store: str | None = None


class UnknownSsoOperation(errors.UnknownOperation):
    """An sso-admin operation idstore does not serve."""


class IdempotentParameterMismatch(errors.IdstoreError):
    """A CreateInstance's ClientToken was used before with other parameters (sso-admin's
    ConflictException)."""


class SsoAdmin:
    """Serves the sso-admin instance operations over one Store."""

    def __init__(self, store: Store, config: Config, sources: AllowedSources) -> None:
        self._store = store
        self._config = config
        self._sources = sources
        self._token_key = store.setting("page-token-key", lambda: secrets.token_hex(32)).encode()

    def handle(self, request: wire.Request, request_id: str, principal: Principal) -> Outcome:
        """Answer one authenticated sso-admin request."""
        operation: str | None = None
        store_id: str | None = None
        try:
            operation, params = self._parse(request)
            result, store_id = self._call(operation, params, principal, request.client_ip)
            return Outcome(protocol.success(result, request_id), operation, store_id)
        except errors.IdstoreError as error:
            return Outcome(failure(error, request_id), operation, store_id)
        except Exception:
            log.exception("request %s failed", request_id)
            internal = errors.InternalError("The server could not complete the request.")
            return Outcome(failure(internal, request_id), operation, store_id)

    def _parse(self, request: wire.Request) -> tuple[str, dict[str, Any]]:
        target = request.headers.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        if prefix == TARGET_PREFIX and request.method == "POST" and operation not in OPERATIONS:
            raise UnknownSsoOperation(
                f"sso-admin {operation[:64]} is not served here: idstore serves the sso-admin "
                f"operations {', '.join(OPERATIONS)} (each identity store is an instance)."
            )
        protocol.check_size(request, self._config.max_body_bytes)
        return protocol.parse(request, TARGET_PREFIX, frozenset(OPERATIONS))

    def _call(
        self, operation: str, params: dict[str, Any], principal: Principal, client_ip: str | None
    ) -> tuple[dict[str, Any], str | None]:
        _authorize(principal, operation)
        if operation == "ListInstances":
            return self._list(params, principal), None
        if operation == "CreateInstance":
            return self._create(params, principal)
        arn = _string(params, "InstanceArn", INSTANCE_ARN, required=True)
        assert arn is not None
        store_id = self._resolve(arn, principal, operation)
        try:
            return self._on_instance(operation, params, store_id, client_ip), store_id
        except errors.NotFound as missing:  # the store was deleted since it was looked up
            if missing.resource_type != "IDENTITY_STORE":
                raise
            raise _not_found(arn) from None

    def _on_instance(
        self, operation: str, params: dict[str, Any], store_id: str, client_ip: str | None
    ) -> dict[str, Any]:
        if client_ip:
            self._sources.check(store_id, client_ip)
        if operation == "DescribeInstance":
            return self._metadata([self._store.get_identity_store(store_id)])[0]
        if operation == "UpdateInstance":
            self._update(params, store_id)
            return {}
        self._store.delete_identity_store(store_id)
        self._sources.forget(store_id)
        return {}

    # -- operations --------------------------------------------------------------------------

    def _list(self, params: dict[str, Any], principal: Principal) -> dict[str, Any]:
        limit = _integer(params, "MaxResults", *MAX_RESULTS) or 100
        token = _string(params, "NextToken", NEXT_TOKEN)
        _enum(params, "RegionScope", ("CURRENT_REGION", "ALL_REGIONS"))
        after = self._position(token) if token else None
        page = self._store.list_identity_stores(after, limit, principal.stores)
        out: dict[str, Any] = {"Instances": self._metadata(page.items)}
        if page.after is not None:
            out["NextToken"] = self._token(page.after)
        return out

    # ListInstances' NextToken: `<position, hex>-<urlsafe base64 of an HMAC>`, within the
    # model's pattern `[-a-zA-Z0-9+=/_]*` (identitystore's tokens, with their `:`, are not).

    def _mac(self, position: str) -> str:
        message = b"ListInstances\x1f" + position.encode()
        digest = hmac.new(self._token_key, message, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def _token(self, after: int) -> str:
        position = format(after, "x")
        return f"{position}-{self._mac(position)}"

    def _position(self, token: str) -> int:
        position, _, mac = token.partition("-")
        well_formed = 0 < len(position) <= 16 and all(c in "0123456789abcdef" for c in position)
        if well_formed and hmac.compare_digest(self._mac(position).encode(), mac.encode()):
            return int(position, 16)
        raise InvalidInput(
            "The NextToken is not valid: pass back the NextToken of ListInstances exactly as "
            "returned."
        )

    def _create(self, params: dict[str, Any], principal: Principal) -> tuple[dict[str, Any], str]:
        name = _string(params, "Name", NAME)
        token = _string(params, "ClientToken", CLIENT_TOKEN)
        tags = params.get("Tags")
        if tags is not None and not isinstance(tags, list):
            raise MalformedRequest("Value at 'tags' must be a JSON array.")
        if tags:
            raise InvalidInput(
                "idstore keeps no tags on instances: call CreateInstance without Tags."
            )
        store, same = self._store.create_instance(now(), name, token, principal.arn)
        if not same:
            raise IdempotentParameterMismatch(
                "IdempotentParameterMismatch: this ClientToken was used for a CreateInstance "
                "with other parameters; use a new ClientToken for a new instance."
            )
        return {"InstanceArn": instance_arn(store.store_id)}, store.store_id

    def _update(self, params: dict[str, Any], store_id: str) -> None:
        for member in ("PermissionSetsEnabled", "NetworkConfiguration"):
            if params.get(member) is not None:
                raise InvalidInput(
                    f"idstore does not serve {member}: UpdateInstance can change the Name."
                )
        encryption = params.get("EncryptionConfiguration")
        if encryption is not None:
            key_type = encryption.get("KeyType") if isinstance(encryption, dict) else None
            if key_type != "AWS_OWNED_KMS_KEY":
                raise InvalidInput(
                    "idstore encrypts nothing with KMS: EncryptionConfiguration.KeyType can only "
                    "be AWS_OWNED_KMS_KEY."
                )
        if "Name" in params and params["Name"] is not None:
            self._store.set_instance_name(store_id, _string(params, "Name", NAME))
        else:
            self._store.get_identity_store(store_id)  # a missing store is still reported

    # -- instances ---------------------------------------------------------------------------

    def _metadata(self, stores: list[IdentityStore]) -> list[dict[str, Any]]:
        names = self._store.instance_names([s.store_id for s in stores])
        account = self._config.account_id
        out = []
        for store in stores:
            item: dict[str, Any] = {
                "InstanceArn": instance_arn(store.store_id),
                "IdentityStoreId": store.store_id,
                "IdentityStoreArn": (
                    f"arn:aws:identitystore::{account}:identitystore/{store.store_id}"
                ),
                "OwnerAccountId": account,
                "CreatedDate": round(store.created_at.timestamp(), 3),
                "Status": "ACTIVE",
            }
            if store.store_id in names:
                item["Name"] = names[store.store_id]
            out.append(item)
        return out

    def _resolve(self, arn: str, principal: Principal, operation: str) -> str:
        """The store id of instance `arn`: AccessDenied if not among the caller's stores,
        ResourceNotFoundException if no store has it."""
        if principal.stores is not None:
            for store_id in principal.stores:
                if instance_arn(store_id) == arn:
                    return store_id
            raise _denied(principal, operation, f"on {arn[:128]}")
        found = None
        if arn.startswith(_ARN_PREFIX):
            found = self._store.store_of_instance(arn[len(_ARN_PREFIX) :])
        if found is None:
            raise _not_found(arn)
        return found


def _not_found(arn: str) -> errors.NotFound:
    return errors.NotFound("IDENTITY_STORE", "", f"Instance not found: {arn[:128]}")


def _authorize(principal: Principal, operation: str) -> None:
    if principal.read_only and operation not in READING:
        raise _denied(principal, operation, "(its access key is read-only)")
    if operation in ADMINISTRATIVE and principal.stores is not None:
        raise _denied(
            principal, operation, "(creating and deleting instances needs a key for all stores)"
        )


def _denied(principal: Principal, operation: str, detail: str) -> errors.AccessDenied:
    return errors.AccessDenied(
        f"User: {principal.arn} is not authorized to perform: sso:{operation} {detail}."
    )


def _where(name: str) -> str:
    return name[:1].lower() + name[1:]


def _string(
    params: dict[str, Any], name: str, limits: Limits, *, required: bool = False
) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise InvalidInput(
                f"1 validation error detected: Value null at '{_where(name)}' failed to satisfy "
                "constraint: Member must not be null"
            )
        return None
    if not isinstance(value, str):
        raise MalformedRequest(f"Value at '{_where(name)}' must be a JSON string.")
    problem = None
    if len(value) < limits.min:
        problem = f"Member must have length greater than or equal to {limits.min}"
    elif len(value) > limits.max:
        problem = f"Member must have length less than or equal to {limits.max}"
    elif value and not _PATTERNS[limits].fullmatch(value):
        problem = f"Member must satisfy regular expression pattern: {limits.pattern}"
    if problem is not None:
        raise InvalidInput(
            f"1 validation error detected: Value at '{_where(name)}' failed to satisfy "
            f"constraint: {problem}"
        )
    return value


def _integer(params: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedRequest(f"Value at '{_where(name)}' must be a JSON integer.")
    if not low <= value <= high:
        bound = (
            f"greater than or equal to {low}" if value < low else f"less than or equal to {high}"
        )
        raise InvalidInput(
            f"1 validation error detected: Value '{value}' at '{_where(name)}' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    return value


def _enum(params: dict[str, Any], name: str, values: tuple[str, ...]) -> None:
    value = params.get(name)
    if value is not None and value not in values:
        raise InvalidInput(
            f"1 validation error detected: Value at '{_where(name)}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(values)}]"
        )


def failure(error: errors.IdstoreError, request_id: str) -> wire.Response:
    """An sso-admin error: the AWS JSON shape, with sso-admin's members (a missing instance is
    ResourceNotFoundException, a reused ClientToken ConflictException, each with a Message
    only)."""
    if isinstance(error, errors.NotFound):
        return _message_only("ResourceNotFoundException", error.message, request_id)
    if isinstance(error, IdempotentParameterMismatch):
        return _message_only("ConflictException", error.message, request_id)
    return protocol.failure(error, request_id)


def _message_only(code: str, message: str, request_id: str) -> wire.Response:
    headers = {
        "content-type": protocol.CONTENT_TYPE,
        "x-amzn-requestid": request_id,
        "x-amzn-errortype": code,
    }
    return wire.Response(400, orjson.dumps({"__type": code, "Message": message}), headers)

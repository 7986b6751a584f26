"""The SCIM front end, end to end: `ScimService.handle(wire.Request) -> wire.Response`.

    /{IdentityStoreId}/scim/v2/ ... route → bearer token of that store → ScimAllowSourceIps
    → parse (JSON, query) → resources / patch / queries → the Store → SCIM JSON or SCIM error

Endpoints (RFC 7644 §3.2), as AWS serves them, plus what the conformance tools need:

    /Users, /Groups                 GET (list, filter, page), POST; /.search POST
    /Users/{id}, /Groups/{id}       GET, PUT, PATCH, DELETE (PUT on groups is beyond AWS)
    /.search                        POST (both resource types)
    /ServiceProviderConfig          GET
    /Schemas[/{urn}]                GET
    /ResourceTypes[/{name}]         GET
    /Bulk, /Me                      501, as AWS does not offer them

Every endpoint needs a bearer token of the store in the URL, discovery included (as in AWS);
a token of another store is a 401 like any wrong token. Bodies are read as JSON whatever the
JSON media type (`application/scim+json`, `application/json`, none); responses are
`application/scim+json`. Writes are recorded as made by `SCIM`. A user PATCH answers 200 with
the user; a group PATCH answers 204 (Entra's advice: a group's members can be many), or 200
with the group when `attributes` or `excludedAttributes` asks for it.

Each request is logged as one JSON line on `idstore.requests` (idstore/requestlog.py), as the
AWS API's are: request id, method and path template (`PATCH /Groups/{id}`), identity store,
the resource id it named or created, the token's id, client address, status, error class,
for a refused bearer token the reason (missing, malformed, unknown, other_store, expired), and
latency; never a token, a body or a profile value.

Errors are domain errors raised anywhere below, answered through `_ERRORS`, the one table from
error class to HTTP status and `scimType`; anything unexpected is logged and answered 500
without detail. No input produces a 5xx.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from idstore import errors, requestlog, wire
from idstore.config import Config
from idstore.errors import IdstoreError, InvalidInput, NotFound, summarise
from idstore.model import GroupData, GroupRecord, Json, UserData, UserRecord, now
from idstore.scim import cursors, discovery, patch, queries, tokens
from idstore.scim.filter import parse_filter
from idstore.scim.problems import (
    InvalidCount,
    InvalidCursor,
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    MethodNotAllowed,
    Mutability,
    NoTarget,
    NotImplementedHere,
    PayloadTooLarge,
    UnknownEndpoint,
    UnsupportedMediaType,
)
from idstore.scim.projection import Projection
from idstore.scim.resources import (
    ACTOR,
    canonical_view,
    group_data,
    group_view,
    member_ids,
    user_data,
    user_view,
)
from idstore.scim.rules import GroupRules, UserRules
from idstore.scim.schema import ERROR, GROUPS, LIST_RESPONSE, USERS
from idstore.sources import AllowedSources
from idstore.store import Store
from idstore.store.groups import MemberChange

log = logging.getLogger("idstore.scim")

# DOTALL: a resource id may hold a newline (%0A); it is still a SCIM path, answered by SCIM.
_PREFIX = re.compile(r"/([^/]+)/scim/v2(?:/(.*))?", re.DOTALL)
# AWS: at most 100 membership changes in one PatchGroup (and members in one CreateGroup).
MAX_MEMBER_CHANGES = 100

_ERRORS: dict[type[IdstoreError], tuple[int, str | None]] = {
    InvalidFilter: (400, "invalidFilter"),
    InvalidCursor: (400, "invalidCursor"),
    InvalidCount: (400, "invalidCount"),
    InvalidPath: (400, "invalidPath"),
    NoTarget: (400, "noTarget"),
    Mutability: (400, "mutability"),
    InvalidSyntax: (400, "invalidSyntax"),
    errors.MalformedRequest: (400, "invalidSyntax"),
    errors.InvalidInput: (400, "invalidValue"),
    errors.QuotaExceeded: (400, None),
    errors.Unauthenticated: (401, None),
    errors.AccessDenied: (403, None),
    errors.NotFound: (404, None),
    errors.UnknownOperation: (404, None),
    UnknownEndpoint: (404, None),
    MethodNotAllowed: (405, None),
    errors.Conflict: (409, "uniqueness"),
    PayloadTooLarge: (413, None),
    UnsupportedMediaType: (415, None),
    errors.Throttled: (429, None),
    NotImplementedHere: (501, None),
    errors.Unavailable: (503, None),
    errors.InternalError: (500, None),
}

Result = tuple[int, Json | None, dict[str, str]]


def is_scim_path(path: str) -> bool:
    """Whether a request path is under `/{IdentityStoreId}/scim/v2`."""
    return _PREFIX.fullmatch(path) is not None


def error_response(
    status: int, detail: str, request_id: str, scim_type: str | None = None
) -> wire.Response:
    """A SCIM error (RFC 7644 §3.12); also for the HTTP layer's refusals (see app.py)."""
    body: Json = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type is not None:
        body["scimType"] = scim_type
    headers = {"content-type": "application/scim+json", "x-amzn-requestid": request_id}
    return wire.Response(status, orjson.dumps(body), headers)


def _status(error: IdstoreError) -> tuple[int, str | None]:
    for cls in type(error).__mro__:
        if cls in _ERRORS:
            status, scim_type = _ERRORS[cls]
            if (
                isinstance(error, errors.Conflict)
                and error.reason != "UNIQUENESS_CONSTRAINT_VIOLATION"
            ):
                scim_type = None
            return status, scim_type
    return 500, None


class ScimService:
    """Serves SCIM 2.0 for every identity store of one Store."""

    def __init__(
        self, store: Store, config: Config, *, users: UserRules, groups: GroupRules
    ) -> None:
        self._store = store
        self._config = config
        self._users = users
        self._groups = groups
        self._sources = AllowedSources(
            "ScimAllowSourceIps",
            lambda sid: store.get_identity_store(sid).network_configuration or {},
        )
        self.cursors = cursors.Cursors(
            store.setting("scim-cursor-key", lambda: secrets.token_hex(32)).encode()
        )

    # -- the request -------------------------------------------------------------------------

    def handle(self, request: wire.Request) -> wire.Response:
        started = time.perf_counter()
        request_id = requestlog.request_id()
        trace = _Trace()
        try:
            status, body, headers = self._handle(request, trace)
            payload = b"" if body is None else orjson.dumps(body)
        except IdstoreError as error:
            response = self._failure(error, request_id)
            trace.error = type(error).__name__
            if isinstance(error, tokens.RefusedToken):
                trace.auth_failure = error.reason
        except Exception:
            log.exception("SCIM request %s failed", request_id)
            response = self._failure(
                errors.InternalError("The server could not complete the request."), request_id
            )
            trace.error = "InternalError"
        else:
            headers = {"x-amzn-requestid": request_id, **headers}
            if body is not None:
                headers["content-type"] = "application/scim+json"
                if status == 201 and trace.resource is None:  # what a POST created
                    created = body.get("id")
                    trace.resource = created if isinstance(created, str) else None
            response = wire.Response(status, payload, headers)
        if requestlog.enabled():
            _log(request, response, request_id, trace, started)
        return response

    def _failure(self, error: IdstoreError, request_id: str) -> wire.Response:
        status, scim_type = _status(error)
        if status >= 500:
            log.error("SCIM request %s: %s", request_id, error.message)
        response = error_response(status, error.message, request_id, scim_type)
        if status == 401:
            response.headers["www-authenticate"] = 'Bearer realm="idstore-scim"'
        if isinstance(error, errors.Throttled | errors.Unavailable):
            response.headers["retry-after"] = str(error.retry_after)
        return response

    def _handle(self, request: wire.Request, trace: _Trace) -> Result:
        match = _PREFIX.fullmatch(request.path)
        if match is None:  # pragma: no cover - the app routes only matching paths here
            raise UnknownEndpoint(f"No SCIM endpoint at {request.path}.")
        store_id = trace.store = match.group(1)
        segments = [s for s in (match.group(2) or "").split("/") if s]
        trace.path, trace.resource = _template(segments)
        token = tokens.authenticate(self._store, request, store_id, now())
        trace.principal = f"scim-token/{token.token_id}"
        if request.client_ip:
            self._sources.check(store_id, request.client_ip)
        if len(request.body) > self._config.max_body_bytes:
            raise PayloadTooLarge(
                f"The request body is larger than {self._config.max_body_bytes} bytes."
            )
        call = _Call(self, request, store_id, segments)
        return call.route()

    # -- writes, shared by the handlers ------------------------------------------------------

    def check_user(self, data: UserData) -> UserData:
        attributes, extensions = self._users.check(data.attributes, data.extensions)
        return UserData(attributes, extensions, data.status)

    def check_group(self, data: GroupData) -> GroupData:
        problems: list[str] = []
        attributes = self._groups.check(data.attributes, problems)
        name = attributes.get("DisplayName")
        if name is None:
            problems.append(
                "Value null at 'displayName' failed to satisfy constraint: Member must not be null"
            )
        if problems:
            raise InvalidInput(summarise(problems))
        return GroupData(attributes)

    @property
    def store(self) -> Store:
        return self._store

    @property
    def config(self) -> Config:
        return self._config


class _Trace:
    """What one request turned out to be, for its log line."""

    __slots__ = ("auth_failure", "error", "path", "principal", "resource", "store")

    def __init__(self) -> None:
        self.store: str | None = None
        self.path: str | None = None
        self.resource: str | None = None
        self.principal: str | None = None
        self.error: str | None = None
        self.auth_failure: str | None = None


# The endpoints' names as the request log spells them, by lower-case first path segment.
_ENDPOINTS = {
    "users": "/Users",
    "groups": "/Groups",
    ".search": "/.search",
    "serviceproviderconfig": "/ServiceProviderConfig",
    "schemas": "/Schemas",
    "resourcetypes": "/ResourceTypes",
    "bulk": "/Bulk",
    "me": "/Me",
}


def _template(segments: list[str]) -> tuple[str, str | None]:
    """The path template of a request under the SCIM base URL (`/Users/{id}`), and the id of
    the resource it names, if any; `(other)` for a path that is no endpoint."""
    if not segments:
        return "/", None
    base = _ENDPOINTS.get(segments[0].lower())
    if base is None or len(segments) > 2:
        return "(other)", None
    if len(segments) == 1:
        return base, None
    if segments[1].lower() == ".search":
        return f"{base}/.search", None
    return f"{base}/{{id}}", segments[1]


def _log(
    request: wire.Request,
    response: wire.Response,
    request_id: str,
    trace: _Trace,
    started: float,
) -> None:
    """The request's one log line: ids and codes, never a token or anything from a body."""
    line = {
        "request_id": request_id,
        "operation": f"{requestlog.bounded(request.method, 16)} {trace.path or '(other)'}",
        "store": requestlog.bounded(trace.store),
        "resource": requestlog.bounded(trace.resource, 128),
        "principal": trace.principal,
        "client_ip": request.client_ip,
        "status": response.status,
        "error": trace.error,
        "auth_failure": trace.auth_failure,
    }
    requestlog.write(line, started)


def _not_a_member(missing: NotFound) -> IdstoreError:
    """What a missing user among a group's members is to a SCIM client (anything else that
    is missing stays NotFound)."""
    if missing.resource_type != "USER":
        return missing
    return InvalidInput(
        f"A member is not a user of this identity store: {missing.resource_id or '?'} "
        "(groups hold users only)."
    )


def _has(body: Json, name: str) -> bool:
    return any(str(key).lower() == name for key in body)


class _Call:
    """One routed request: its store, base URL and parameters, and a handler per endpoint."""

    def __init__(
        self, service: ScimService, request: wire.Request, store_id: str, segments: list[str]
    ) -> None:
        self.service = service
        self.store = service.store
        self.request = request
        self.store_id = store_id
        self.segments = segments
        proto = request.headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
        host = request.headers.get("host") or "localhost"
        self.base = f"{proto}://{host}/{store_id}/scim/v2"
        self.params = {k.lower(): v for k, v in parse_qsl(request.query, keep_blank_values=True)}

    def route(self) -> Result:
        method = self.request.method.upper()
        path = [s.lower() for s in self.segments]
        if not path:
            raise UnknownEndpoint("The SCIM base URL is not an endpoint: try /Users or /Groups.")
        head, rest = path[0], self.segments[1:]
        if head in ("bulk", "me") and len(rest) == 0:
            raise NotImplementedHere(f"/{self.segments[0]} is not supported (as in AWS).")
        if head == "serviceproviderconfig" and not rest:
            self._allow(method, "GET")
            return 200, discovery.service_provider_config(self.base), {}
        if head == "schemas" and len(rest) <= 1:
            self._allow(method, "GET")
            return 200, self._schemas(rest), {}
        if head == "resourcetypes" and len(rest) <= 1:
            self._allow(method, "GET")
            return 200, self._resource_types(rest), {}
        if head == ".search" and not rest:
            self._allow(method, "POST")
            return self._search(None)
        if head in ("users", "groups") and len(rest) <= 1:
            return self._resources(method, head, rest[0] if rest else None)
        raise UnknownEndpoint(f"No SCIM endpoint at /{'/'.join(self.segments)}.")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise MethodNotAllowed(f"{method} is not allowed here; use {', '.join(allowed)}.")

    def _schemas(self, rest: list[str]) -> Json:
        if not rest:
            return discovery.schemas(self.base)
        found = discovery.find_schema(rest[0])
        if found is None:
            raise UnknownEndpoint(f"No schema {rest[0]}.")
        return discovery.schema(self.base, found)

    def _resource_types(self, rest: list[str]) -> Json:
        if not rest:
            return discovery.resource_types(self.base)
        found = discovery.find_resource_type(rest[0])
        if found is None:
            raise UnknownEndpoint(f"No resource type {rest[0]}.")
        return discovery.resource_type(self.base, found)

    def _resources(self, method: str, kind: str, resource_id: str | None) -> Result:
        users = kind == "users"
        if resource_id == ".search":
            self._allow(method, "POST")
            return self._search(kind)
        handlers: dict[str, Callable[..., Result]]
        if resource_id is None:
            handlers = {
                "GET": self._list_users if users else self._list_groups,
                "POST": self._create_user if users else self._create_group,
            }
            self._allow(method, *handlers)
            return handlers[method]()
        handlers = {
            "GET": self._get_user if users else self._get_group,
            "PUT": self._put_user if users else self._put_group,
            "PATCH": self._patch_user if users else self._patch_group,
            "DELETE": self._delete_user if users else self._delete_group,
        }
        self._allow(method, *handlers)
        return handlers[method](resource_id)

    # -- parameters --------------------------------------------------------------------------

    def _body(self) -> Json:
        media = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media and media != "application/json" and not media.endswith("+json"):
            raise UnsupportedMediaType(
                f"The body must be application/scim+json or application/json, not {media}."
            )
        if not self.request.body.strip():
            raise InvalidSyntax("The request needs a JSON body.")
        try:
            body = orjson.loads(self.request.body)
        except orjson.JSONDecodeError as error:
            raise InvalidSyntax(f"The body is not valid JSON: {error}.") from None
        if not isinstance(body, dict):
            raise InvalidSyntax("The body must be a JSON object.")
        return body

    def _projection(self) -> Projection:
        return Projection.parse(
            self.params.get("attributes"), self.params.get("excludedattributes")
        )

    @staticmethod
    def _integer(value: Any, name: str, default: int) -> int:
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InvalidInput(f"'{name}' must be an integer.")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"'{name}' must be an integer.") from None

    def _page(self, params: dict[str, Any]) -> tuple[int, int]:
        # Past the end is an empty page; the cap keeps the echoed startIndex a JSON integer.
        start = min(max(1, self._integer(params.get("startindex"), "startIndex", 1)), 2**31)
        count = self._integer(params.get("count"), "count", discovery.MAX_RESULTS)
        return start, min(max(0, count), discovery.MAX_RESULTS)

    @staticmethod
    def _filter(params: dict[str, Any]) -> Any:
        text = params.get("filter")
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        if not isinstance(text, str):
            raise InvalidFilter("'filter' must be a string.")
        return parse_filter(text)

    @staticmethod
    def _listing(total: int, start: int, resources: list[Json]) -> Json:
        return {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }

    # -- listing and search ------------------------------------------------------------------

    def _list_users(self) -> Result:
        return self._listed("users", self.params, self._projection())

    def _list_groups(self) -> Result:
        return self._listed("groups", self.params, self._projection())

    def _search(self, kind: str | None) -> Result:
        body = self._body()
        params: dict[str, Any] = {k.lower(): v for k, v in body.items()}
        parts = []
        for name in ("attributes", "excludedattributes"):
            value = params.get(name)
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            elif value is not None and not isinstance(value, str):
                raise InvalidInput(f"'{name}' must be a list of attribute paths.")
            parts.append(value)
        return self._listed(kind, params, Projection.parse(parts[0], parts[1]))

    def _listed(self, kind: str | None, params: dict[str, Any], projection: Projection) -> Result:
        terms = self._filter(params)
        if "cursor" in params:
            return self._cursor_listed(kind, params, terms, projection)
        start, count = self._page(params)
        if kind == "users":
            page = queries.users(self.store, self.store_id, terms, start, count)
        elif kind == "groups":
            page = queries.groups(self.store, self.store_id, terms, start, count)
        else:
            page = queries.everything(self.store, self.store_id, terms, start, count)
        resources = self._resources_of(page.users, page.groups, projection)
        return 200, self._listing(page.total, start, resources), {}

    def _cursor_listed(
        self, kind: str | None, params: dict[str, Any], terms: Any, projection: Projection
    ) -> Result:
        """A cursor-paged listing (RFC 9865; see scim/cursors.py)."""
        if params.get("startindex") not in (None, ""):
            raise InvalidInput("Page with either 'startIndex' or 'cursor', not both.")
        cursor = params["cursor"]
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidCursor("'cursor' must be a string (empty for the first page).")
        try:
            count = self._integer(params.get("count"), "count", discovery.MAX_RESULTS)
        except InvalidInput as error:
            raise InvalidCount(error.message) from None
        count = min(max(0, count), discovery.MAX_RESULTS)
        text = params.get("filter")
        binding = (self.store_id, kind or "all", text.strip() if isinstance(text, str) else "")
        start = self.service.cursors.verify(cursor, *binding) if cursor else None
        page = queries.cursor_page(self.store, self.store_id, kind, terms, start, count)
        resources = self._resources_of(page.users, page.groups, projection)
        listing: Json = {
            "schemas": [LIST_RESPONSE],
            "totalResults": page.total,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
        if page.next is not None:
            listing["nextCursor"] = self.service.cursors.issue(page.next, *binding)
        return 200, listing, {}

    def _resources_of(
        self, users: list[UserRecord], groups: list[GroupRecord], projection: Projection
    ) -> list[Json]:
        resources = [projection.apply(USERS, user_view(u, self.base)) for u in users]
        # Lists embed no members (as AWS's, whose group reads embed none): a page then costs
        # what its `count` says, however large the groups (see docs/limits.md).
        resources += [
            projection.apply(GROUPS, self._group_view(g, with_members=False)) for g in groups
        ]
        return resources

    # -- users -------------------------------------------------------------------------------

    def _user(self, user: UserRecord, status: int = 200) -> Result:
        view = self._projection().apply(USERS, user_view(user, self.base))
        headers = {"location": view["meta"]["location"]} if status == 201 and "meta" in view else {}
        return status, view, headers

    def _get_user(self, user_id: str) -> Result:
        return self._user(self.store.get_user(self.store_id, user_id))

    def _create_user(self) -> Result:
        view = canonical_view(USERS, self._body())
        data = self.service.check_user(user_data(view, None, keep_absent_external_id=False))
        user = self.store.create_user(
            self.store_id,
            data,
            actor=ACTOR,
            at=now(),
            max_users=self.service.config.max_users_per_store,
        )
        return self._user(user, 201)

    def _put_user(self, user_id: str) -> Result:
        view = canonical_view(USERS, self._body())

        def change(current: UserRecord) -> UserData:
            return self.service.check_user(user_data(view, current, keep_absent_external_id=True))

        return self._user(self._update_user(user_id, change))

    def _patch_user(self, user_id: str) -> Result:
        operations = patch.parse_operations(self._body())

        def change(current: UserRecord) -> UserData:
            patched = patch.apply(USERS, user_view(current, self.base), operations)
            return self.service.check_user(
                user_data(patched, current, keep_absent_external_id=False)
            )

        return self._user(self._update_user(user_id, change))

    def _update_user(self, user_id: str, change: Callable[[UserRecord], UserData]) -> UserRecord:
        return self.store.update_user(
            self.store_id, user_id, change, expected_revision=None, actor=ACTOR, at=now()
        )

    def _delete_user(self, user_id: str) -> Result:
        self.store.delete_user(self.store_id, user_id, expected_revision=None)
        return 204, None, {}

    # -- groups ------------------------------------------------------------------------------

    def _group_view(self, group: GroupRecord, with_members: bool) -> Json:
        """The group's view, with at most `scim_max_members` members when `with_members`."""
        members = None
        if with_members:
            limit = self.service.config.scim_max_members
            members = self.store.group_member_ids(self.store_id, group.group_id, limit)
        return group_view(group, self.base, members)

    def _group(self, group: GroupRecord, status: int = 200) -> Result:
        projection = self._projection()
        view = projection.apply(
            GROUPS, self._group_view(group, projection.wants(GROUPS, "members"))
        )
        headers = {"location": view["meta"]["location"]} if status == 201 and "meta" in view else {}
        return status, view, headers

    def _get_group(self, group_id: str) -> Result:
        return self._group(self.store.get_group(self.store_id, group_id))

    def _change_group(
        self,
        group_id: str,
        change: Callable[[GroupRecord], GroupData | None],
        members: list[MemberChange],
    ) -> GroupRecord:
        try:
            return self.store.change_group(
                self.store_id,
                group_id,
                change,
                members,
                actor=ACTOR,
                at=now(),
                max_member_changes=MAX_MEMBER_CHANGES,
            )
        except NotFound as missing:
            raise _not_a_member(missing) from None

    def _create_group(self) -> Result:
        view = canonical_view(GROUPS, self._body())
        data = self.service.check_group(group_data(view, None, keep_absent_external_id=False))
        ids = member_ids(view.get("members"))
        if len(ids) > MAX_MEMBER_CHANGES:
            raise InvalidInput(f"A group can be created with at most {MAX_MEMBER_CHANGES} members.")
        try:
            # One transaction: the group appears with its members, or not at all.
            group = self.store.create_group(
                self.store_id,
                data,
                actor=ACTOR,
                at=now(),
                max_groups=self.service.config.max_groups_per_store,
                member_ids=ids,
            )
        except NotFound as missing:
            raise _not_a_member(missing) from None
        return self._group(group, 201)

    def _put_group(self, group_id: str) -> Result:
        body = self._body()
        view = canonical_view(GROUPS, body)
        members = []
        if _has(body, "members"):  # absent: the membership is not asserted, and kept
            members = [MemberChange("replace", tuple(member_ids(view.get("members"))))]

        def change(current: GroupRecord) -> GroupData:
            return self.service.check_group(group_data(view, current, keep_absent_external_id=True))

        return self._group(self._change_group(group_id, change, members))

    def _patch_group(self, group_id: str) -> Result:
        operations = patch.parse_operations(self._body())
        members = patch.member_changes(operations)

        def change(current: GroupRecord) -> GroupData | None:
            view = group_view(current, self.base, None)
            patched = patch.apply(GROUPS, view, operations)
            if patched == view:
                return None
            return self.service.check_group(
                group_data(patched, current, keep_absent_external_id=False)
            )

        group = self._change_group(group_id, change, members)
        if "attributes" in self.params or "excludedattributes" in self.params:
            return self._group(group)
        return 204, None, {}

    def _delete_group(self, group_id: str) -> Result:
        self.store.delete_group(self.store_id, group_id, expected_revision=None)
        return 204, None, {}

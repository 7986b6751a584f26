"""The admin console, end to end: `ConsoleService.handle(wire.Request) -> wire.Response`.

    /console/… route → session cookie (signed; see sessions.py) → the signed-in access key,
    re-read (cached for a second) → for a POST: the form (bounded) and its CSRF token → the
    store's rights and source-IP rules → the page → HTML with the security headers

Routes (every page of a store is under /console/stores/{IdentityStoreId}/):

    GET       /console/                        the stores the key may use (one: straight in)
    GET,POST  /console/sign-in                 sign in with an access key (--auth sigv4)
    POST      /console/sign-out
    GET       /console/static/{hash}/{name}    the stylesheet
    GET       …/users  …/users/{id}             list and search; a user
    GET,POST  …/users/new  …/users/{id}/edit  …/users/{id}/delete
    GET       …/groups  …/groups/{id}           list and search; a group and its members
    GET,POST  …/groups/new  …/groups/{id}/edit  …/groups/{id}/delete
    POST      …/groups/{id}/members  …/groups/{id}/members/{membership id}/remove
    GET,POST  …/scim-tokens;  POST …/scim-tokens/{id}/delete

With `--auth none` (local mode) nobody signs in: every visitor is the account's root, as an
unsigned API request is. With `--auth sigv4` every page but sign-in needs a session whose key
still exists and has not signed out since; a deleted key's sessions end within a second. A
session ends after `Config.console_session_seconds`.

Every response forbids framing and inline script (Content-Security-Policy), sniffing, caching
(pages) and referrers; the session cookie is HttpOnly and SameSite=Strict. Nothing secret is in
a URL, and the log line of a request names its route, not its path or query.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson

from idstore import errors, wire
from idstore.bounded import LruCache
from idstore.config import Config
from idstore.console import groups, tokens, users
from idstore.console.forms import FormError, parse_form
from idstore.console.render import STATIC_PREFIX, Templates
from idstore.console.rules import GroupRules, TokenIssuer, UserRules
from idstore.console.sessions import Session, Sessions, cookie_value, derive_secret
from idstore.console.signin import (
    Admin,
    FailedSignIns,
    admin_of,
    check_secret,
    local_admin,
)
from idstore.console.visit import Context, Visit
from idstore.model import now, to_ms
from idstore.serverkey import ServerKey
from idstore.sources import AllowedSources
from idstore.store import Store
from idstore.store.credentials import AccessKey

log = logging.getLogger("idstore.console")

PREFIX = "/console"
KEY_CACHE_SECONDS = 1.0
MAX_QUERY_FIELDS = 20  # the console's links carry at most three
_MAX_CACHED_KEYS = 1024

_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}

Page = Callable[..., wire.Response]


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    page: Page
    in_store: bool = True


def _routes() -> list[Route]:
    store = r"/console/stores/(?P<store_id>[^/]+)"
    table: list[tuple[str, str, str, Page]] = [
        ("users", "GET", "/users", users.list_users),
        ("user.new", "GET POST", "/users/new", users.new_user),
        ("user", "GET", "/users/(?P<user_id>[^/]+)", users.show_user),
        ("user.edit", "GET POST", "/users/(?P<user_id>[^/]+)/edit", users.edit_user),
        ("user.delete", "GET POST", "/users/(?P<user_id>[^/]+)/delete", users.delete_user),
        ("groups", "GET", "/groups", groups.list_groups),
        ("group.new", "GET POST", "/groups/new", groups.new_group),
        ("group", "GET", "/groups/(?P<group_id>[^/]+)", groups.show_group),
        ("group.edit", "GET POST", "/groups/(?P<group_id>[^/]+)/edit", groups.edit_group),
        ("group.delete", "GET POST", "/groups/(?P<group_id>[^/]+)/delete", groups.delete_group),
        ("member.add", "POST", "/groups/(?P<group_id>[^/]+)/members", groups.add_member),
        (
            "member.remove",
            "POST",
            "/groups/(?P<group_id>[^/]+)/members/(?P<membership_id>[^/]+)/remove",
            groups.remove_member,
        ),
        ("tokens", "GET POST", "/scim-tokens", tokens.list_tokens),
        ("token.delete", "POST", "/scim-tokens/(?P<token_id>[^/]+)/delete", tokens.delete_token),
        ("store", "GET", "/?", _store_home),
    ]
    return [
        Route(name, frozenset(methods.split()), re.compile(store + tail), page)
        for name, methods, tail, page in table
    ]


def _store_home(ctx: Context, visit: Visit) -> wire.Response:
    return visit.redirect(visit.store_url("/users"))


_STATUS_TITLES = {
    400: "The request was refused",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    415: "Unsupported form",
    429: "Too many requests",
    500: "Something went wrong",
}
_ERROR_STATUS: list[tuple[type[errors.IdstoreError], int]] = [
    (errors.NotFound, 404),
    (errors.AccessDenied, 403),
    (errors.Throttled, 429),
    (errors.Conflict, 409),
    (errors.IdstoreError, 400),
]


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class ConsoleService:
    """Serves the admin console for every identity store of one Store."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        users: UserRules,
        groups: GroupRules,
        issue_token: TokenIssuer,
        server_key: ServerKey | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._local = config.auth != "sigv4"
        self._templates = Templates()
        self._ctx = Context(
            store,
            users,
            groups,
            issue_token,
            self._templates,
            self._local,
            config.max_users_per_store,
            config.max_groups_per_store,
        )
        if self._local:
            self._server_key = None
            # No server key in local mode: sessions only carry CSRF tokens, under a secret all
            # processes on the database share.
            secret = bytes.fromhex(
                store.setting("console-session-key", lambda: secrets.token_hex(32))
            )
        else:
            self._server_key = server_key or store.open_server_key(config).key
            secret = derive_secret(self._server_key.text().encode())
        self._sessions = Sessions(secret, config.console_session_seconds)
        self._failures = FailedSignIns()
        self._routes = _routes()
        self._sources = AllowedSources(
            "ApiAllowSourceIps", lambda sid: store.get_identity_store(sid).network_configuration
        )
        # access key id -> (monotonic expiry, the key or None, when it last signed out)
        self._keys: LruCache[str, tuple[float, AccessKey | None, int]] = LruCache(_MAX_CACHED_KEYS)

    @property
    def route_names(self) -> list[str]:
        """Every name `route_name` returns: the metrics' operations of the console."""
        return ["home", "static", "sign-in", "sign-out", *(r.name for r in self._routes)]

    def route_name(self, path: str) -> str:
        """The name of the route that serves `path` (for metrics), "other" if none does."""
        if path in (PREFIX, PREFIX + "/"):
            return "home"
        if path.startswith(STATIC_PREFIX):
            return "static"
        if path in (PREFIX + "/sign-in", PREFIX + "/sign-out"):
            return path.rsplit("/", 1)[1]
        for route in self._routes:
            if route.pattern.fullmatch(path):
                return route.name
        return "other"

    # -- the request -------------------------------------------------------------------------

    def handle(self, request: wire.Request, *, secure: bool = False) -> wire.Response:
        started = time.perf_counter()
        trace: dict[str, Any] = {"route": None, "principal": None}
        try:
            response = self._handle(request, secure, trace)
        except Exception:
            log.exception("console request failed")
            response = self._error(request, 500, "The server could not complete the request.")
        headers = {**_SECURITY_HEADERS, **response.headers}
        headers.setdefault("cache-control", "no-store")
        if secure:
            headers["strict-transport-security"] = "max-age=31536000"
        if log.isEnabledFor(logging.INFO):
            line = {
                "console": trace["route"],
                "method": request.method,
                "status": response.status,
                "principal": trace["principal"],
                "client_ip": request.client_ip,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }
            log.info(orjson.dumps(line).decode())
        return wire.Response(response.status, response.body, headers)

    def _handle(self, request: wire.Request, secure: bool, trace: dict[str, Any]) -> wire.Response:
        path = request.path
        if path == PREFIX:
            return wire.Response(308, b"", {"location": PREFIX + "/"})
        if path.startswith(STATIC_PREFIX):
            trace["route"] = "static"
            return self._static(path[len(STATIC_PREFIX) :])
        set_cookie: str | None = None
        session = self._session_of(request)
        admin = None if session is None else self._admin_of(session)
        if session is None or (session.key_id is not None and admin is None):
            session = self._sessions.new(None)  # none yet, expired, or its key is gone
            set_cookie = self._sessions.cookie(session, secure=secure)
            admin = self._admin_of(session)  # local mode's admin, or nobody
        trace["principal"] = admin.arn if admin else None
        response = self._route(request, session, admin, secure, trace)
        if set_cookie is not None and "set-cookie" not in response.headers:
            response.headers["set-cookie"] = set_cookie
        return response

    def _route(
        self,
        request: wire.Request,
        session: Session,
        admin: Admin | None,
        secure: bool,
        trace: dict[str, Any],
    ) -> wire.Response:
        try:
            query = dict(parse_qsl(request.query, max_num_fields=MAX_QUERY_FIELDS))
        except ValueError:
            return self._error(request, 400, "The address has too many query parameters.")
        visit = Visit(
            request,
            self._templates,
            self._sessions.csrf_token(session),
            admin,
            self._local,
            query,
            secure=secure,
        )
        path, method = request.path, request.method
        if method == "POST":
            refusal = self._read_form(request, session, visit)
            if refusal is not None:
                trace["route"] = "form"
                return refusal
        if path in (PREFIX + "/sign-in", PREFIX + "/sign-out"):
            trace["route"] = path.rsplit("/", 1)[1]
            if method not in ("GET", "POST") or (path.endswith("out") and method != "POST"):
                return self._error(request, 405, "Use the form on the page.", visit)
            if path.endswith("out"):
                return self._sign_out(session, secure)
            return self._sign_in(request, visit, admin, secure)
        if admin is None:
            trace["route"] = "sign-in"
            if method != "GET":
                return self._error(request, 403, "Your session has ended: sign in again.", visit)
            return self._sign_in_page(visit, next_path=path)
        if path == PREFIX + "/":
            trace["route"] = "home"
            return self._home(visit, admin)
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is not None:
                trace["route"] = route.name
                return self._store_page(route, match.groupdict(), request, visit, admin)
        return self._error(request, 404, "There is no such page in the console.", visit)

    def _read_form(
        self, request: wire.Request, session: Session, visit: Visit
    ) -> wire.Response | None:
        """Read a posted form into `visit`; a refusal if it is not one, or lacks the session's
        CSRF token."""
        try:
            visit.form = parse_form(request.headers.get("content-type", ""), request.body)
        except FormError as error:
            return self._error(request, error.status, error.message, visit)
        if not self._sessions.csrf_ok(session, visit.form.get("csrf", "")):
            return self._error(
                request,
                403,
                "This form has expired or did not come from this console: reload the page "
                "and try again.",
                visit,
            )
        return None

    def _store_page(
        self,
        route: Route,
        params: dict[str, str],
        request: wire.Request,
        visit: Visit,
        admin: Admin,
    ) -> wire.Response:
        if request.method not in route.methods:
            return self._error(request, 405, "This page does not take that method.", visit)
        visit.store_id = params.pop("store_id")
        visit.section = "groups" if route.name.startswith(("group", "member")) else "users"
        try:
            if not admin.may_use(visit.store_id):
                admin.require("DescribeIdentityStore", visit.store_id)
            self._store.get_identity_store(visit.store_id)
            if request.client_ip:
                self._sources.check(visit.store_id, request.client_ip)
            return route.page(self._ctx, visit, **params)
        except errors.IdstoreError as error:
            status = next(s for cls, s in _ERROR_STATUS if isinstance(error, cls))
            return self._error(request, status, error.message, visit)

    # -- pieces ------------------------------------------------------------------------------

    def _error(
        self, request: wire.Request, status: int, message: str, visit: Visit | None = None
    ) -> wire.Response:
        body = self._templates.render(
            "error.html",
            title=_STATUS_TITLES.get(status, "The request was refused"),
            message=message,
            csrf=visit.csrf if visit else "",
            admin=visit.admin if visit else None,
            local_mode=self._local,
            store_id=visit.store_id if visit else None,
            section=visit.section if visit else None,
            notice=None,
        )
        headers = {"content-type": "text/html; charset=utf-8"}
        if status == 405:
            headers["allow"] = "GET, POST"
        return wire.Response(status, body, headers)

    def _static(self, name: str) -> wire.Response:
        found = self._templates.static.get(name)
        if found is None:
            return wire.Response(404, b"Not found", {"content-type": "text/plain"})
        body, content_type = found
        return wire.Response(
            200,
            body,
            {"content-type": content_type, "cache-control": "public, max-age=31536000, immutable"},
        )

    def _session_of(self, request: wire.Request) -> Session | None:
        value = cookie_value(request.headers.get("cookie", ""))
        return None if value is None else self._sessions.decode(value)

    def _admin_of(self, session: Session) -> Admin | None:
        """Who this session is: local mode's root; the key it signed in with, if that still
        exists and has not signed out since; or nobody."""
        if self._local:
            return local_admin(self._config.account_id)
        if session.key_id is None:
            return None
        key, signed_out = self._key(session.key_id)
        if key is None or session.issued <= signed_out:
            return None
        return admin_of(key, self._config.account_id)

    def _key(self, key_id: str) -> tuple[AccessKey | None, int]:
        clock = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and cached[0] > clock:
            return cached[1], cached[2]
        key = self._store.get_access_key(key_id)
        signed_out = self._store.console_signed_out(key_id) if key is not None else 0
        self._keys.put(key_id, (clock + KEY_CACHE_SECONDS, key, signed_out))
        return key, signed_out

    def _home(self, visit: Visit, admin: Admin) -> wire.Response:
        stores = self._store.list_identity_stores(None, 1000, admin.stores).items
        if len(stores) == 1:
            return visit.redirect(f"{PREFIX}/stores/{stores[0].store_id}/users")
        return visit.page("stores.html", title="Identity stores", stores=stores)

    # -- signing in and out ------------------------------------------------------------------

    def _sign_in_page(
        self,
        visit: Visit,
        *,
        next_path: str = "",
        status: int = 200,
        error: str = "",
        key_id: str = "",
    ) -> wire.Response:
        return visit.page(
            "sign_in.html",
            title="Sign in",
            status=status,
            error=error,
            key_id=key_id,
            next_path=next_path if _is_local_path(next_path) else "",
        )

    def _sign_in(
        self, request: wire.Request, visit: Visit, admin: Admin | None, secure: bool
    ) -> wire.Response:
        if self._local or (admin is not None and request.method == "GET"):
            return visit.redirect(PREFIX + "/")
        if request.method == "GET":
            return self._sign_in_page(visit, next_path=visit.query.get("next", ""))
        key_id = visit.form.get("access_key_id", "").strip()
        secret = visit.form.get("secret_access_key", "")
        next_path = visit.form.get("next", "")
        names = (f"address:{request.client_ip}", f"key:{key_id[:128]}")
        wait = self._failures.wait(*names)
        if wait:
            return self._sign_in_page(
                visit,
                next_path=next_path,
                status=429,
                key_id=key_id[:128],
                error=f"Too many failed sign-ins: wait {wait} seconds, then try again.",
            )
        assert self._server_key is not None
        key = check_secret(self._store, self._server_key, key_id, secret)
        if key is None:
            self._failures.failed(*names)
            log.warning(
                orjson.dumps({"console": "sign-in failed", "client_ip": request.client_ip}).decode()
            )
            return self._sign_in_page(
                visit,
                next_path=next_path,
                status=401,
                key_id=key_id[:128],
                error="The access key ID or the secret access key is wrong.",
            )
        self._failures.succeeded(*names)
        self._keys.forget(key.access_key_id)
        session = self._sessions.new(key.access_key_id)
        target = next_path if _is_local_path(next_path) else PREFIX + "/"
        return wire.Response(
            303,
            b"",
            {"location": target, "set-cookie": self._sessions.cookie(session, secure=secure)},
        )

    def _sign_out(self, session: Session, secure: bool) -> wire.Response:
        if session.key_id is not None:
            at = to_ms(now())
            self._store.console_sign_out(session.key_id, at)
            self._keys.forget(session.key_id)
        fresh = self._sessions.new(None)
        return wire.Response(
            303,
            b"",
            {
                "location": PREFIX + "/sign-in" if not self._local else PREFIX + "/",
                "set-cookie": self._sessions.cookie(fresh, secure=secure),
            },
        )


def _is_local_path(path: str) -> bool:
    """Whether `path` is a console page to go back to after sign-in (not another site)."""
    return (
        path.startswith(PREFIX + "/")
        and not path.startswith(PREFIX + "/sign-")
        and path == quote(path, safe="/-_.~%?=&")
    )

"""The console's pieces on their own: sessions and their cookies, the slowing of failed sign-ins,
form parsing and its bounds, the user form against the service model, and malformed requests
(hand-made, since a browser would not send them)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from botocore.model import ListShape, StructureShape

from idstore import wire
from idstore.app import App
from idstore.aws.spec import load_spec
from idstore.config import Config
from idstore.console.forms import (
    MAX_FIELDS,
    MAX_FORM_BYTES,
    USER_FIELDS,
    FormError,
    documents,
    parse_form,
)
from idstore.console.sessions import Session, Sessions, cookie_value
from idstore.console.signin import FREE_FAILURES, MAX_WAIT_SECONDS, FailedSignIns
from idstore.model import ENTERPRISE_ATTRIBUTES, now
from idstore.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_cookie_round_trips_and_any_change_breaks_it() -> None:
    clock = Clock()
    sessions = Sessions(b"k" * 32, 60, clock=clock)
    session = sessions.new("IDSKEXAMPLE")
    value = sessions.encode(session)
    assert sessions.decode(value) == session
    head, tail = value.split(".")
    for forged in (
        head + "." + tail[:-2] + ("AA" if tail[-2:] != "AA" else "BB"),
        head[:-2] + "xx." + tail,
        "garbage",
        "",
        ".",
        "a.b.c",
    ):
        assert sessions.decode(forged) is None
    assert Sessions(b"x" * 32, 60, clock=clock).decode(value) is None  # another secret
    clock.now += 61
    assert sessions.decode(value) is None  # expired


def test_csrf_tokens_are_bound_to_the_session() -> None:
    sessions = Sessions(b"k" * 32, 60)
    one, two = sessions.new(None), sessions.new(None)
    assert sessions.csrf_ok(one, sessions.csrf_token(one))
    assert not sessions.csrf_ok(one, sessions.csrf_token(two))
    assert not sessions.csrf_ok(one, "")


def test_the_cookie_is_secure_over_tls_only() -> None:
    sessions = Sessions(b"k" * 32, 60)
    session = Session("K", 1, 2, "n")
    plain = sessions.cookie(session, secure=False)
    assert "HttpOnly" in plain and "SameSite=Strict" in plain and "Path=/console/" in plain
    assert "Secure" not in plain
    assert plain.endswith("; Secure") is False
    assert sessions.cookie(session, secure=True).endswith("; Secure")
    assert cookie_value("a=1; idstore_console=xyz; b=2") == "xyz"
    assert cookie_value("a=1") is None


def test_failed_sign_ins_wait_longer_each_time_and_forget() -> None:
    clock = Clock()
    failures = FailedSignIns(clock=clock)
    for _ in range(FREE_FAILURES):
        assert failures.wait("a") == 0
        failures.failed("a")
    assert failures.wait("a") == 1
    waits = []
    for _ in range(12):
        failures.failed("a")
        waits.append(failures.wait("a"))
    assert waits[:3] == [2, 4, 8]
    assert max(waits) == MAX_WAIT_SECONDS
    assert failures.wait("b") == 0  # others are not held up
    clock.now += 901
    assert failures.wait("a") == 0  # forgotten after a quiet spell
    failures.failed("c")
    failures.succeeded("c")
    assert failures.wait("c") == 0


def test_failed_sign_ins_keep_bounded_memory() -> None:
    failures = FailedSignIns(max_tracked=100, clock=Clock())
    for i in range(10_000):
        failures.failed(f"address:{i}")
    assert len(failures) == 100


def test_forms_are_bounded() -> None:
    kind = "application/x-www-form-urlencoded"
    assert parse_form(kind + "; charset=utf-8", b"a=1&b=&a=2") == {"a": "1", "b": ""}
    with pytest.raises(FormError) as big:
        parse_form(kind, b"a=" + b"x" * MAX_FORM_BYTES)
    assert big.value.status == 413
    with pytest.raises(FormError) as many:
        parse_form(kind, "&".join(f"f{i}=1" for i in range(MAX_FIELDS + 1)).encode())
    assert many.value.status == 413
    with pytest.raises(FormError) as multipart:
        parse_form("multipart/form-data; boundary=x", b"--x--")
    assert multipart.value.status == 415
    with pytest.raises(FormError):
        parse_form(kind, b"a=%ff%fe")


def test_the_user_form_covers_every_attribute_updateuser_can_change() -> None:
    spec = load_spec()
    request = spec.structure("CreateUserRequest")
    settable = {n for n in request.members if n not in ("IdentityStoreId", "Extensions")}
    keys = {f.key for f in USER_FIELDS}
    covered = {k.split(".")[0] for k in keys if not k.startswith("enterprise.")}
    assert covered == settable
    for name in settable:
        shape = request.members[name]
        if isinstance(shape, ListShape):
            entries = {int(k.split(".")[1]) for k in keys if k.startswith(name + ".")}
            assert entries == set(range(shape.metadata["max"])), name
            member = shape.member
            assert isinstance(member, StructureShape)
            for index in entries:
                for sub in member.members:
                    assert f"{name}.{index}.{sub}" in keys
        elif isinstance(shape, StructureShape):
            for sub in shape.members:
                assert f"{name}.{sub}" in keys
    assert {k.split(".")[1] for k in keys if k.startswith("enterprise.")} == set(
        ENTERPRISE_ATTRIBUTES
    )


def test_form_fields_become_the_apis_documents() -> None:
    form = {
        "UserName": "u",
        "Name.GivenName": "G",
        "Emails.0.Value": "u@example.com",
        "Emails.0.Primary": "on",
        "PhoneNumbers.0.Primary": "on",  # a ticked box alone describes no phone number
        "Photos.1.Value": "https://example.com/p.png",
        "enterprise.department": "R&D",
        "enterprise.manager": "some-user-id",
        "DisplayName": "",
    }
    attributes, extensions = documents(USER_FIELDS, form)
    assert attributes == {
        "UserName": "u",
        "Name": {"GivenName": "G"},
        "Emails": [{"Value": "u@example.com", "Primary": True}],
        "Photos": [{"Value": "https://example.com/p.png"}],
    }
    assert extensions == {
        "aws:identitystore:enterprise": {
            "department": "R&D",
            "manager": {"value": "some-user-id"},
        }
    }


def _request(app: App, method: str, path: str, **options: Any) -> wire.Response:
    request = wire.Request(
        method=method,
        path=path,
        headers=options.get("headers", {}),
        body=options.get("body", b""),
        query=options.get("query", ""),
        client_ip="127.0.0.1",
    )
    return app.console.handle(request, secure=options.get("secure", False))


def test_malformed_requests_get_a_clear_4xx(store: Store) -> None:
    app = App(store, Config(auth="none"))
    store_id = store.create_identity_store(now()).store_id
    assert _request(app, "GET", "/console").status == 308
    assert _request(app, "DELETE", f"/console/stores/{store_id}/users").status == 405
    assert _request(app, "GET", "/console/static/nope/console.css").status == 404
    assert _request(app, "GET", "/console/stores/d-0000000000/users").status == 404
    assert _request(app, "GET", f"/console/stores/{store_id}/users/no-such-user").status == 404
    assert (
        _request(app, "GET", f"/console/stores/{store_id}/users", query="after=x&q=%ff").status
        == 200
    )
    many = "&".join(f"p{i}=1" for i in range(100))
    assert _request(app, "GET", f"/console/stores/{store_id}/users", query=many).status == 400
    posted = _request(
        app,
        "POST",
        f"/console/stores/{store_id}/users/new",
        headers={"content-type": "text/plain"},
        body=b"x",
    )
    assert posted.status == 415
    huge = _request(
        app,
        "POST",
        f"/console/stores/{store_id}/users/new",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"a=" + b"x" * (MAX_FORM_BYTES + 1),
    )
    assert huge.status == 413
    for response in (posted, huge):
        assert response.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    tls = _request(app, "GET", f"/console/stores/{store_id}/users", secure=True)
    assert tls.headers["strict-transport-security"].startswith("max-age=")
    assert tls.headers["set-cookie"].endswith("; Secure")


def test_the_stores_api_source_ip_allow_list_applies_to_its_pages(store: Store) -> None:
    app = App(store, Config(auth="none"))
    store_id = store.create_identity_store(now()).store_id
    store.update_identity_store(store_id, {"ApiAllowSourceIps": ["10.0.0.0/8"]})
    refused = _request(app, "GET", f"/console/stores/{store_id}/users")
    assert refused.status == 403
    assert b"ApiAllowSourceIps" in refused.body


def _asgi_get(app: App, path: str, peer: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """One GET through the ASGI app, as uvicorn would deliver it; the response start message."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "scheme": "http",
        "headers": headers,
        "query_string": b"",
        "client": (peer, 50000),
    }
    # On a thread of its own: Playwright's open sync API holds this thread's event loop.
    worker = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))
    worker.start()
    worker.join(30)
    return sent[0]


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_only(store: Store) -> None:
    app = App(store, Config(auth="none", trusted_proxies=("10.0.0.1",)))
    proto = [(b"x-forwarded-proto", b"https")]

    def cookie(peer: str) -> str:
        start = _asgi_get(app, "/console/", peer, proto)
        return dict(start["headers"])[b"set-cookie"].decode()

    assert cookie("10.0.0.1").endswith("; Secure")
    assert not cookie("10.0.0.2").endswith("; Secure")  # anyone else's header is ignored

"""One request to the console as the pages see it (`Visit`), and what they all share (`Context`).

A page is a function `(ctx, visit, **path_parameters) -> wire.Response`. It reads the query and
the posted form from the visit, acts through the Store and the AWS side's rules in `ctx`, and
answers with `visit.page(...)` (HTML from a template) or `visit.redirect(...)` (303, after a
write, so that reloading does not repeat it). Success notices travel as a fixed code in the
URL (`?done=user-created`), never as text a link could make up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from idstore import wire
from idstore.console.forms import Field
from idstore.console.render import Templates
from idstore.console.rules import GroupRules, TokenIssuer, UserRules
from idstore.console.signin import Admin
from idstore.store import Store

PAGE_SIZE = 100  # as the API's default page

NOTICES = {
    "user-created": "User created.",
    "user-saved": "User saved.",
    "user-deleted": "User deleted.",
    "group-created": "Group created.",
    "group-saved": "Group saved.",
    "group-deleted": "Group deleted.",
    "member-added": "Member added.",
    "member-removed": "Member removed.",
    "token-deleted": "SCIM token deleted.",
}


@dataclass(frozen=True)
class Context:
    store: Store
    users: UserRules
    groups: GroupRules
    issue_token: TokenIssuer
    templates: Templates
    local_mode: bool
    max_users: int
    max_groups: int


@dataclass(frozen=True)
class FormSpec:
    """What a create or edit form is: its heading, where it posts, its button, its fields by
    section, and where Cancel goes."""

    title: str
    action: str
    button: str
    sections: list[tuple[str, tuple[Field, ...]]]
    cancel: str


@dataclass
class Visit:
    request: wire.Request
    templates: Templates
    csrf: str
    admin: Admin | None
    local_mode: bool
    query: Mapping[str, str]
    form: Mapping[str, str] = field(default_factory=dict)
    store_id: str | None = None
    section: str | None = None
    secure: bool = False

    def page(
        self, template: str, *, title: str, status: int = 200, **context: Any
    ) -> wire.Response:
        notice = NOTICES.get(self.query.get("done", ""))
        body = self.templates.render(
            template,
            title=title,
            csrf=self.csrf,
            admin=self.admin,
            local_mode=self.local_mode,
            store_id=self.store_id,
            section=self.section,
            notice=notice,
            **context,
        )
        return wire.Response(status, body, {"content-type": "text/html; charset=utf-8"})

    def form_page(
        self,
        spec: FormSpec,
        *,
        values: Mapping[str, str],
        status: int = 200,
        errors: dict[str, str] | None = None,
        general: list[str] | None = None,
        revision: str = "",
    ) -> wire.Response:
        """A create or edit form, filled in with `values`, with any refusal's messages."""
        return self.page(
            "form.html",
            title=spec.title,
            status=status,
            action=spec.action,
            button=spec.button,
            sections=spec.sections,
            values=values,
            errors=errors or {},
            general=general or [],
            revision=revision,
            cancel=spec.cancel,
        )

    def redirect(self, location: str) -> wire.Response:
        return wire.Response(303, b"", {"location": location})

    def cursor(self, name: str) -> int | None:
        """A paging cursor from the query (`after` or `before`); None when absent or not one."""
        text = self.query.get(name, "")
        return int(text) if text.isdigit() and len(text) < 19 else None

    @property
    def origin(self) -> str:
        """This server as the browser addressed it (for showing URLs, never for redirects)."""
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.request.headers.get('host', 'localhost')}"

    @property
    def may_write(self) -> bool:
        return self.admin is not None and self.admin.may_write

    def store_url(self, tail: str = "") -> str:
        assert self.store_id is not None
        return f"/console/stores/{self.store_id}{tail}"

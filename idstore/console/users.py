"""The users pages: list and search, a user's page, create, edit, delete.

Every write is the API's: the form becomes the profile document CreateUser/UpdateUser store,
checked by the AWS side's `UserRules`, written by the same Store call, recorded as made by the
signed-in principal. An edit applies to the user as it is inside the write transaction: members
the form does not show (ExternalIds, set over SCIM) are kept, and the revision the form was
read at is the expected Revision, so a change made meanwhile is reported, not overwritten.

Search (one field): the user with exactly that user name or e-mail address, then the users
whose user name starts with it, paged.
"""

from __future__ import annotations

from typing import Any

from idstore import wire
from idstore.console.forms import (
    CREATE_USER_FIELDS,
    EDITABLE_USER_MEMBERS,
    USER_FIELDS,
    USER_SECTIONS,
    documents,
    form_values,
    refused,
)
from idstore.console.visit import PAGE_SIZE, Context, FormSpec, Visit
from idstore.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from idstore.model import ENTERPRISE_EXTENSION, UserData, UserRecord, now

MAX_SEARCH = 256


def summary(user: UserRecord) -> dict[str, Any]:
    """What a list shows of a user."""
    attributes = user.attributes
    emails = attributes.get("Emails") or [{}]
    return {
        "id": user.user_id,
        "user_name": attributes.get("UserName", ""),
        "display_name": attributes.get("DisplayName", ""),
        "email": emails[0].get("Value", "") if isinstance(emails[0], dict) else "",
        "status": user.status.value,
    }


def list_users(ctx: Context, visit: Visit) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("ListUsers", visit.store_id)
    store_id = visit.store_id
    q = visit.query.get("q", "").strip()[:MAX_SEARCH]
    after, before = visit.cursor("after"), visit.cursor("before")
    exact: list[UserRecord] = []
    if q and after is None and before is None:
        for by_name in (True, False):
            try:
                found = ctx.store.find_user_id(
                    store_id, user_name=q if by_name else None, email=None if by_name else q
                )
            except NotFound:
                continue
            if all(u.user_id != found for u in exact):
                exact.append(ctx.store.get_user(store_id, found))
    window = ctx.store.user_window(
        store_id, after=after, before=before, limit=PAGE_SIZE, prefix=q or None
    )
    seen = {u.user_id for u in exact}
    users = exact + [u for u in window.items if u.user_id not in seen]
    return visit.page(
        "users.html",
        title="Users",
        users=[summary(u) for u in users],
        q=q,
        previous=window.before,
        next=window.after,
        count=ctx.store.get_identity_store(store_id).user_count,
    )


def _rows(user: UserRecord) -> list[tuple[str, list[tuple[str, str]]]]:
    """A user's attributes, by section, as (label, value) pairs; empty ones left out."""
    values = form_values(USER_FIELDS, user.attributes, user.extensions)
    out = []
    for section in USER_SECTIONS:
        rows = []
        for f in section.fields:
            value = values.get(f.key, "")
            if f.checkbox:
                value = "Yes" if value else ""
            if value:
                rows.append((f.label, value))
        if rows:
            out.append((section.title, rows))
    return out


def show_user(ctx: Context, visit: Visit, user_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DescribeUser", visit.store_id)
    user = ctx.store.get_user(visit.store_id, user_id)
    groups = ctx.store.groups_of_window(
        visit.store_id,
        user.user_id,
        after=visit.cursor("after"),
        before=visit.cursor("before"),
        limit=PAGE_SIZE,
    )
    external = [
        f"{e.get('Issuer', '')}: {e.get('Id', '')}"
        for e in user.attributes.get("ExternalIds") or []
        if isinstance(e, dict)
    ]
    return visit.page(
        "user.html",
        title=user.attributes.get("UserName", user.user_id),
        user=user,
        sections=_rows(user),
        external_ids=external,
        groups=[
            {"id": g.group.group_id, "name": g.group.attributes.get("DisplayName", "")}
            for g in groups.items
        ],
        previous=groups.before,
        next=groups.after,
    )


def new_user(ctx: Context, visit: Visit) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("CreateUser", visit.store_id)
    sections = [("New user", CREATE_USER_FIELDS)]
    spec = FormSpec(
        title="Create user",
        action=visit.store_url("/users/new"),
        button="Create",
        sections=sections,
        cancel=visit.store_url("/users"),
    )
    if visit.request.method == "GET":
        return visit.form_page(spec, values={})
    attributes, extensions = documents(CREATE_USER_FIELDS, visit.form)
    for email in attributes.get("Emails", []):
        email["Primary"] = True  # the only address, as Identity Center's console makes it
    try:
        attributes, extensions = ctx.users.check(attributes, extensions)
        user = ctx.store.create_user(
            visit.store_id,
            UserData(attributes, extensions),
            actor=visit.admin.arn,
            at=now(),
            max_users=ctx.max_users,
        )
    except (InvalidInput, Conflict, QuotaExceeded) as error:
        status, by_field, general = refused(error, CREATE_USER_FIELDS)
        return visit.form_page(
            spec,
            values=dict(visit.form),
            status=status,
            errors=by_field,
            general=general,
        )
    return visit.redirect(visit.store_url(f"/users/{user.user_id}?done=user-created"))


def edit_user(ctx: Context, visit: Visit, user_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("UpdateUser", visit.store_id)
    store_id, actor = visit.store_id, visit.admin.arn
    current = ctx.store.get_user(store_id, user_id)
    spec = FormSpec(
        title=f"Edit {current.attributes.get('UserName', user_id)}",
        action=visit.store_url(f"/users/{current.user_id}/edit"),
        button="Save",
        sections=[(s.title, s.fields) for s in USER_SECTIONS],
        cancel=visit.store_url(f"/users/{current.user_id}"),
    )
    if visit.request.method == "GET":
        values = form_values(USER_FIELDS, current.attributes, current.extensions)
        return visit.form_page(spec, values=values, revision=str(current.revision))
    attributes, extensions = documents(USER_FIELDS, visit.form)

    def change(user: UserRecord) -> UserData:
        kept = {k: v for k, v in user.attributes.items() if k not in EDITABLE_USER_MEMBERS}
        others = {k: v for k, v in user.extensions.items() if k != ENTERPRISE_EXTENSION}
        checked, checked_extensions = ctx.users.check(
            {**kept, **attributes}, {**others, **extensions}
        )
        return UserData(checked, checked_extensions, user.status)

    try:
        ctx.store.update_user(
            store_id,
            current.user_id,
            change,
            expected_revision=visit.form.get("revision") or None,
            actor=actor,
            at=now(),
        )
    except (InvalidInput, Conflict) as error:
        status, by_field, general = refused(error, USER_FIELDS)
        return visit.form_page(
            spec,
            values=dict(visit.form),
            status=status,
            errors=by_field,
            general=general,
            revision=visit.form.get("revision", ""),
        )
    return visit.redirect(visit.store_url(f"/users/{current.user_id}?done=user-saved"))


def delete_user(ctx: Context, visit: Visit, user_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DeleteUser", visit.store_id)
    user = ctx.store.get_user(visit.store_id, user_id)
    name = user.attributes.get("UserName", user_id)
    if visit.request.method == "GET":
        return visit.page(
            "confirm.html",
            title=f"Delete {name}",
            question=f"Delete the user {name}? Their group memberships are deleted with them.",
            action=visit.store_url(f"/users/{user.user_id}/delete"),
            cancel=visit.store_url(f"/users/{user.user_id}"),
        )
    ctx.store.delete_user(visit.store_id, user.user_id, expected_revision=None)
    return visit.redirect(visit.store_url("/users?done=user-deleted"))

"""The groups pages: list and search, a group's page with its members, create, edit, delete,
add and remove members.

Writes are the API's, as for users: the group form's document passes the AWS side's group
rules (the model, and no reserved display name), then the Store's CreateGroup/UpdateGroup call;
a member is added by user name (GetUserId, then CreateGroupMembership) and removed by its
membership id (DeleteGroupMembership).

Search: the group with exactly that display name, then those whose display name starts with it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from idstore import wire
from idstore.console.forms import GROUP_FIELDS, documents, form_values, refused
from idstore.console.users import MAX_SEARCH, summary
from idstore.console.visit import PAGE_SIZE, Context, FormSpec, Visit
from idstore.errors import Conflict, InvalidInput, NotFound, QuotaExceeded, summarise
from idstore.model import GroupData, GroupRecord, now

MEMBER_FIELD = "user_name"


def _summary(group: GroupRecord) -> dict[str, Any]:
    return {
        "id": group.group_id,
        "name": group.attributes.get("DisplayName", ""),
        "description": group.attributes.get("Description", ""),
    }


def list_groups(ctx: Context, visit: Visit) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("ListGroups", visit.store_id)
    store_id = visit.store_id
    q = visit.query.get("q", "").strip()[:MAX_SEARCH]
    after, before = visit.cursor("after"), visit.cursor("before")
    exact: list[GroupRecord] = []
    if q and after is None and before is None:
        with contextlib.suppress(NotFound):
            found = ctx.store.find_group_id(store_id, display_name=q)
            exact.append(ctx.store.get_group(store_id, found))
    window = ctx.store.group_window(
        store_id, after=after, before=before, limit=PAGE_SIZE, prefix=q or None
    )
    seen = {g.group_id for g in exact}
    groups = exact + [g for g in window.items if g.group_id not in seen]
    return visit.page(
        "groups.html",
        title="Groups",
        groups=[_summary(g) for g in groups],
        q=q,
        previous=window.before,
        next=window.after,
        count=ctx.store.get_identity_store(store_id).group_count,
    )


def _group_page(
    ctx: Context,
    visit: Visit,
    group: GroupRecord,
    *,
    status: int = 200,
    member_error: str = "",
    member_value: str = "",
) -> wire.Response:
    assert visit.store_id is not None
    members = ctx.store.member_window(
        visit.store_id,
        group.group_id,
        after=visit.cursor("after"),
        before=visit.cursor("before"),
        limit=PAGE_SIZE,
    )
    external = [
        f"{e.get('Issuer', '')}: {e.get('Id', '')}"
        for e in group.attributes.get("ExternalIds") or []
        if isinstance(e, dict)
    ]
    return visit.page(
        "group.html",
        title=group.attributes.get("DisplayName") or group.group_id,
        status=status,
        group=group,
        info=_summary(group),
        external_ids=external,
        members=[{"membership_id": m.membership_id, **summary(m.user)} for m in members.items],
        previous=members.before,
        next=members.after,
        member_error=member_error,
        member_value=member_value,
    )


def show_group(ctx: Context, visit: Visit, group_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DescribeGroup", visit.store_id)
    return _group_page(ctx, visit, ctx.store.get_group(visit.store_id, group_id))


def _check(ctx: Context, attributes: dict[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    cleaned = ctx.groups.check(attributes, problems)
    if problems:
        raise InvalidInput(summarise(problems), problems)
    return cleaned


def new_group(ctx: Context, visit: Visit) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("CreateGroup", visit.store_id)
    spec = FormSpec(
        title="Create group",
        action=visit.store_url("/groups/new"),
        button="Create",
        sections=[("New group", GROUP_FIELDS)],
        cancel=visit.store_url("/groups"),
    )
    if visit.request.method == "GET":
        return visit.form_page(spec, values={})
    attributes, _ = documents(GROUP_FIELDS, visit.form)
    try:
        group = ctx.store.create_group(
            visit.store_id,
            GroupData(_check(ctx, attributes)),
            actor=visit.admin.arn,
            at=now(),
            max_groups=ctx.max_groups,
        )
    except (InvalidInput, Conflict, QuotaExceeded) as error:
        status, by_field, general = refused(error, GROUP_FIELDS)
        return visit.form_page(
            spec,
            values=dict(visit.form),
            status=status,
            errors=by_field,
            general=general,
        )
    return visit.redirect(visit.store_url(f"/groups/{group.group_id}?done=group-created"))


def edit_group(ctx: Context, visit: Visit, group_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("UpdateGroup", visit.store_id)
    current = ctx.store.get_group(visit.store_id, group_id)
    spec = FormSpec(
        title=f"Edit {current.attributes.get('DisplayName') or group_id}",
        action=visit.store_url(f"/groups/{current.group_id}/edit"),
        button="Save",
        sections=[("Group", GROUP_FIELDS)],
        cancel=visit.store_url(f"/groups/{current.group_id}"),
    )
    if visit.request.method == "GET":
        values = form_values(GROUP_FIELDS, current.attributes, {})
        return visit.form_page(spec, values=values, revision=str(current.revision))
    attributes, _ = documents(GROUP_FIELDS, visit.form)
    edited = {f.key for f in GROUP_FIELDS}

    def change(group: GroupRecord) -> GroupData:
        kept = {k: v for k, v in group.attributes.items() if k not in edited}
        return GroupData(_check(ctx, {**kept, **attributes}))

    try:
        ctx.store.update_group(
            visit.store_id,
            current.group_id,
            change,
            expected_revision=visit.form.get("revision") or None,
            actor=visit.admin.arn,
            at=now(),
        )
    except (InvalidInput, Conflict) as error:
        status, by_field, general = refused(error, GROUP_FIELDS)
        return visit.form_page(
            spec,
            values=dict(visit.form),
            status=status,
            errors=by_field,
            general=general,
            revision=visit.form.get("revision", ""),
        )
    return visit.redirect(visit.store_url(f"/groups/{current.group_id}?done=group-saved"))


def delete_group(ctx: Context, visit: Visit, group_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DeleteGroup", visit.store_id)
    group = ctx.store.get_group(visit.store_id, group_id)
    name = group.attributes.get("DisplayName") or group_id
    if visit.request.method == "GET":
        return visit.page(
            "confirm.html",
            title=f"Delete {name}",
            question=f"Delete the group {name}? Its memberships are deleted with it; "
            "the users stay.",
            action=visit.store_url(f"/groups/{group.group_id}/delete"),
            cancel=visit.store_url(f"/groups/{group.group_id}"),
        )
    ctx.store.delete_group(visit.store_id, group.group_id, expected_revision=None)
    return visit.redirect(visit.store_url("/groups?done=group-deleted"))


def add_member(ctx: Context, visit: Visit, group_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("CreateGroupMembership", visit.store_id)
    group = ctx.store.get_group(visit.store_id, group_id)
    name = visit.form.get(MEMBER_FIELD, "").strip()
    try:
        if not name:
            raise InvalidInput("Enter the user name of the user to add.")
        user_id = ctx.store.find_user_id(visit.store_id, user_name=name)
        ctx.store.create_membership(
            visit.store_id, group.group_id, user_id, actor=visit.admin.arn, at=now()
        )
    except (InvalidInput, NotFound, Conflict) as error:
        status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
        return _group_page(
            ctx, visit, group, status=status, member_error=error.message, member_value=name
        )
    return visit.redirect(visit.store_url(f"/groups/{group.group_id}?done=member-added"))


def remove_member(ctx: Context, visit: Visit, group_id: str, membership_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DeleteGroupMembership", visit.store_id)
    membership = ctx.store.get_membership(visit.store_id, membership_id)
    if membership.group_id != group_id.lower():
        raise NotFound("GROUP_MEMBERSHIP", membership_id)
    ctx.store.delete_membership(visit.store_id, membership.membership_id)
    return visit.redirect(visit.store_url(f"/groups/{membership.group_id}?done=member-removed"))

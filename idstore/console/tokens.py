"""The SCIM tokens page: a store's tokens (ids and dates, never the tokens), create one (shown
once, on the page the creation answers with, which is not cached), delete one.

Tokens are issued by the SCIM front end's own issuer (the same one `idstore scim-tokens create`
uses), so its limits hold here too: at most two active tokens per store.
"""

from __future__ import annotations

from datetime import timedelta

from idstore import wire
from idstore.console.visit import Context, Visit
from idstore.errors import IdstoreError
from idstore.model import now

DEFAULT_DAYS = 365
MAX_DAYS = 3650


def _page(
    ctx: Context,
    visit: Visit,
    *,
    status: int = 200,
    created: str = "",
    error: str = "",
    days: str = str(DEFAULT_DAYS),
) -> wire.Response:
    assert visit.store_id is not None
    at = now()
    tokens = [
        {
            "id": t.token_id,
            "created": t.created_at,
            "expires": t.expires_at,
            "active": t.active(at),
        }
        for t in ctx.store.list_scim_tokens(visit.store_id)
    ]
    return visit.page(
        "tokens.html",
        title="SCIM tokens",
        status=status,
        tokens=tokens,
        created=created,
        error=error,
        days=days,
        endpoint=f"{visit.origin}/{visit.store_id}/scim/v2/",
    )


def list_tokens(ctx: Context, visit: Visit) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.section = "tokens"
    if visit.request.method == "GET":
        visit.admin.require("ListScimTokens", visit.store_id)
        return _page(ctx, visit)
    visit.admin.require("CreateScimToken", visit.store_id)
    days = visit.form.get("days", "").strip()
    if not (days.isdigit() and 1 <= int(days) <= MAX_DAYS):
        return _page(
            ctx,
            visit,
            status=400,
            error=f"Days until it expires must be a whole number from 1 to {MAX_DAYS}.",
            days=days[:8],
        )
    try:
        token, _ = ctx.issue_token(visit.store_id, at=now(), lifetime=timedelta(days=int(days)))
    except IdstoreError as error:
        return _page(ctx, visit, status=400, error=error.message, days=days)
    return _page(ctx, visit, created=token)


def delete_token(ctx: Context, visit: Visit, token_id: str) -> wire.Response:
    assert visit.admin is not None and visit.store_id is not None
    visit.admin.require("DeleteScimToken", visit.store_id)
    if not ctx.store.delete_scim_token(visit.store_id, token_id):
        return _page(ctx, visit, status=404, error=f"There is no SCIM token {token_id[:64]}.")
    return visit.redirect(visit.store_url("/scim-tokens?done=token-deleted"))

"""Looking at an identity store from a terminal: users and groups, as tables or JSON.

    idstore users list --store ID [--limit N] [--json] [--db URL]
    idstore users show --store ID USER [--json] [--db URL]       USER: a user id or UserName
    idstore groups list --store ID [--limit N] [--json] [--db URL]
    idstore groups show --store ID GROUP [--json] [--db URL]     GROUP: a group id or DisplayName
    idstore groups members --store ID GROUP [--limit N] [--json] [--db URL]

Tables are for people: one row per record, long values cut. `--json` is for programs: a
record is what the matching Describe call answers (less the ARN), lists are JSON arrays, and a
member of a group is its membership with the member user under `User`. Listings stream page by
page, in creation order, so a large store prints as fast as it is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from idstore.cli.common import db_option, open_db
from idstore.errors import IdstoreError, NotFound
from idstore.model import GroupRecord, Json, Page, UserRecord

if TYPE_CHECKING:
    from idstore.store import Store

T = TypeVar("T")

store_option = click.option(
    "--store", "store_id", metavar="ID", required=True, help="The identity store (d-...)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
limit_option = click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Print at most N.  [default: all]"
)

_PAGE = 500
_WIDTH = 50  # longest value shown in a table cell (ids are 47 characters)


@click.group()
def users() -> None:
    """List and show the users of an identity store."""


@click.group()
def groups() -> None:
    """List and show the groups of an identity store, and their members."""


# -- users -------------------------------------------------------------------------------------


@users.command("list")
@store_option
@limit_option
@json_option
@db_option
def users_list(store_id: str, limit: int | None, as_json: bool, db_url: str | None) -> None:
    """List users in creation order."""
    from idstore.transfer import user_json

    with _session(db_url) as store:
        records = _walk(lambda after, n: store.list_users(store_id, after, n), limit)
        if as_json:
            _json_array(_described(store_id, user_json(u)) for u in records)
            return
        _table(
            ["USER ID", "USER NAME", "DISPLAY NAME", "EMAIL", "STATUS"],
            (
                [u.user_id, _get(a, "UserName"), _get(a, "DisplayName"), _email(a), u.status]
                for u in records
                for a in [u.attributes]
            ),
        )


@users.command("show")
@store_option
@click.argument("user")
@json_option
@db_option
def users_show(store_id: str, user: str, as_json: bool, db_url: str | None) -> None:
    """Show one user, by id or UserName."""
    from idstore.transfer import user_json

    with _session(db_url) as store:
        record = _user(store, store_id, user)
        _show(_described(store_id, user_json(record)), as_json)


# -- groups ------------------------------------------------------------------------------------


@groups.command("list")
@store_option
@limit_option
@json_option
@db_option
def groups_list(store_id: str, limit: int | None, as_json: bool, db_url: str | None) -> None:
    """List groups in creation order."""
    from idstore.transfer import group_json

    with _session(db_url) as store:
        records = _walk(lambda after, n: store.list_groups(store_id, after, n), limit)
        if as_json:
            _json_array(_described(store_id, group_json(g)) for g in records)
            return
        _table(
            ["GROUP ID", "DISPLAY NAME", "DESCRIPTION"],
            (
                [g.group_id, _get(g.attributes, "DisplayName"), _get(g.attributes, "Description")]
                for g in records
            ),
        )


@groups.command("show")
@store_option
@click.argument("group")
@json_option
@db_option
def groups_show(store_id: str, group: str, as_json: bool, db_url: str | None) -> None:
    """Show one group, by id or DisplayName."""
    from idstore.transfer import group_json

    with _session(db_url) as store:
        record = _group(store, store_id, group)
        _show(_described(store_id, group_json(record)), as_json)


@groups.command("members")
@store_option
@click.argument("group")
@limit_option
@json_option
@db_option
def groups_members(
    store_id: str, group: str, limit: int | None, as_json: bool, db_url: str | None
) -> None:
    """List the members of a group (by id or DisplayName), in the order they joined."""
    from idstore.transfer import membership_json, user_json

    with _session(db_url) as store:
        group_id = _group(store, store_id, group).group_id
        found = _walk(
            lambda after, n: store.list_group_memberships(store_id, group_id, after, n), limit
        )
        pairs = ((m, store.get_user(store_id, m.user_id)) for m in found)
        if as_json:
            _json_array(
                {
                    **_described(store_id, membership_json(m)),
                    "User": _described(store_id, user_json(u)),
                }
                for m, u in pairs
            )
            return
        _table(
            ["MEMBERSHIP ID", "USER ID", "USER NAME", "DISPLAY NAME"],
            (
                [
                    m.membership_id,
                    u.user_id,
                    _get(u.attributes, "UserName"),
                    _get(u.attributes, "DisplayName"),
                ]
                for m, u in pairs
            ),
        )


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _session(db_url: str | None) -> Iterator[Store]:
    """The store for one command; a domain error becomes a one-line message and exit 1."""
    store = open_db(db_url)
    try:
        yield store
    except IdstoreError as error:
        raise click.ClickException(error.message) from error
    finally:
        store.close()


def _walk(fetch: Callable[[int | None, int], Page[T]], limit: int | None) -> Iterator[T]:
    """Every item of a keyset-paged listing, up to `limit`."""
    after: int | None = None
    left = limit
    while left is None or left > 0:
        page = fetch(after, _PAGE if left is None else min(_PAGE, left))
        yield from page.items
        if left is not None:
            left -= len(page.items)
        if page.after is None:
            return
        after = page.after


# A user or group id (AWS's two forms); anything else given on the command line is a name.
_ID = re.compile(r"([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _user(store: Store, store_id: str, given: str) -> UserRecord:
    if _ID.fullmatch(given.lower()):
        with suppress(NotFound):
            return store.get_user(store_id, given.lower())
    try:
        return store.get_user(store_id, store.find_user_id(store_id, user_name=given))
    except NotFound as missing:
        if missing.resource_type != "USER":
            raise
        raise click.ClickException(f"no user with id or UserName {given!r}") from None


def _group(store: Store, store_id: str, given: str) -> GroupRecord:
    if _ID.fullmatch(given.lower()):
        with suppress(NotFound):
            return store.get_group(store_id, given.lower())
    try:
        return store.get_group(store_id, store.find_group_id(store_id, display_name=given))
    except NotFound as missing:
        if missing.resource_type != "GROUP":
            raise
        raise click.ClickException(f"no group with id or DisplayName {given!r}") from None


def _described(store_id: str, record: Json) -> Json:
    """A record of the export format as the Describe calls answer it (no `kind`)."""
    record.pop("kind", None)
    return {"IdentityStoreId": store_id, **record}


def _get(attributes: Json, name: str) -> str:
    value = attributes.get(name)
    return "" if value is None else str(value)


def _email(attributes: Json) -> str:
    emails = attributes.get("Emails") or []
    return str(emails[0].get("Value", "")) if emails and isinstance(emails[0], dict) else ""


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def _table(header: list[str], rows: Iterator[list[Any]]) -> None:
    """Rows under a header, columns as wide as the header or the first page of rows."""
    first = [[_cell(v) for v in row] for _, row in zip(range(_PAGE), rows, strict=False)]
    widths = [max([len(h)] + [len(r[i]) for r in first]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    click.echo(line(header))
    for row in first:
        click.echo(line(row))
    for row in rows:
        click.echo(line([_cell(v) for v in row]))


def _show(record: Json, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())
        return
    fields = list(_flatten(record, ""))
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        click.echo(f"{name.ljust(width)}  {value}")


# Members holding times: epoch seconds in JSON (as the API answers), ISO 8601 for people.
_TIMES = frozenset({"CreatedAt", "UpdatedAt"})


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """`Name.GivenName`, `Emails[0].Value`, ... with their values, for the `show` view."""
    if prefix.rpartition(".")[2] in _TIMES and isinstance(value, int | float):
        when = datetime.fromtimestamp(value, UTC)
        yield prefix, when.isoformat(timespec="milliseconds" if value % 1 else "seconds")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, "" if value is None else str(value)


def _json_array(items: Iterator[Json]) -> None:
    """A JSON array, one element per line, written as the items come."""
    separator = "[\n"
    for item in items:
        click.echo(separator + orjson.dumps(item).decode(), nl=False)
        separator = ",\n"
    click.echo("[]" if separator == "[\n" else "\n]")

"""Which users and groups a list request selects: a filter reduced to indexed lookups, paged.

AWS serves `eq` filters joined by `and` on a few attributes (docs/behaviour.md#scim-filters), and
each of them is a unique key in the store, so a filter selects at most one resource:

    Users   userName (case-insensitive), externalId, id, emails.value (case-insensitive;
            also Entra's `emails[type eq "work"].value eq "..."`, which then checks the type)
    Groups  displayName (case-insensitive), externalId, id; and `members eq "<user id>"`
            together with one of those: the membership probe of ssosync and AWS's docs
            (`id eq "<group>" and members eq "<user>"`)

Each term is one index probe through the Store's lookups; the terms must agree on one resource.
Anything else is `invalidFilter`, never a scan. Without a filter, pages come from the Store's
offset listing with the true total. `startIndex` is 1-based; `count` is capped at 100.
`cursor_page` serves cursor paging (RFC 9865, see cursors.py) from the Store's keyset listing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idstore.errors import NotFound
from idstore.model import ExternalId, GroupRecord, UserRecord
from idstore.scim.cursors import GROUPS, USERS, CursorPage, Position, walk
from idstore.scim.filter import AttrRef, Eq, Term
from idstore.scim.problems import InvalidFilter
from idstore.scim.resources import SCIM_ISSUER
from idstore.scim.schema import CORE_GROUP, CORE_USER
from idstore.store import Store

_USER_KEYS = "userName, externalId, id or emails.value"
_GROUP_KEYS = "displayName, externalId, id (and members, with one of those)"


@dataclass(frozen=True)
class Page:
    total: int
    users: list[UserRecord]
    groups: list[GroupRecord]


def _name(ref: AttrRef, core: str, kind: str, keys: str) -> str:
    if ref.urn is not None and ref.urn.lower() != core.lower():
        raise InvalidFilter(
            f"Filtering {kind} on '{ref.urn}:{ref.name}' is not supported: use {keys}."
        )
    return ref.name.lower() + ("." + ref.sub.lower() if ref.sub else "")


def _text(value: Any, where: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidFilter(f"The value compared with '{where}' must be a non-empty string.")


def _user_terms(terms: tuple[Term, ...]) -> list[tuple[str, str]]:
    found = []
    for term in terms:
        if isinstance(term, Eq):
            name = _name(term.attr, CORE_USER, "users", _USER_KEYS)
            found.append((name, _text(term.value, name)))
            continue
        name = _name(term.attr, CORE_USER, "users", _USER_KEYS)
        if name != "emails" or term.sub is not None:
            raise InvalidFilter(
                f"Filtering users on '{name}[...]' is not supported: use {_USER_KEYS}."
            )
        for eq in term.where:
            sub = f"emails.{eq.attr.name.lower()}"
            found.append((sub, _text(eq.value, sub)))
    for name, _ in found:
        if name not in ("username", "externalid", "id", "emails.value", "emails.type"):
            raise InvalidFilter(f"Filtering users on '{name}' is not supported: use {_USER_KEYS}.")
    return found


def _group_terms(terms: tuple[Term, ...]) -> list[tuple[str, str]]:
    found = []
    for term in terms:
        if not isinstance(term, Eq):
            raise InvalidFilter(f"Value filters are not supported on groups: use {_GROUP_KEYS}.")
        name = _name(term.attr, CORE_GROUP, "groups", _GROUP_KEYS)
        name = "members" if name == "members.value" else name
        if name not in ("displayname", "externalid", "id", "members"):
            raise InvalidFilter(
                f"Filtering groups on '{name}' is not supported: use {_GROUP_KEYS}."
            )
        found.append((name, _text(term.value, name)))
    return found


def _probe(find: Callable[[], str]) -> str | None:
    """The id `find` returns, or None when the resource does not exist."""
    try:
        return find()
    except NotFound as missing:
        if missing.resource_type == "IDENTITY_STORE":
            raise
        return None


def _agree(candidates: list[str | None]) -> str | None:
    """The one id every unique-key term selected, or None."""
    if not candidates or any(c is None for c in candidates) or len(set(candidates)) != 1:
        return None
    return candidates[0]


def _user_lookup(store: Store, store_id: str, name: str, value: str) -> Callable[[], str] | None:
    if name == "username":
        return lambda: store.find_user_id(store_id, user_name=value)
    if name == "emails.value":
        return lambda: store.find_user_id(store_id, email=value)
    if name == "externalid":
        return lambda: store.find_user_id(store_id, external_id=ExternalId(SCIM_ISSUER, value))
    if name == "id":
        return lambda: store.get_user(store_id, value).user_id
    return None


def _group_lookup(store: Store, store_id: str, name: str, value: str) -> Callable[[], str] | None:
    if name == "displayname":
        return lambda: store.find_group_id(store_id, display_name=value)
    if name == "externalid":
        return lambda: store.find_group_id(store_id, external_id=ExternalId(SCIM_ISSUER, value))
    if name == "id":
        return lambda: store.get_group(store_id, value).group_id
    return None


def find_users(store: Store, store_id: str, terms: tuple[Term, ...]) -> list[UserRecord]:
    """The users (zero or one) a filter selects."""
    pairs = _user_terms(terms)
    lookups = [f for n, v in pairs if (f := _user_lookup(store, store_id, n, v)) is not None]
    if not lookups:
        raise InvalidFilter(f"A user filter must compare one of {_USER_KEYS}.")
    found = _agree([_probe(f) for f in lookups])
    if found is None:
        return []
    try:
        user = store.get_user(store_id, found)
    except NotFound:
        return []
    for name, value in pairs:
        if name == "emails.type":
            emails = user.attributes.get("Emails") or [{}]
            stored = emails[0].get("Type") if isinstance(emails[0], dict) else None
            if not isinstance(stored, str) or stored.casefold() != value.casefold():
                return []
    return [user]


def find_groups(store: Store, store_id: str, terms: tuple[Term, ...]) -> list[GroupRecord]:
    """The groups (zero or one) a filter selects."""
    pairs = _group_terms(terms)
    lookups = [f for n, v in pairs if (f := _group_lookup(store, store_id, n, v)) is not None]
    if not lookups:
        raise InvalidFilter(f"A group filter must compare one of {_GROUP_KEYS}.")
    found = _agree([_probe(f) for f in lookups])
    if found is None:
        return []
    for name, value in pairs:
        if name == "members" and not _is_member(store, store_id, value, found):
            return []
    try:
        return [store.get_group(store_id, found)]
    except NotFound:
        return []


def _is_member(store: Store, store_id: str, user_id: str, group_id: str) -> bool:
    try:
        return group_id in store.groups_of_user_among(store_id, user_id, [group_id])
    except NotFound as missing:
        if missing.resource_type == "IDENTITY_STORE":
            raise
        return False


def _window(items: list[Any], start: int, count: int) -> list[Any]:
    return items[start - 1 : start - 1 + count] if count > 0 else []


def users(
    store: Store, store_id: str, terms: tuple[Term, ...] | None, start: int, count: int
) -> Page:
    if terms is None:
        total, found = store.users_at(store_id, start - 1, count)
        return Page(total, found, [])
    selected = find_users(store, store_id, terms)
    return Page(len(selected), _window(selected, start, count), [])


def groups(
    store: Store, store_id: str, terms: tuple[Term, ...] | None, start: int, count: int
) -> Page:
    if terms is None:
        total, found = store.groups_at(store_id, start - 1, count)
        return Page(total, [], found)
    selected = find_groups(store, store_id, terms)
    return Page(len(selected), [], _window(selected, start, count))


def everything(
    store: Store, store_id: str, terms: tuple[Term, ...] | None, start: int, count: int
) -> Page:
    """A search of the root endpoint: users, then groups. A filter naming an attribute one
    kind does not have selects nothing of that kind (RFC 7644 §3.4.2.1)."""
    if terms is not None:
        selected_users: list[UserRecord] = []
        selected_groups: list[GroupRecord] = []
        refused: list[InvalidFilter] = []
        try:
            selected_users = find_users(store, store_id, terms)
        except InvalidFilter as error:
            refused.append(error)
        try:
            selected_groups = find_groups(store, store_id, terms)
        except InvalidFilter as error:
            refused.append(error)
        if len(refused) == 2:
            raise refused[0]
        both: list[UserRecord | GroupRecord] = [*selected_users, *selected_groups]
        window = _window(both, start, count)
        return Page(
            len(both),
            [r for r in window if isinstance(r, UserRecord)],
            [r for r in window if isinstance(r, GroupRecord)],
        )
    user_total, found_users = store.users_at(store_id, start - 1, count)
    group_offset = max(0, start - 1 - user_total)
    group_total, found_groups = store.groups_at(store_id, group_offset, count - len(found_users))
    return Page(user_total + group_total, found_users, found_groups)


def _after(selected: list[Any], after: int, limit: int) -> tuple[list[Any], bool]:
    following = [r for r in selected if r.seq > after]
    return following[:limit], len(following) > limit


def cursor_page(
    store: Store,
    store_id: str,
    kind: str | None,
    terms: tuple[Term, ...] | None,
    start: Position | None,
    count: int,
) -> CursorPage:
    """One cursor page of users, groups, or (root endpoint: `kind` None) users then groups."""
    phases = {"users": (USERS,), "groups": (GROUPS,)}.get(kind or "", (USERS, GROUPS))
    if terms is None:
        identity_store = store.get_identity_store(store_id)
        totals = {USERS: identity_store.user_count, GROUPS: identity_store.group_count}

        def fetch(phase: int, after: int, limit: int) -> tuple[list[Any], bool]:
            listing = store.list_users if phase == USERS else store.list_groups
            page = listing(store_id, after or None, limit)
            return page.items, page.after is not None

        return walk(phases, totals, start, count, fetch)
    if kind is None:
        found = everything(store, store_id, terms, 1, 2)  # a filter selects one of each
        selected: dict[int, list[Any]] = {USERS: found.users, GROUPS: found.groups}
    elif kind == "users":
        selected = {USERS: find_users(store, store_id, terms), GROUPS: []}
    else:
        selected = {USERS: [], GROUPS: find_groups(store, store_id, terms)}
    totals = {phase: len(items) for phase, items in selected.items()}
    return walk(phases, totals, start, count, lambda p, a, n: _after(selected[p], a, n))

"""The 22 identitystore operations: validated AWS parameters in, AWS output out.

One method per operation of the service model, named as botocore names it in Python
(`CreateUser` → `create_user`); `Operations.handlers` maps every model operation to one, and a
test keeps that map complete. Each method turns wire values into domain values (ARNs into ids,
attribute paths into profile changes), makes one Store call, and turns the result back.

Read paths are built for speed without restating the model: a stored profile is already JSON
in the model's member names, so a user in a response is the system members (ids, ARN,
Revision, status, audit) encoded once and spliced in front of the stored profile text.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import orjson
import regex
from botocore import xform_name

from idstore.aws.attributes import ProfileSchema, UserRules
from idstore.aws.pagination import Tokens
from idstore.aws.spec import Spec
from idstore.aws.validate import Validator, json_type
from idstore.config import Config
from idstore.errors import InvalidInput, NotFound, summarise
from idstore.model import (
    ENTERPRISE_EXTENSION,
    Audit,
    ExternalId,
    GroupData,
    GroupRecord,
    IdentityStore,
    Json,
    Membership,
    UserData,
    UserRecord,
    now,
)
from idstore.store import Store

Output = dict[str, Any] | bytes
Handler = Callable[[Json, "Call"], Output]

_STORE_ARN = regex.compile(r"arn:aws[a-z-]*:identitystore::(\d{12}):identitystore/(.+)")
_RESOURCE_ARN = regex.compile(r"arn:aws[a-z-]*:identitystore:::(user|group|membership)/(.+)")


@dataclass
class Call:
    """Who is calling, and when: recorded as CreatedBy/UpdatedBy and CreatedAt/UpdatedAt."""

    principal: str
    # The identity stores the caller may see in ListIdentityStores (None: all of them).
    visible_stores: frozenset[str] | None = None

    @cached_property
    def at(self) -> datetime:
        """The time of the call, read when a write first needs it (reads never do)."""
        return now()


# A rendered resource is built as text: the system members, then the stored profile object
# spliced in without being parsed or re-encoded (it is already JSON in the model's names).


def _close(head: str, profile_json: str) -> bytes:
    """`head` (an unclosed JSON object) and a stored profile object, as one object."""
    if len(profile_json) <= 2:
        return (head + "}").encode()
    return (head + "," + profile_json[1:]).encode()


_encoded: dict[str, str] = {}


def _json_string(value: str) -> str:
    """`value` as a JSON string; authors repeat from record to record, so memoise a few."""
    found = _encoded.get(value)
    if found is None:
        if len(_encoded) >= 1024:
            _encoded.clear()
        found = _encoded[value] = orjson.dumps(value).decode()
    return found


def _audit_json(audit: Audit) -> str:
    """The four audit members, as JSON members (timestamps are epoch seconds, to the ms)."""
    created, updated = audit.created_ms, audit.updated_ms
    if created < 0 or updated < 0:  # divmod floors: -1500 would read -2.500
        return (
            f'"CreatedAt":{_seconds(created)},"CreatedBy":{_json_string(audit.created_by)},'
            f'"UpdatedAt":{_seconds(updated)},"UpdatedBy":{_json_string(audit.updated_by)}'
        )
    # %-formatting of integers is measurably cheaper here than formatting floats.
    return '"CreatedAt":%d.%03d,"CreatedBy":%s,"UpdatedAt":%d.%03d,"UpdatedBy":%s' % (  # noqa: UP031
        *divmod(created, 1000),
        _json_string(audit.created_by),
        *divmod(updated, 1000),
        _json_string(audit.updated_by),
    )


def _seconds(ms: int) -> str:
    """Milliseconds as decimal seconds, whatever the sign (stores written before imports
    were bounded may hold times before 1970)."""
    whole, frac = divmod(abs(ms), 1000)
    return f"{'-' if ms < 0 else ''}{whole}.{frac:03d}"


class Operations:
    """Every identitystore operation over one Store."""

    def __init__(self, store: Store, spec: Spec, validator: Validator, config: Config) -> None:
        self._store = store
        self._config = config
        self.users = UserRules(spec, validator)
        self.groups = ProfileSchema(
            spec, validator, "CreateGroupRequest", "Group", "group", not_reserved="DisplayName"
        )
        self._tokens = Tokens(
            store.setting("page-token-key", lambda: secrets.token_hex(32)).encode()
        )
        self._validator = validator
        # GetUserId/GetGroupId unique attributes: (kind, lower-case path) → (the model shape
        # of the attribute's values, the Store's lookup keyword).
        self._unique_attributes = {
            ("user", "username"): (spec.structure("User").members["UserName"], "user_name"),
            ("user", "emails.value"): (spec.structure("Email").members["Value"], "email"),
            ("group", "displayname"): (
                spec.structure("Group").members["DisplayName"],
                "display_name",
            ),
        }
        self.handlers: dict[str, Handler] = {
            name: getattr(self, xform_name(name)) for name in spec.operation_names
        }

    # -- identifiers -------------------------------------------------------------------------

    def store_arn(self, store_id: str) -> str:
        return f"arn:aws:identitystore::{self._config.account_id}:identitystore/{store_id}"

    def store_id(self, value: str) -> str:
        """A store id from an id or a store ARN of this account."""
        return self._store_id(value)

    def _store_id(self, value: str) -> str:
        if not value.startswith("arn:"):
            return value
        match = _STORE_ARN.fullmatch(value)
        if match is None:
            return value
        if match.group(1) != self._config.account_id:
            raise NotFound("IDENTITY_STORE", str(match.group(2)))
        return str(match.group(2))

    @staticmethod
    def _id(value: str, kind: str, member: str) -> str:
        if not value.startswith("arn:"):
            return value.lower()
        match = _RESOURCE_ARN.fullmatch(value)
        if match is None:
            return value.lower()
        if match.group(1) != kind:
            raise InvalidInput(
                f"{member} must be a {kind} id or {kind} ARN, not a {match.group(1)} ARN."
            )
        return str(match.group(2)).lower()

    def _member(self, params: Json) -> str:
        return self._id(params["MemberId"]["UserId"], "user", "MemberId.UserId")

    # -- rendering ---------------------------------------------------------------------------

    @staticmethod
    def _audit(record: UserRecord | GroupRecord | Membership) -> Json:
        audit = record.audit
        return {
            "CreatedAt": audit.created_ms / 1000,
            "CreatedBy": audit.created_by,
            "UpdatedAt": audit.updated_ms / 1000,
            "UpdatedBy": audit.updated_by,
        }

    def _user(self, user: UserRecord, extensions: Iterable[str] = ()) -> bytes:
        audit = user.audit
        uid = user.user_id
        # Ids, Revision and status are ours and need no escaping; authors may, once each.
        head = (
            f'{{"IdentityStoreId":"{user.store_id}","UserId":"{uid}",'
            f'"UserArn":"arn:aws:identitystore:::user/{uid}","Revision":"{user.revision}",'
            f'"UserStatus":"{user.status.value}",{_audit_json(audit)}'
        )
        if extensions and user.extensions_json:
            wanted = {n: user.extensions[n] for n in extensions if n in user.extensions}
            if wanted:
                head += ',"Extensions":' + orjson.dumps(wanted).decode()
        return _close(head, user.attributes_json)

    def _group(self, group: GroupRecord) -> bytes:
        gid = group.group_id
        head = (
            f'{{"IdentityStoreId":"{group.store_id}","GroupId":"{gid}",'
            f'"GroupArn":"arn:aws:identitystore:::group/{gid}","Revision":"{group.revision}",'
            f"{_audit_json(group.audit)}"
        )
        return _close(head, group.attributes_json)

    def _membership(self, membership: Membership) -> Json:
        return {
            "IdentityStoreId": membership.store_id,
            "MembershipId": membership.membership_id,
            "MembershipArn": f"arn:aws:identitystore:::membership/{membership.membership_id}",
            "GroupId": membership.group_id,
            "MemberId": {"UserId": membership.user_id},
            **self._audit(membership),
        }

    def _identity_store(self, store: IdentityStore) -> Json:
        return {
            "IdentityStoreId": store.store_id,
            "IdentityStoreArn": self.store_arn(store.store_id),
        }

    @staticmethod
    def _list(key: str, items: list[bytes], token: str | None) -> bytes:
        body = b'{"' + key.encode() + b'":[' + b",".join(items) + b"]"
        if token is not None:
            body += b',"NextToken":' + orjson.dumps(token)
        return body + b"}"

    # -- paging ------------------------------------------------------------------------------

    def _page_args(self, params: Json, *binding: str) -> tuple[int | None, int]:
        limit = params.get("MaxResults", self._config.default_page_size)
        token = params.get("NextToken")
        after = None if token is None else self._tokens.verify(token, *binding)
        return after, limit

    def _next(self, after: int | None, *binding: str) -> str | None:
        return None if after is None else self._tokens.issue(after, *binding)

    @staticmethod
    def _extension_names(params: Json) -> list[str]:
        names = params.get("Extensions") or []
        unsupported = [n for n in names if n != ENTERPRISE_EXTENSION]
        if unsupported:
            raise InvalidInput(
                f"Unsupported extension {unsupported[0]!r}: the only supported extension is "
                f"{ENTERPRISE_EXTENSION}."
            )
        return list(names)

    @staticmethod
    def _filter(params: Json, path: str) -> str | None:
        filters = params.get("Filters") or []
        if not filters:
            return None
        given = filters[0]["AttributePath"]
        if given.lower() != path.lower():
            raise InvalidInput(
                f"Filtering on '{given}' is not supported: the only filter path is '{path}'."
            )
        return str(filters[0]["AttributeValue"])

    # -- identity stores ---------------------------------------------------------------------

    def describe_identity_store(self, params: Json, call: Call) -> Output:
        store = self._store.get_identity_store(self._store_id(params["IdentityStoreId"]))
        out = self._identity_store(store)
        if store.network_configuration is not None:
            out["NetworkConfiguration"] = store.network_configuration
        return out

    def list_identity_stores(self, params: Json, call: Call) -> Output:
        after, limit = self._page_args(params, "ListIdentityStores")
        page = self._store.list_identity_stores(after, limit, call.visible_stores)
        return {
            "IdentityStores": [self._identity_store(s) for s in page.items],
            **_token(self._next(page.after, "ListIdentityStores")),
        }

    def update_identity_store(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        store = self._store.update_identity_store(store_id, params.get("NetworkConfiguration"))
        return self._identity_store(store)

    # -- users -------------------------------------------------------------------------------

    def create_user(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        attributes, extensions = self.users.check(
            self.users.profile.from_request(params),
            params.get("Extensions") or {},
            modelled=True,
        )
        user = self._store.create_user(
            store_id,
            UserData(attributes, extensions),
            actor=call.principal,
            at=call.at,
            max_users=self._config.max_users_per_store,
        )
        return {
            "IdentityStoreId": store_id,
            "UserId": user.user_id,
            "UserArn": f"arn:aws:identitystore:::user/{user.user_id}",
            "Revision": str(user.revision),
        }

    def describe_user(self, params: Json, call: Call) -> Output:
        names = self._extension_names(params)
        user = self._store.get_user(
            self._store_id(params["IdentityStoreId"]), self._id(params["UserId"], "user", "UserId")
        )
        return self._user(user, names)

    def list_users(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        names = self._extension_names(params)
        user_name = self._filter(params, "UserName")
        binding = ("ListUsers", store_id, user_name or "")
        after, limit = self._page_args(params, *binding)
        page = self._store.list_users(store_id, after, limit, user_name=user_name)
        return self._list(
            "Users", [self._user(u, names) for u in page.items], self._next(page.after, *binding)
        )

    def get_user_id(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        found = self._alternate(params["AlternateIdentifier"], store_id, "user")
        return {
            "IdentityStoreId": store_id,
            "UserId": found,
            "UserArn": f"arn:aws:identitystore:::user/{found}",
        }

    def update_user(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        user_id = self._id(params["UserId"], "user", "UserId")
        operations = params["Operations"]
        profile_ops = [o for o in operations if not _is_extension_path(o["AttributePath"])]

        def change(current: UserRecord) -> UserData:
            attributes = self.users.profile.apply(current.attributes, profile_ops)
            extensions = current.extensions
            for op in operations:
                if _is_extension_path(op["AttributePath"]):
                    extensions = self.users.apply_extension(
                        extensions, op["AttributePath"], op.get("AttributeValue")
                    )
            attributes, extensions = self.users.check(attributes, extensions)
            return UserData(attributes, extensions, current.status)

        user = self._store.update_user(
            store_id,
            user_id,
            change,
            expected_revision=params.get("Revision"),
            actor=call.principal,
            at=call.at,
        )
        return {
            "IdentityStoreId": store_id,
            "UserId": user_id,
            "UserArn": f"arn:aws:identitystore:::user/{user_id}",
            "Revision": str(user.revision),
        }

    def delete_user(self, params: Json, call: Call) -> Output:
        self._store.delete_user(
            self._store_id(params["IdentityStoreId"]),
            self._id(params["UserId"], "user", "UserId"),
            expected_revision=params.get("Revision"),
        )
        return {}

    # -- groups ------------------------------------------------------------------------------

    def create_group(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        attributes = self._check_group(self.groups.from_request(params))
        group = self._store.create_group(
            store_id,
            GroupData(attributes),
            actor=call.principal,
            at=call.at,
            max_groups=self._config.max_groups_per_store,
        )
        return {
            "IdentityStoreId": store_id,
            "GroupId": group.group_id,
            "GroupArn": f"arn:aws:identitystore:::group/{group.group_id}",
            "Revision": str(group.revision),
        }

    def _check_group(self, attributes: Json) -> Json:
        problems: list[str] = []
        attributes = self.groups.check(attributes, problems)
        if problems:
            raise InvalidInput(summarise(problems))
        return attributes

    def describe_group(self, params: Json, call: Call) -> Output:
        return self._group(
            self._store.get_group(
                self._store_id(params["IdentityStoreId"]),
                self._id(params["GroupId"], "group", "GroupId"),
            )
        )

    def list_groups(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        display_name = self._filter(params, "DisplayName")
        binding = ("ListGroups", store_id, display_name or "")
        after, limit = self._page_args(params, *binding)
        page = self._store.list_groups(store_id, after, limit, display_name=display_name)
        return self._list(
            "Groups", [self._group(g) for g in page.items], self._next(page.after, *binding)
        )

    def get_group_id(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        found = self._alternate(params["AlternateIdentifier"], store_id, "group")
        return {
            "IdentityStoreId": store_id,
            "GroupId": found,
            "GroupArn": f"arn:aws:identitystore:::group/{found}",
        }

    def update_group(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        group_id = self._id(params["GroupId"], "group", "GroupId")

        def change(current: GroupRecord) -> GroupData:
            attributes = self.groups.apply(current.attributes, params["Operations"])
            return GroupData(self._check_group(attributes))

        group = self._store.update_group(
            store_id,
            group_id,
            change,
            expected_revision=params.get("Revision"),
            actor=call.principal,
            at=call.at,
        )
        return {
            "IdentityStoreId": store_id,
            "GroupId": group_id,
            "GroupArn": f"arn:aws:identitystore:::group/{group_id}",
            "Revision": str(group.revision),
        }

    def delete_group(self, params: Json, call: Call) -> Output:
        self._store.delete_group(
            self._store_id(params["IdentityStoreId"]),
            self._id(params["GroupId"], "group", "GroupId"),
            expected_revision=params.get("Revision"),
        )
        return {}

    # -- lookups -----------------------------------------------------------------------------

    def _alternate(self, identifier: Json, store_id: str, kind: str) -> str:
        external = identifier.get("ExternalId")
        if external is not None:
            key = ExternalId(external["Issuer"], external["Id"])
            if kind == "user":
                return self._store.find_user_id(store_id, external_id=key)
            return self._store.find_group_id(store_id, external_id=key)
        unique = identifier["UniqueAttribute"]
        path = unique["AttributePath"]
        found = self._unique_attributes.get((kind, path.lower()))
        if found is None:
            allowed = "userName or emails.value" if kind == "user" else "displayName"
            raise InvalidInput(
                f"The attribute {path} is not a unique attribute of a {kind}: use {allowed}."
            )
        shape, keyword = found
        value = unique["AttributeValue"]
        if not isinstance(value, str):
            raise InvalidInput(
                "AlternateIdentifier.UniqueAttribute.AttributeValue must be a string, "
                f"not {json_type(value)}."
            )
        # The value must be one the attribute could hold (the document type checks nothing).
        self._validator.check(shape, value, "alternateIdentifier.uniqueAttribute.attributeValue")
        if keyword == "user_name":
            return self._store.find_user_id(store_id, user_name=value)
        if keyword == "email":
            return self._store.find_user_id(store_id, email=value)
        return self._store.find_group_id(store_id, display_name=value)

    # -- memberships -------------------------------------------------------------------------

    def create_group_membership(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        membership = self._store.create_membership(
            store_id,
            self._id(params["GroupId"], "group", "GroupId"),
            self._member(params),
            actor=call.principal,
            at=call.at,
        )
        return {
            "IdentityStoreId": store_id,
            "MembershipId": membership.membership_id,
            "MembershipArn": f"arn:aws:identitystore:::membership/{membership.membership_id}",
        }

    def describe_group_membership(self, params: Json, call: Call) -> Output:
        return self._membership(
            self._store.get_membership(
                self._store_id(params["IdentityStoreId"]),
                self._id(params["MembershipId"], "membership", "MembershipId"),
            )
        )

    def get_group_membership_id(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        membership = self._store.find_membership(
            store_id, self._id(params["GroupId"], "group", "GroupId"), self._member(params)
        )
        return {
            "IdentityStoreId": store_id,
            "MembershipId": membership.membership_id,
            "MembershipArn": f"arn:aws:identitystore:::membership/{membership.membership_id}",
        }

    def delete_group_membership(self, params: Json, call: Call) -> Output:
        self._store.delete_membership(
            self._store_id(params["IdentityStoreId"]),
            self._id(params["MembershipId"], "membership", "MembershipId"),
        )
        return {}

    def list_group_memberships(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        group_id = self._id(params["GroupId"], "group", "GroupId")
        binding = ("ListGroupMemberships", store_id, group_id)
        after, limit = self._page_args(params, *binding)
        page = self._store.list_group_memberships(store_id, group_id, after, limit)
        return {
            "GroupMemberships": [self._membership(m) for m in page.items],
            **_token(self._next(page.after, *binding)),
        }

    def list_group_memberships_for_member(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        user_id = self._member(params)
        binding = ("ListGroupMembershipsForMember", store_id, user_id)
        after, limit = self._page_args(params, *binding)
        page = self._store.list_user_memberships(store_id, user_id, after, limit)
        return {
            "GroupMemberships": [self._membership(m) for m in page.items],
            **_token(self._next(page.after, *binding)),
        }

    def is_member_in_groups(self, params: Json, call: Call) -> Output:
        store_id = self._store_id(params["IdentityStoreId"])
        user_id = self._member(params)
        group_ids = [self._id(g, "group", "GroupIds") for g in params["GroupIds"]]
        member_of = self._store.groups_of_user_among(store_id, user_id, group_ids)
        return {
            "Results": [
                {"GroupId": g, "MemberId": {"UserId": user_id}, "MembershipExists": g in member_of}
                for g in group_ids
            ]
        }


def _token(token: str | None) -> Json:
    return {} if token is None else {"NextToken": token}


def _is_extension_path(path: str) -> bool:
    return path.count(":") >= 2

"""Fixtures for the administrator's commands: a database another process can open, with data.

`populated` is an identity store on `file_db_url` (a SQLite file, or the PostgreSQL test
database) filled through the real API in-process, so its records look like real ones: full
profiles, updated users (Revision > 1), extensions, ExternalIds (written as SCIM writes them),
groups, memberships, and a deleted user (a gap in creation order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from idstore.cli import main
from idstore.model import ExternalId, GroupData, UserData, now
from idstore.store import Store, open_store
from idstore.testing import IdentityStoreMock
from tests.helpers import make_group, make_membership, make_user


@dataclass
class Populated:
    db_url: str
    store_id: str
    store: Store
    users: dict[str, str]  # UserName -> UserId
    groups: dict[str, str]  # DisplayName -> GroupId

    def cli(self, *args: str, input: bytes | str | None = None) -> Result:
        return CliRunner().invoke(main, [*args, "--db", self.db_url], input=input)


def run_ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _store_ids(store: Store) -> set[str]:
    return {s.store_id for s in store.list_identity_stores(None, 1000).items}


@pytest.fixture
def file_store(file_db_url: str, store: Store) -> Iterator[Store]:
    """A Store on `file_db_url`. (Asking for `store` empties the PostgreSQL tables first.)

    The identity stores a test creates are deleted afterwards: on PostgreSQL the database is
    shared with later tests, some of which expect no data in it."""
    opened = open_store(file_db_url)
    before = _store_ids(opened)
    yield opened
    for store_id in _store_ids(opened) - before:
        opened.delete_identity_store(store_id)
    opened.close()


@pytest.fixture
def populated(file_db_url: str, file_store: Store) -> Iterator[Populated]:
    with IdentityStoreMock(store=file_store) as mock:
        client: Any = boto3.client("identitystore")
        sid = mock.store_id
        users = {
            "alice": make_user(
                client,
                sid,
                "alice",
                Emails=[{"Value": "alice@example.com", "Type": "work", "Primary": True}],
                Addresses=[{"StreetAddress": "1 Main St", "Locality": "Springfield"}],
                PhoneNumbers=[{"Value": "+15551234567", "Type": "work"}],
                NickName="Al",
                Title="Engineer",
                Extensions={"aws:identitystore:enterprise": {"department": "R&D"}},
            ),
            "bob": make_user(client, sid, "bob", Emails=[{"Value": "bob@example.com"}]),
            "gone": make_user(client, sid, "gone"),
            "carol": make_user(client, sid, "carol", Website="https://carol.example.com"),
        }
        client.update_user(
            IdentityStoreId=sid,
            UserId=users["bob"],
            Operations=[{"AttributePath": "displayName", "AttributeValue": "Robert"}],
        )
        client.delete_user(IdentityStoreId=sid, UserId=users.pop("gone"))
        groups = {
            "Admins": make_group(client, sid, "Admins", Description="People who administer"),
            "Everyone": make_group(client, sid, "Everyone"),
        }
        for name in ("alice", "bob", "carol"):
            make_membership(client, sid, groups["Everyone"], users[name])
        make_membership(client, sid, groups["Admins"], users["alice"])
    scim = ExternalId("SCIM", "ext-alice")

    def with_external_id(current: Any) -> UserData:
        data: UserData = current.data()
        return UserData(  # first in the document (the group's is last): export keeps order
            {"ExternalIds": [{"Issuer": scim.issuer, "Id": scim.id}], **data.attributes},
            data.extensions,
            data.status,
        )

    file_store.update_user(
        sid, users["alice"], with_external_id, expected_revision=None, actor="SCIM", at=now()
    )

    def group_external_id(current: Any) -> GroupData:
        return GroupData(
            {**current.attributes, "ExternalIds": [{"Issuer": "SCIM", "Id": "ext-admins"}]}
        )

    file_store.update_group(
        sid, groups["Admins"], group_external_id, expected_revision=None, actor="SCIM", at=now()
    )
    yield Populated(file_db_url, sid, file_store, users, groups)

"""The two forms of user, group and membership ids (see docs/compatibility.md).

A new identity store issues bare UUIDs, as current AWS stores do (and moto), so that client code
calling `uuid.UUID(user_id)` works; a store created with `id_format=PREFIXED` issues
`<10 hex of the store id>-<uuid>`, as older AWS stores do. Every store accepts both forms
wherever an id is read, whichever it issues: databases keep the ids they hold.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, update

from idstore.model import Audit, GroupData, IdFormat, UserData, now
from idstore.store import Store
from idstore.store.groups import MemberChange
from idstore.store.schema import identity_stores
from idstore.testing import mock_identitystore
from tests.helpers import UUID4, make_group, make_membership, make_user, user_params

PREFIXED = r"[0-9a-f]{10}-" + UUID4


def _ids(client: Any, store_id: str) -> list[str]:
    user_id = make_user(client, store_id)
    group_id = make_group(client, store_id)
    membership_id = make_membership(client, store_id, group_id, user_id)
    return [user_id, group_id, membership_id]


def test_a_new_store_issues_bare_uuids(client: Any, store_id: str) -> None:
    for rid in _ids(client, store_id):
        assert re.fullmatch(UUID4, rid)
        assert str(uuid.UUID(rid)) == rid
    listed = client.list_users(IdentityStoreId=store_id)["Users"][0]
    assert listed["UserArn"] == f"arn:aws:identitystore:::user/{listed['UserId']}"


def test_a_prefixed_store_issues_ids_that_begin_with_the_store_id(
    client: Any, store: Store
) -> None:
    store_id = store.create_identity_store(now(), id_format=IdFormat.PREFIXED).store_id
    assert store.get_identity_store(store_id).id_format is IdFormat.PREFIXED
    for rid in _ids(client, store_id):
        assert re.fullmatch(PREFIXED, rid)
        assert rid.startswith(store_id[2:] + "-")
        uuid.UUID(rid[11:])


def test_the_mock_can_issue_prefixed_ids() -> None:
    import boto3

    with mock_identitystore(id_format="prefixed") as mock:
        client = boto3.client("identitystore", region_name="us-east-1")
        user_id = make_user(client, mock.store_id)
        assert user_id.startswith(mock.store_id[2:] + "-")
    with pytest.raises(ValueError):
        mock_identitystore(id_format="short")


def test_both_forms_are_accepted_in_either_store(client: Any, store: Store, store_id: str) -> None:
    prefixed_store = store.create_identity_store(now(), id_format=IdFormat.PREFIXED).store_id
    for sid in (store_id, prefixed_store):
        for other in (store_id, prefixed_store):
            # A user and a group of the other form, as an import or an older database holds.
            prefix = other[2:] + "-" if other == prefixed_store else ""
            user_id = _insert_user(store, sid, prefix + str(uuid.uuid4()), f"u-{other}")
            group_id = make_group(client, sid, f"g-{other}")
            membership_id = make_membership(client, sid, group_id, user_id)
            assert client.describe_user(IdentityStoreId=sid, UserId=user_id)["UserId"] == user_id
            found = client.get_group_membership_id(
                IdentityStoreId=sid, GroupId=group_id, MemberId={"UserId": user_id}
            )
            assert found["MembershipId"] == membership_id
            client.update_user(
                IdentityStoreId=sid,
                UserId=user_id,
                Operations=[{"AttributePath": "displayName", "AttributeValue": "Renamed"}],
            )
            client.delete_user(IdentityStoreId=sid, UserId=user_id)


def _insert_user(store: Store, store_id: str, user_id: str, name: str) -> str:
    """A user with a given id, written the way `idstore import` writes one."""
    from idstore.store.bulk import BulkUser

    params = user_params(store_id, name)
    attributes = {k: v for k, v in params.items() if k != "IdentityStoreId"}
    record = BulkUser.of(user_id, UserData(attributes), 1, Audit.new("importer", now()))
    store.import_records(store_id, [record], [], [])
    return user_id


def test_scim_member_adds_use_the_store_form(store: Store) -> None:
    for id_format, pattern in ((IdFormat.UUID, UUID4), (IdFormat.PREFIXED, PREFIXED)):
        sid = store.create_identity_store(now(), id_format=id_format).store_id
        data = UserData(
            {"UserName": "a", "DisplayName": "a", "Name": {"GivenName": "a", "FamilyName": "b"}}
        )
        user = store.create_user(sid, data, actor="SCIM", at=now(), max_users=9)
        group = store.create_group(
            sid, GroupData({"DisplayName": "g"}), actor="x", at=now(), max_groups=9
        )
        assert re.fullmatch(pattern, user.user_id) and re.fullmatch(pattern, group.group_id)
        store.change_group(
            sid,
            group.group_id,
            lambda _: None,
            [MemberChange("add", (user.user_id,))],
            actor="SCIM",
            at=now(),
            max_member_changes=10,
        )
        membership = store.find_membership(sid, group.group_id, user.user_id)
        assert re.fullmatch(pattern, membership.membership_id)


def test_a_store_row_without_a_format_issues_prefixed_ids(store: Store) -> None:
    # What migration 0004 leaves for stores created before there was a choice.
    with store.engine.begin() as conn:
        conn.execute(insert(identity_stores).values(store_id="d-00000000ab", created_at=0))
    assert store.get_identity_store("d-00000000ab").id_format is IdFormat.PREFIXED
    data = UserData({"UserName": "a", "DisplayName": "a"})
    user = store.create_user("d-00000000ab", data, actor="x", at=now(), max_users=9)
    assert user.user_id.startswith("00000000ab-")
    with store.engine.begin() as conn:
        conn.execute(update(identity_stores).values(id_format="uuid"))
    assert store.get_identity_store("d-00000000ab").id_format is IdFormat.UUID


def test_stores_create_takes_the_id_format(file_db_url: str) -> None:
    from idstore.store import open_store
    from tests.test_cli import run

    default = run("stores", "create", "--db", file_db_url).strip().splitlines()[-1]
    prefixed = run("stores", "create", "--db", file_db_url, "--id-format", "prefixed")
    prefixed = prefixed.strip().splitlines()[-1]
    listing = run("stores", "list", "--db", file_db_url).splitlines()
    assert "IDS" in listing[0].split()
    formats = {line.split()[0]: line.split()[3] for line in listing[1:]}
    assert (formats[default], formats[prefixed]) == ("uuid", "prefixed")
    opened = open_store(file_db_url)
    try:
        assert opened.get_identity_store(default).id_format is IdFormat.UUID
        assert opened.get_identity_store(prefixed).id_format is IdFormat.PREFIXED
    finally:
        opened.close()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "idstore",
            "stores",
            "create",
            "--db",
            file_db_url,
            "--id-format",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "'uuid', 'prefixed'" in bad.stderr

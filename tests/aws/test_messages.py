"""Error messages in AWS's own wording, where AWS's wording is on record.

Client code matches messages (a sync tool telling "group exists" from other conflicts), so where
AWS's text is documented or observed idstore uses it, and each test below cites where it is
from. Where it is not, idstore keeps its own plain sentence (see docs/compatibility.md). The
Code, Reason, ResourceType and ResourceId members are what clients should match, and are
tested with the operations.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import error_of, make_group, make_user


def test_a_duplicate_group_display_name(client: Any, store_id: str) -> None:
    # AWS's CloudTrail example of a failed CreateGroup ("errorMessage": "Duplicate
    # GroupDisplayName"):
    # https://docs.aws.amazon.com/singlesignon/latest/userguide/scim-logging-using-cloudtrail.html
    # and public code run against AWS that matches it on the identitystore API's
    # ConflictException (a stamp-lib Identity Center catalog: `e instanceof ConflictException
    # && e.message.includes("Duplicate GroupDisplayName")` after a CreateGroupCommand).
    make_group(client, store_id, "Engineering")
    with pytest.raises(client.exceptions.ConflictException) as caught:
        make_group(client, store_id, "ENGINEERING")
    error = error_of(caught)
    assert error["Message"] == "Duplicate GroupDisplayName"
    assert error["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"


def test_a_rename_onto_a_taken_display_name(client: Any, store_id: str) -> None:
    make_group(client, store_id, "Engineering")
    other = make_group(client, store_id, "Sales")
    with pytest.raises(client.exceptions.ConflictException) as caught:
        client.update_group(
            IdentityStoreId=store_id,
            GroupId=other,
            Operations=[{"AttributePath": "displayName", "AttributeValue": "engineering"}],
        )
    assert error_of(caught)["Message"] == "Duplicate GroupDisplayName"


def test_a_missing_identity_store(client: Any) -> None:
    # Observed from AWS (ssosync issue 221, a real ResourceNotFoundException body):
    # https://github.com/awslabs/ssosync/issues/221
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.list_users(IdentityStoreId="d-0000000000")
    error = error_of(caught)
    assert error["Message"] == "IdentityStore not present for IdentityStoreId: d-0000000000"
    assert (error["ResourceType"], error["ResourceId"]) == ("IDENTITY_STORE", "d-0000000000")


def test_messages_without_a_public_record_keep_idstore_wording(client: Any, store_id: str) -> None:
    # No AWS text for these was found (AWS docs, CloudTrail examples, SDK issues, public code):
    # idstore's sentences stay, and the structured members carry the meaning.
    make_user(client, store_id, "alice")
    with pytest.raises(client.exceptions.ConflictException) as caught:
        make_user(client, store_id, "Alice")
    assert error_of(caught)["Message"] == "A user with this UserName already exists."
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.get_user_id(
            IdentityStoreId=store_id,
            AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}
            },
        )
    error = error_of(missing)
    assert error["Message"] == "No User matches the given identifier."
    assert error["ResourceType"] == "USER"

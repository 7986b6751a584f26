"""Identity stores: DescribeIdentityStore, ListIdentityStores, UpdateIdentityStore
(docs/behaviour.md#identifiers, #other-fields)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from idstore.store import Store
from tests.helpers import expect_error, without_metadata

UNKNOWN_STORE = "d-0123456789"


def _arn(store_id: str) -> str:
    return f"arn:aws:identitystore::000000000000:identitystore/{store_id}"


def _describe(client: Any, store_id: str) -> dict[str, Any]:
    return without_metadata(client.describe_identity_store(IdentityStoreId=store_id))


def test_the_mock_store_id_is_well_formed(store_id: str) -> None:
    assert store_id.startswith("d-")
    assert len(store_id) == 12
    assert all(c in "0123456789abcdef" for c in store_id[2:])


def test_describe_identity_store(client: Any, store_id: str) -> None:
    assert _describe(client, store_id) == {
        "IdentityStoreId": store_id,
        "IdentityStoreArn": _arn(store_id),
    }


def test_describe_identity_store_by_arn(client: Any, store_id: str) -> None:
    assert _describe(client, _arn(store_id))["IdentityStoreId"] == store_id


def test_describe_unknown_identity_store(client: Any) -> None:
    error = expect_error(
        "ResourceNotFoundException", client.describe_identity_store, IdentityStoreId=UNKNOWN_STORE
    )
    assert error["ResourceType"] == "IDENTITY_STORE"
    assert error["ResourceId"] == UNKNOWN_STORE


def test_list_identity_stores_includes_the_mock_store(client: Any, store_id: str) -> None:
    out = without_metadata(client.list_identity_stores())
    assert {"IdentityStoreId": store_id, "IdentityStoreArn": _arn(store_id)} in out[
        "IdentityStores"
    ]
    assert all(set(s) == {"IdentityStoreId", "IdentityStoreArn"} for s in out["IdentityStores"])
    assert "NextToken" not in out


def test_list_identity_stores_lists_every_store_in_creation_order(
    client: Any, store_id: str, store: Store
) -> None:
    more = [store.create_identity_store(datetime.now(UTC)).store_id for _ in range(2)]
    listed = [s["IdentityStoreId"] for s in client.list_identity_stores()["IdentityStores"]]
    assert listed == [store_id, *more]
    assert [s["IdentityStoreArn"] for s in client.list_identity_stores()["IdentityStores"]] == [
        _arn(s) for s in listed
    ]


def test_update_identity_store_output(client: Any, store_id: str) -> None:
    out = client.update_identity_store(
        IdentityStoreId=store_id, NetworkConfiguration={"VpceAccessRequired": False}
    )
    assert without_metadata(out) == {
        "IdentityStoreId": store_id,
        "IdentityStoreArn": _arn(store_id),
    }


def test_network_configuration_is_stored_and_described(client: Any, store_id: str) -> None:
    config = {
        "VpceAccessRequired": True,
        "ApiRestrictSourceVpcs": [
            "vpc-0123456789abcdef0",
            "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-01234567",
        ],
        "ScimAllowSourceIps": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
    }
    client.update_identity_store(IdentityStoreId=store_id, NetworkConfiguration=config)
    assert _describe(client, store_id)["NetworkConfiguration"] == config


def test_network_configuration_is_a_full_replacement(client: Any, store_id: str) -> None:
    client.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={
            "VpceAccessRequired": True,
            "ApiRestrictSourceVpcs": ["vpc-0123456789abcdef0"],
            "ScimAllowSourceIps": ["10.0.0.0/8"],
        },
    )
    client.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={"VpceAccessRequired": False, "ScimAllowSourceIps": ["192.0.2.0/24"]},
    )
    assert _describe(client, store_id)["NetworkConfiguration"] == {
        "VpceAccessRequired": False,
        "ScimAllowSourceIps": ["192.0.2.0/24"],
    }


def test_an_update_without_network_configuration_clears_it(client: Any, store_id: str) -> None:
    client.update_identity_store(
        IdentityStoreId=store_id,
        NetworkConfiguration={"VpceAccessRequired": True, "ScimAllowSourceIps": ["10.0.0.0/8"]},
    )
    client.update_identity_store(IdentityStoreId=store_id)
    assert "NetworkConfiguration" not in _describe(client, store_id)


def test_update_identity_store_by_arn(client: Any, store_id: str) -> None:
    out = client.update_identity_store(
        IdentityStoreId=_arn(store_id),
        NetworkConfiguration={"VpceAccessRequired": True},
    )
    assert out["IdentityStoreId"] == store_id
    assert _describe(client, store_id)["NetworkConfiguration"] == {"VpceAccessRequired": True}


def test_network_configuration_is_per_store(
    client: Any, store_id: str, other_store_id: str
) -> None:
    client.update_identity_store(
        IdentityStoreId=store_id, NetworkConfiguration={"VpceAccessRequired": True}
    )
    assert "NetworkConfiguration" not in _describe(client, other_store_id)


def test_update_unknown_identity_store(client: Any) -> None:
    error = expect_error(
        "ResourceNotFoundException",
        client.update_identity_store,
        IdentityStoreId=UNKNOWN_STORE,
        NetworkConfiguration={"VpceAccessRequired": False},
    )
    assert error["ResourceType"] == "IDENTITY_STORE"
    assert error["ResourceId"] == UNKNOWN_STORE


@pytest.mark.parametrize(
    "network",
    [
        {"VpceAccessRequired": False, "ScimAllowSourceIps": ["not-an-ip"]},
        {"VpceAccessRequired": False, "ApiAllowSourceIps": ["10.0.0.0/33"]},
        {"VpceAccessRequired": False, "ApiAllowSourceIps": ["256.0.0.1"]},
        {"VpceAccessRequired": False, "ApiRestrictSourceVpcs": ["vpc-0123456789xyz"]},
        {"VpceAccessRequired": False, "ScimAllowSourceIps": [f"10.0.0.{i}" for i in range(51)]},
    ],
)
def test_bad_network_configuration_is_refused(
    client: Any, store_id: str, network: dict[str, Any]
) -> None:
    client.update_identity_store(
        IdentityStoreId=store_id, NetworkConfiguration={"VpceAccessRequired": True}
    )
    expect_error(
        "ValidationException",
        client.update_identity_store,
        IdentityStoreId=store_id,
        NetworkConfiguration=network,
    )
    assert _describe(client, store_id)["NetworkConfiguration"] == {"VpceAccessRequired": True}


def test_an_empty_address_list_is_refused(raw_client: Any, store_id: str) -> None:
    expect_error(
        "ValidationException",
        raw_client.update_identity_store,
        IdentityStoreId=store_id,
        NetworkConfiguration={"VpceAccessRequired": False, "ScimAllowSourceIps": []},
    )
    assert "NetworkConfiguration" not in _describe(raw_client, store_id)


def test_list_identity_stores_max_results(client: Any, store_id: str, store: Store) -> None:
    store.create_identity_store(datetime.now(UTC))
    first = client.list_identity_stores(MaxResults=1)
    assert [s["IdentityStoreId"] for s in first["IdentityStores"]] == [store_id]
    assert "NextToken" in first
    expect_error("ValidationException", client.list_identity_stores, MaxResults=101)

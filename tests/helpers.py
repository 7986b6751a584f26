"""Small helpers for tests: build valid users and groups through a real client."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def user_params(store_id: str, name: str = "alice", **overrides: Any) -> dict[str, Any]:
    """CreateUser parameters that satisfy every rule; override or add members freely."""
    params: dict[str, Any] = {
        "IdentityStoreId": store_id,
        "UserName": name,
        "DisplayName": f"{name.title()} Example",
        "Name": {"GivenName": name.title(), "FamilyName": "Example"},
    }
    params.update(overrides)
    return params


def make_user(client: Any, store_id: str, name: str = "alice", **overrides: Any) -> str:
    """Create a valid user; return its UserId."""
    return str(client.create_user(**user_params(store_id, name, **overrides))["UserId"])


def make_group(client: Any, store_id: str, name: str = "Engineering", **overrides: Any) -> str:
    """Create a group; return its GroupId."""
    return str(
        client.create_group(IdentityStoreId=store_id, DisplayName=name, **overrides)["GroupId"]
    )


def error_of(excinfo: Any) -> dict[str, Any]:
    """The parsed error response of a `pytest.raises(ClientError)` block."""
    error = excinfo.value
    assert isinstance(error, ClientError)
    return error.response  # type: ignore[no-any-return]

"""What the installed botocore's identitystore model has: the test mode runs on a matrix of
botocore releases (scripts/test-matrix), and a client built from an older model simply lacks
the members and operations added since (UserArn, CreatedBy, ... in 1.40 and 1.44)."""

from __future__ import annotations

from typing import Any


def has_member(client: Any, shape: str, member: str) -> bool:
    """Whether `client`'s model has `member` in `shape` (so it parses it from responses)."""
    return member in client.meta.service_model.shape_for(shape).members

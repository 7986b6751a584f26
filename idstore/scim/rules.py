"""The profile rules SCIM writes must pass, as the front end needs them: two Protocols.

A user or group written over SCIM must satisfy exactly what CreateUser/UpdateUser would: the
botocore model's constraints and Identity Center's rules. Those are derived from the service
model on the AWS side (`aws/attributes.py`), which this package may not import (the two front
ends are independent); `app.py` passes the AWS side's objects in, and anything with these
methods will do.
"""

from __future__ import annotations

from typing import Protocol

from idstore.model import Json


class UserRules(Protocol):
    def check(self, attributes: Json, extensions: Json) -> tuple[Json, Json]:
        """Validate a whole user profile and its extensions; return both cleaned, or raise
        InvalidInput (MalformedRequest for a value of the wrong JSON type)."""
        ...


class GroupRules(Protocol):
    def check(self, attributes: Json, problems: list[str]) -> Json:
        """Validate a whole group profile against the model and Identity Center's rules (no
        reserved DisplayName); append each violation to `problems`, return the profile cleaned."""
        ...

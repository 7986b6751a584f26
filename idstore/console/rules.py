"""What the console is given by the application: the AWS side's profile rules, and a way to
issue SCIM tokens, as Protocols.

The console writes through the same rules as CreateUser/UpdateUser and CreateGroup/UpdateGroup:
those are derived from the service model on the AWS side (`aws/attributes.py`), which this
package may not import (the front ends are independent). `app.py` passes the AWS side's objects
in, as it does for SCIM, and the SCIM front end's token issuer likewise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from idstore.model import Json
from idstore.store.tokens import ScimToken


class UserRules(Protocol):
    def check(self, attributes: Json, extensions: Json) -> tuple[Json, Json]:
        """Validate a whole user profile and its extensions; return both cleaned, or raise
        InvalidInput listing each problem."""
        ...


class GroupRules(Protocol):
    def check(self, attributes: Json, problems: list[str]) -> Json:
        """Validate a whole group profile; append each violation to `problems`."""
        ...


class TokenIssuer(Protocol):
    def __call__(
        self, store_id: str, *, at: datetime, lifetime: timedelta
    ) -> tuple[str, ScimToken]:
        """A new SCIM bearer token for the store (shown once) and its record."""
        ...

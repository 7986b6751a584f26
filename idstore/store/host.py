"""What the Store's mixins (bulk transfer, access keys, SCIM tokens, SCIM queries) build on.

Each mixin's methods take `self` typed as a Protocol of the `Store` parts they call, so that
they type-check apart from `Store`; `StoreHost` is the part they all share: a read, a write
transaction (retried, errors mapped), and an identity store that must exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from idstore.model import IdentityStore
from idstore.store.sql import Connection

T = TypeVar("T")


class StoreHost(Protocol):
    def _read(self, work: Callable[[Connection], T]) -> T: ...

    def _write(
        self,
        work: Callable[[Connection], T],
        on_missing_reference: Callable[[], Exception] | None = None,
    ) -> T: ...

    @staticmethod
    def _require_store(conn: Connection, store_id: str) -> IdentityStore: ...

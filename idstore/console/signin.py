"""Who is using the console: signing in with an access key, what the key may do, and slowing
down guessing.

Signing in (with `--auth sigv4`) proves possession of an access key's secret the direct way:
the secret typed in is compared, in constant time, with the key's own, opened with the server
key. An unknown key and a wrong secret get the same answer, after the same work. The key's
rights are the API's (see idstore/aws/access.py): its identity stores, and for a read-only key
only reading; the console asks `Admin` before showing a write control and again before making
the write, and refuses in the API's words.

Failed sign-ins are counted per client address and per access key id. After `FREE_FAILURES`
in a row, each further attempt must wait twice as long as the last (1 s, 2 s, 4 s, ... up to
`MAX_WAIT_SECONDS`); the counter forgets after `FORGET_SECONDS` of quiet, and a success clears
it. The table keeps at most `MAX_TRACKED` entries (the oldest go first), so a flood of
addresses cannot grow memory. Counts are per server process.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from idstore.errors import AccessDenied
from idstore.serverkey import ServerKey, ServerKeyError
from idstore.store import Store
from idstore.store.credentials import AccessKey

FREE_FAILURES = 5
MAX_WAIT_SECONDS = 300
FORGET_SECONDS = 900
MAX_TRACKED = 10_000
MAX_FIELD = 256  # longer key ids or secrets are refused unread
# Compared against when the key is unknown, so that a miss costs what a wrong secret does.
_NO_SECRET = "x" * 40


@dataclass(frozen=True)
class Admin:
    """The signed-in principal: recorded as CreatedBy/UpdatedBy, and limited like the API."""

    arn: str
    name: str
    access_key_id: str | None
    stores: frozenset[str] | None  # None: every store
    read_only: bool

    def may_use(self, store_id: str) -> bool:
        return self.stores is None or store_id in self.stores

    @property
    def may_write(self) -> bool:
        return not self.read_only

    def require(self, operation: str, store_id: str) -> None:
        """AccessDenied unless this principal may call `operation` on `store_id`, worded as
        the API words it."""
        if self.read_only and not operation.startswith(("Describe", "Get", "List")):
            raise AccessDenied(
                f"User: {self.arn} is not authorized to perform: identitystore:{operation} "
                "(its access key is read-only)."
            )
        if not self.may_use(store_id):
            raise AccessDenied(
                f"User: {self.arn} is not authorized to perform: identitystore:{operation} "
                f"on identity store {store_id[:64]}."
            )


def admin_of(key: AccessKey, account_id: str) -> Admin:
    return Admin(
        f"arn:aws:iam::{account_id}:user/{key.name}",
        key.name,
        key.access_key_id,
        key.stores,
        key.read_only,
    )


def local_admin(account_id: str) -> Admin:
    """Local mode (`--auth none`): everything, attributed to the account's root, as the API
    attributes an unsigned request."""
    return Admin(f"arn:aws:iam::{account_id}:root", "local mode", None, None, False)


def check_secret(store: Store, server_key: ServerKey, key_id: str, secret: str) -> AccessKey | None:
    """The access key `key_id` if `secret` is its secret; None otherwise (whichever way)."""
    if not key_id or len(key_id) > MAX_FIELD or len(secret) > MAX_FIELD:
        return None
    key = store.get_access_key(key_id)
    expected = _NO_SECRET
    if key is not None:
        try:
            expected = key.secret(server_key)
        except ServerKeyError:
            key = None  # sealed under another server key: unusable, as for the API
    matches = hmac.compare_digest(expected.encode(), secret.encode())
    return key if matches and key is not None else None


class FailedSignIns:
    """Failed attempts per name (client address, key id), with a growing wait."""

    def __init__(
        self, *, max_tracked: int = MAX_TRACKED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_tracked
        self._clock = clock
        # name -> (failures in a row, monotonic time of the last)
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()  # console pages run on a thread pool

    def wait(self, *names: str) -> int:
        """Seconds before another attempt for these names is considered (0: now)."""
        with self._lock:
            return self._wait(names)

    def _wait(self, names: tuple[str, ...]) -> int:
        now = self._clock()
        longest = 0.0
        for name in names:
            entry = self._failures.get(name)
            if entry is None:
                continue
            count, last = entry
            if now - last > FORGET_SECONDS:
                del self._failures[name]
                continue
            if count >= FREE_FAILURES:
                delay = min(2.0 ** (count - FREE_FAILURES), MAX_WAIT_SECONDS)
                longest = max(longest, last + delay - now)
        return max(0, int(longest + 0.999))

    def failed(self, *names: str) -> None:
        now = self._clock()
        with self._lock:
            for name in names:
                count, last = self._failures.pop(name, (0, now))
                if now - last > FORGET_SECONDS:
                    count = 0
                self._failures[name] = (count + 1, now)
                while len(self._failures) > self._max:
                    self._failures.popitem(last=False)

    def succeeded(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._failures.pop(name, None)

    def __len__(self) -> int:
        return len(self._failures)

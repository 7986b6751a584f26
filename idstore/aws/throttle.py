"""Throttling: a token bucket per (identity store, operation), as AWS rate-limits its API.

Each bucket holds up to `rate` tokens (one second's worth, at least one) and refills at `rate`
per second; a request takes one token or is refused with ThrottlingException, whose
RetryAfterSeconds says when a token will be back. botocore's standard and adaptive retry modes
retry ThrottlingException with backoff, so well-behaved clients slow down by themselves.

Buckets are per process: with `--workers N` the limit is N times the rate. The gateway keys
them by validated ids of existing stores only (requests naming no existing store share one
bucket per operation), and at most `MAX_BUCKETS` are kept, the least recently used dropped
first (an idle bucket has refilled, so dropping it loses nothing): memory stays bounded
whatever store ids clients send.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from idstore import errors

# At most this many buckets; the least recently used go first.
MAX_BUCKETS = 10_000


class Throttle:
    """Token buckets per (identity store, operation), refilling at `rate` per second."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("the throttling rate must be positive")
        self._rate = rate
        self._burst = max(1.0, rate)
        self._clock = clock
        # (store, operation) -> [tokens, time of the last refill]
        self._buckets: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, store_id: str, operation: str) -> None:
        """Take a token for one request, or raise Throttled."""
        now = self._clock()
        key = (store_id, operation)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [self._burst - 1, now]
                if len(self._buckets) > MAX_BUCKETS:
                    self._buckets.popitem(last=False)
                return
            self._buckets.move_to_end(key)
            tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._rate)
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return
            bucket[0] = tokens
        wait = (1 - tokens) / self._rate
        raise errors.Throttled(
            f"Rate exceeded: {operation} is limited to {self._rate:g} requests per second "
            "per identity store.",
            retry_after=max(1, math.ceil(wait)),
        )

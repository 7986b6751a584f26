"""Throttling: a token bucket per (identity store, operation), as AWS rate-limits its API.

Each bucket holds up to `rate` tokens (one second's worth, at least one) and refills at `rate`
per second; a request takes one token or is refused with ThrottlingException, whose
RetryAfterSeconds says when a token will be back. botocore's standard and adaptive retry modes
retry ThrottlingException with backoff, so well-behaved clients slow down by themselves.

Buckets are per process: with `--workers N` the limit is N times the rate. Buckets that have
refilled completely carry no information, so when there are many they are dropped, which keeps
memory bounded whatever store ids clients send.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from idstore import errors

# Above this many buckets, full (idle) ones are dropped.
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
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def take(self, store_id: str, operation: str) -> None:
        """Take a token for one request, or raise Throttled."""
        now = self._clock()
        key = (store_id, operation)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._drop_full(now)
                self._buckets[key] = [self._burst - 1, now]
                return
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

    def _drop_full(self, now: float) -> None:
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self._rate >= self._burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy: start afresh rather than grow
            self._buckets.clear()

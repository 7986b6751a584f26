"""Prometheus metrics: what the server counts per request, and the text served at GET /metrics.

The app calls `Metrics.observe` once per API, SCIM or console request with what the response
says (front end, operation, status, error code, seconds); nothing below the app knows metrics
exist. Derived counters (throttled requests, authentication failures by reason, quota refusals)
are counted from the same call, so they always agree with `idstore_requests_total`.

Label values come from the request, so each is bounded: the operation must be one the front end
serves (others count as "other"), and error codes are taken from the response, at most
`_MAX_CODES` distinct ones.

The two series every request adds to (`idstore_requests_total` and the latency histogram) cost
a request microseconds, and the request path is measured in tens of them. In one process they
are kept in plain dicts that only the event loop thread writes (`_RequestCounts`), and turned
into metric families when scraped; prometheus-client's children would take a lock and validate
their state on every increment, several per request, about 4% of a DescribeUser's time. The
rarer series (refusals, database waits) use prometheus-client's metrics directly. Console
requests are counted in the two per-request series only: a mistyped sign-in or a stale form is
not an API authentication failure.

Several worker processes (`serve --workers N`): prometheus-client's multiprocess mode. The
parent sets `PROMETHEUS_MULTIPROC_DIR` (an empty directory of its own) before the workers start;
each worker's values live in memory-mapped files there, and a scrape of any worker adds up every
process's, once. Store sizes are read from the database at scrape time (the counters on the
identity store row, and one grouped count of memberships), cached for a few seconds, so they
are not multiplied by the number of workers either.

Access to /metrics is decided by the app (docs/operations.md): open in local mode, otherwise
from the addresses `--metrics-allow` names or with a SigV4 signature of a key for all stores.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.utils import floatToGoString

from idstore import __version__

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_DIR", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# AWS error codes that mean the caller was not authenticated or not allowed.
_AUTH_CODES = {
    "UnrecognizedClientException": "unknown_key",
    "InvalidSignatureException": "bad_signature",
    "IncompleteSignatureException": "incomplete_signature",
    "MissingAuthenticationTokenException": "missing_signature",
    "InvalidClientTokenId": "unknown_key",
    "SignatureDoesNotMatch": "bad_signature",
    "ExpiredTokenException": "expired",
    "AccessDeniedException": "access_denied",
}
_THROTTLED = {"ThrottlingException"}
_QUOTA = {"ServiceQuotaExceededException"}
_MAX_CODES = 64
# Latency buckets (seconds): requests take from tens of microseconds to, at worst, a lock wait.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZES_TTL = 10.0

# What a scrape reads from the database: (store id, users, groups, memberships) per store.
SizeReader = Callable[[], Iterable[tuple[str, int, int, int]]]


class _StoreSizes:
    """A collector of per-store sizes, read at most every `_SIZES_TTL` seconds."""

    def __init__(self, read: SizeReader, ttl: float = _SIZES_TTL) -> None:
        self._read = read
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[tuple[str, int, int, int]]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self.ttl:
                self._cached = (time.monotonic(), list(self._read()))
            rows = self._cached[1]
        families = [
            GaugeMetricFamily(
                f"idstore_store_{kind}", f"{kind.capitalize()} in the store.", labels=["store"]
            )
            for kind in ("users", "groups", "memberships")
        ]
        for store_id, *sizes in rows:
            for family, size in zip(families, sizes, strict=True):
                family.add_metric([store_id], size)
        yield from families


# prometheus-client's own switch for the `_created` series, read the way it reads it.
_CREATED_SERIES = os.environ.get("PROMETHEUS_DISABLE_CREATED_SERIES", "False").lower() not in (
    "true",
    "1",
    "t",
)
_REQUESTS = (
    "idstore_requests",
    "Requests answered, by front end, operation, status and error code.",
)
_LATENCY = (
    "idstore_request_duration_seconds",
    "Time from the request's headers to its response, by front end and operation.",
)


class _RequestCounts:
    """`idstore_requests_total` and the latency histogram of one process, in plain dicts.

    `Metrics.observe` records into it, on one thread only (the event loop's: not safe from two
    threads at once). A scrape on another thread copies the dicts first; each copy is made without
    giving up the GIL, though a request's record is several steps, so a scrape may see one
    request in a series' sum and not yet in its buckets (or the reverse); the next sees both.
    """

    def __init__(self) -> None:
        self.created = time.time()
        self.counts: dict[tuple[str, str, int, str], int] = {}
        # (front end, operation) -> [sum of seconds, count of each bucket, then of +Inf]
        self.latency: dict[tuple[str, str], list[float]] = {}

    def collect(self) -> Iterator[Metric]:
        counts, latency = dict(self.counts), {k: list(v) for k, v in dict(self.latency).items()}
        created = self.created if _CREATED_SERIES else None
        requests = CounterMetricFamily(
            *_REQUESTS, labels=["frontend", "operation", "status", "error"]
        )
        for (frontend, operation, status, code), count in sorted(counts.items()):
            requests.add_metric([frontend, operation, str(status), code], count, created)
        yield requests
        durations = HistogramMetricFamily(*_LATENCY, labels=["frontend", "operation"])
        # Bounds spelled as prometheus-client spells them (in multiprocess mode too).
        bounds = [*(floatToGoString(b) for b in _BUCKETS), "+Inf"]  # type: ignore[no-untyped-call]
        for labels, series in sorted(latency.items()):
            cumulative, buckets = 0.0, []
            for bound, observed in zip(bounds, series[1:], strict=True):
                cumulative += observed
                buckets.append((bound, cumulative))
            durations.add_metric(list(labels), buckets, series[0])
        yield durations


class Metrics:
    """The server's metrics, on a registry of their own (one per app)."""

    def __init__(
        self,
        operations: dict[str, Iterable[str]],
        sizes: SizeReader | None = None,
        *,
        pool_in_use: Callable[[], int] | None = None,
    ) -> None:
        self._multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self._operations = {frontend: frozenset(ops) for frontend, ops in operations.items()}
        self._own = CollectorRegistry(auto_describe=True)
        r = self._own
        # Per request: shared memory-mapped values with several processes, else our own.
        self._local = None if self._multiprocess else _RequestCounts()
        if self._local is None:
            self._requests = Counter(
                *_REQUESTS, ["frontend", "operation", "status", "error"], registry=r
            )
            self._latency = Histogram(
                *_LATENCY, ["frontend", "operation"], buckets=_BUCKETS, registry=r
            )
        else:
            r.register(self._local)
        self._throttled = Counter(
            "idstore_throttled_requests",
            "Requests refused by throttling.",
            ["frontend"],
            registry=r,
        )
        self._auth_failures = Counter(
            "idstore_auth_failures",
            "Requests refused for their credentials, by reason.",
            ["frontend", "reason"],
            registry=r,
        )
        self._quota = Counter(
            "idstore_quota_refusals",
            "Writes refused because a store reached a quota.",
            ["frontend"],
            registry=r,
        )
        self._db_wait = Histogram(
            "idstore_db_wait_seconds",
            "Time spent waiting for a database connection or a write lock.",
            ["kind"],
            buckets=_BUCKETS,
            registry=r,
        )
        self._db_retries = Counter(
            "idstore_db_transaction_retries",
            "Transactions run again after a transient failure.",
            registry=r,
        )
        self._info = Gauge(
            "idstore_build_info",
            "The running idstore's version.",
            ["version"],
            registry=r,
            multiprocess_mode="max",
        )
        self._info.labels(__version__).set(1)
        self._children: dict[tuple[str, str, int, str], tuple[Any, Any]] = {}
        self._codes: set[str] = set()
        self._lock = threading.Lock()
        # Collected at scrape time only (not in multiprocess files): read from the database.
        self._scrape_only: list[Any] = []
        self.store_sizes = _StoreSizes(sizes) if sizes is not None else None
        if self.store_sizes is not None:
            self._scrape_only.append(self.store_sizes)
        if pool_in_use is not None:
            self._scrape_only.append(_PoolGauge(pool_in_use))

    def operation(self, frontend: str, name: str | None) -> str:
        """`name` if the front end serves it, else "other" (label values stay bounded)."""
        return name if name is not None and name in self._operations.get(frontend, ()) else "other"

    def observe(
        self, frontend: str, operation: str, status: int, error: str | None, seconds: float
    ) -> None:
        """Count one answered request. `operation` must come from `operation()`."""
        code = self._code(error) if error else ""
        key = (frontend, operation, status, code)
        local = self._local
        if local is not None:  # into `_RequestCounts`, here rather than by a call: per request
            counts = local.counts
            counts[key] = counts.get(key, 0) + 1
            series = local.latency.get(key[:2])
            if series is None:
                series = local.latency[key[:2]] = [0.0] * (len(_BUCKETS) + 2)
            series[0] += seconds
            series[bisect.bisect_left(_BUCKETS, seconds) + 1] += 1
        else:
            children = self._children.get(key)
            if children is None:
                with self._lock:
                    children = (
                        self._requests.labels(frontend, operation, str(status), code),
                        self._latency.labels(frontend, operation),
                    )
                    self._children[key] = children
            children[0].inc()
            children[1].observe(seconds)
        if status < 400 or frontend == "console":
            return
        if code in _THROTTLED or status == 429:
            self._throttled.labels(frontend).inc()
        elif code in _QUOTA:
            self._quota.labels(frontend).inc()
        elif code in _AUTH_CODES:
            self._auth_failures.labels(frontend, _AUTH_CODES[code]).inc()
        elif frontend != "aws" and status in (401, 403):
            self._auth_failures.labels(
                frontend, "invalid_token" if status == 401 else "denied"
            ).inc()

    def db_wait(self, kind: str, seconds: float) -> None:
        self._db_wait.labels(kind).observe(seconds)

    def db_retry(self) -> None:
        self._db_retries.inc()

    def _code(self, error: str | None) -> str:
        if not error:
            return ""
        code = error.split(":", 1)[0]
        if code in self._codes:
            return code
        with self._lock:
            if len(self._codes) >= _MAX_CODES or not code.isalnum() or len(code) > 64:
                return "other"
            self._codes.add(code)
        return code

    def render(self) -> bytes:
        """The exposition text: every process's counts (once each), then the scrape-time ones."""
        registry = CollectorRegistry(auto_describe=False)
        if self._multiprocess:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(_Forward(self._own))
        for collector in self._scrape_only:
            registry.register(collector)
        return generate_latest(registry)


class _Forward:
    """Collects another registry's metrics (the app's own, in one process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


class _PoolGauge:
    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "idstore_db_pool_in_use", "Database connections in use in this process."
        )
        family.add_metric([], self._read())
        yield family

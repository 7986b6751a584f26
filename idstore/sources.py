"""Source-IP allow-lists of identity stores, checked on every request.

An identity store's network configuration may hold `ApiAllowSourceIps` (for the identitystore
API) and `ScimAllowSourceIps` (for SCIM): CIDR lists. Each front end holds one `AllowedSources`
for its key. A store's list is read at most once a second per process, so a change made
through another server applies within a second; `forget` makes a process see its own change
at once. An empty or missing list allows every source. The cache keeps at most `MAX_STORES`
stores (the least recently used go first), whatever store ids clients send; `check` also tells
whether the store exists, which throttling needs.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from typing import Any

from idstore import errors
from idstore.bounded import LruCache

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
CACHE_SECONDS = 1.0
MAX_STORES = 10_000


class AllowedSources:
    """The allow-lists under `key`, read through `configuration(store_id)` (the store's network
    configuration, or None if there is no such store)."""

    def __init__(self, key: str, configuration: Callable[[str], Mapping[str, Any] | None]) -> None:
        self._key = key
        self._configuration = configuration
        # store id -> (monotonic expiry, whether it exists, networks or None for no restriction)
        self._cache: LruCache[str, tuple[float, bool, list[IpNetwork] | None]] = LruCache(
            MAX_STORES
        )

    def check(self, store_id: str, client_ip: str | None) -> bool:
        """AccessDenied unless `client_ip` (None: not known) may reach identity store
        `store_id`; whether the store exists."""
        exists, allowed = self._networks(store_id)
        if allowed is None or client_ip is None:
            return exists
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            address = None
        if address is None or not any(address in net for net in allowed):
            raise errors.AccessDenied(
                f"Requests from {client_ip} are not allowed by the identity store's {self._key}."
            )
        return exists

    def forget(self, store_id: str) -> None:
        self._cache.forget(store_id)

    def _networks(self, store_id: str) -> tuple[bool, list[IpNetwork] | None]:
        cached = self._cache.get(store_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        configuration = self._configuration(store_id)
        cidrs = (configuration or {}).get(self._key)
        networks = [ipaddress.ip_network(c, strict=False) for c in cidrs] if cidrs else None
        exists = configuration is not None
        self._cache.put(store_id, (time.monotonic() + CACHE_SECONDS, exists, networks))
        return exists, networks

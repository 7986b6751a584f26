"""A mapping with a size bound that drops its least recently used entry: for the server's
caches, whose keys come from requests, so that no client can make one grow without end
(see docs/limits.md).

Twenty lines over `collections.OrderedDict` rather than a dependency: the caches need only get,
put and forget. Puts and forgets take a lock, as PostgreSQL requests run in a thread pool; a
get needs none (see `get`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `maxsize` entries; a `get` or a `put` makes an entry the most recently used."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        # Without the lock (a get runs for every request): each OrderedDict operation is one
        # step under the GIL (CPython's default build) for the str keys used here, and an
        # entry another thread removes in between is a miss.
        entries = self._entries
        try:
            entries.move_to_end(key)
        except KeyError:
            return None
        return entries.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

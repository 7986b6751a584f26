"""HTTP/1.1 connections of `idstore serve`: uvicorn's httptools protocol with idstore's limits.

uvicorn parses requests with httptools and hands them to the ASGI app. It bounds neither the
header section nor the time a client may take to send a request (no header-read timeout), and
its `limit_concurrency` answers 503 only once a request's headers have arrived, so stalled
connections keep their file descriptors until the process runs out of them. `LimitedProtocol`
adds three limits to each connection, all enforced as bytes arrive, before the app (and so
authentication) sees anything (see docs/limits.md):

- **Header section**: at most `max_headers` fields and `max_header_bytes` bytes (the target
  plus every name and value). They are checked after each piece of data the parser is fed
  (a socket read, at most 256 KiB) while a header section is incomplete, and when it is
  complete, before the app is called. A header section that goes on over several reads counts
  every byte of the later ones, so no header, however long, is buffered much beyond the limit.
  Beyond it the request gets the front end's refusal. A request that arrived in one read
  smaller than the byte limit is known to fit, so the common case costs no counting at all.
- **Read deadline**: a request must arrive whole (headers and body) within `read_timeout`
  seconds of its first byte, and the first request within `read_timeout` of the connection
  opening. A request still in its headers is answered 408; one whose body the app is reading
  is cut off (the app sees a disconnect).
- **Connections**: a connection beyond `max_connections` is answered 503 at once, without
  reading it, so a flood of idle connections cannot use up the process's file descriptors.

A refused connection writes its answer, half-closes, and discards what the client still sends
for `linger` seconds before closing: a client still writing its headers then reads the answer
instead of a connection reset. uvicorn's own `timeout_keep_alive` closes idle connections
between requests. The answers' bodies come from the function `Limits.refusal` names, so that each
front end's clients get its error shape; this module knows nothing of them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("idstore")

# (status, request path if known, message) -> (status, headers, body)
Refusal = Callable[[int, str | None, str], tuple[int, list[tuple[bytes, bytes]], bytes]]

# File descriptors kept for everything but client connections: the database, logs, the
# listening socket, connections being refused.
RESERVED_FILES = 256


@dataclass(frozen=True)
class Limits:
    """What one connection may do; `refusal` names the function that renders the answers
    ("module:function"). A name, not the function: uvicorn hands the limits to each worker
    process, which must not import the app before it can answer its supervisor's pings."""

    max_headers: int
    max_header_bytes: int
    read_timeout: float
    max_connections: int
    refusal: str
    linger: float = 2.0


@functools.cache
def _refusal(name: str) -> Refusal:
    found: Refusal = import_from_string(name)
    return found


# The per-request callbacks call the base class's directly: `super()` builds an object per call.
_base = HttpToolsProtocol


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the limits of one `Limits` (see the module doc)."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._deadline: asyncio.TimerHandle | None = None
        # When the request being read began (or the connection opened); None between requests.
        self._since: float | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._refused = False
        # Within a request's header section, and its bytes so far (-1: it began in the data
        # being parsed); the length of that data.
        self._in_head = False
        self._head_bytes = 0
        self._chunk = 0

    # -- the connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            self._refuse(
                503,
                None,
                f"The server has {self._limits.max_connections} connections open, its "
                "limit; retry later.",
            )
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._deadline, self._linger):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: discard
        self._chunk = len(data)
        _base.data_received(self, data)
        if self._in_head and not self._refused:  # a header section goes on in the next data
            if self._head_bytes < 0:  # it began in this data: what has been parsed of it
                self._head_bytes = self._parsed_head_bytes()
            else:  # all of this data belongs to it
                self._head_bytes += len(data)
            self._check_head()

    # -- parser callbacks (they run for every request: kept to a few attribute operations) ---

    def on_message_begin(self) -> None:
        if self._refused:
            return
        _base.on_message_begin(self)
        self._in_head = True
        self._head_bytes = -1
        # Armed from now, or for a first request from when the connection opened (`_arm`,
        # written out here: this runs for every request).
        if self._since is None:
            self._since = self.loop.time()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._limits.read_timeout, self._timed_out)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._in_head = False
        limits = self._limits
        if self._head_bytes < 0 and self._chunk <= limits.max_header_bytes:
            # It arrived in data smaller than the byte limit: it fits, and only the count of
            # fields is left to check (here, not in `_check_head`: this runs for every request).
            self._head_bytes = 0
            if len(self.headers) <= limits.max_headers:
                _base.on_headers_complete(self)
                return
        else:
            self._head_bytes = max(self._head_bytes, self._parsed_head_bytes())
        if self._check_head():
            _base.on_headers_complete(self)

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            _base.on_body(self, body)

    def on_message_complete(self) -> None:
        if not self._refused:
            self._since = None
            _base.on_message_complete(self)

    # -- limits ------------------------------------------------------------------------------

    def _parsed_head_bytes(self) -> int:
        """The bytes of the target and the completed header fields of the current request."""
        return len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)  # ": ", CRLF

    def _check_head(self) -> bool:
        """Whether the header section so far is within the limits; if not, refuse it."""
        limits = self._limits
        if len(self.headers) <= limits.max_headers and self._head_bytes <= limits.max_header_bytes:
            return True
        self._refuse(
            431,
            self._path(),
            f"The request's header section is larger than the server accepts: at most "
            f"{limits.max_headers} header fields and {limits.max_header_bytes} bytes.",
        )
        return False

    # One timer per connection, not per request: it checks, when it fires, whether the request
    # being read began too long ago, and sleeps again for the rest if not. A request then costs
    # a clock read, where a timer set and cancelled per request cost ~6% of a bare app's time.

    def _arm(self) -> None:
        if self._since is None:
            self._since = self.loop.time()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._limits.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        self._since = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self._since is None or self.transport.is_closing():
            return  # between requests: the keep-alive timeout applies
        left = self._since + self._limits.read_timeout - self.loop.time()
        if left > 0:
            self._deadline = self.loop.call_later(left, self._timed_out)
            return
        if self.cycle is None or self.cycle.response_complete:  # nothing for the app yet
            self._refuse(
                408,
                self._path() if self._in_head else None,
                f"The request did not arrive within {self._limits.read_timeout:g} seconds.",
            )
        else:  # the app is reading its body, or answering an earlier request: cut it off
            self.transport.close()

    def _path(self) -> str | None:
        url = getattr(self, "url", b"")
        return url.split(b"?", 1)[0].decode("latin-1") if url else None

    def _refuse(self, status: int, path: str | None, message: str) -> None:
        """Answer `status`, half-close, and close after the linger time (no longer counted
        among the open connections)."""
        self._refused = True
        self.connections.discard(self)
        self._disarm()
        code, headers, body = _refusal(self._limits.refusal)(status, path, message)
        head = [STATUS_LINE[code]]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = self.loop.call_later(self._limits.linger, self.transport.close)


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit of open files towards `wanted` (at most to the hard
    limit, as Go's runtime does at start-up); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # pragma: no cover - a sandbox that refuses
            pass
    return soft


def connection_limit(max_connections: int) -> int:
    """`max_connections`, lowered (with a warning) to what the open-files limit allows."""
    files = raise_open_files_limit(max_connections + RESERVED_FILES)
    allowed = max(1, files - RESERVED_FILES)
    if allowed < max_connections:
        log.warning(
            "only %d connections can be served: the open-files limit is %d (ulimit -n); "
            "raise it to serve %d",
            allowed,
            files,
            max_connections,
        )
        return allowed
    return max_connections

"""Framework-free HTTP request and response values: the seam between every shell and the core.

The ASGI app (`app.py`) and the in-process test mode (`testing.py`) both copy what they receive
into a `Request`, call a front end's `handle`, and copy the `Response` back out. Nothing below
this seam knows which shell is in use.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request. Header names are lower-case; `query` is the raw query string."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

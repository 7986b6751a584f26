"""The request log: one JSON object per request, from either front end, on `idstore.requests`.

Both front ends (the AWS gateway and SCIM) log each request they answer as one line at INFO:
who asked (principal, client address), what (operation, identity store, resource), and how it
ended (status, error, latency). Lines hold ids and codes only, never a body, a token, a secret
or a profile value. When INFO is off for the logger, callers do not build the line at all
(`enabled`).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson

log = logging.getLogger("idstore.requests")


def enabled() -> bool:
    return log.isEnabledFor(logging.INFO)


def request_id() -> str:
    """A random (version 4) UUID, formatted; a few times cheaper than `str(uuid.uuid4())`."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def write(line: dict[str, Any], started: float) -> None:
    """Log `line`, with the latency since `started` (a `time.perf_counter()`) added."""
    line["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    log.info(orjson.dumps(line).decode())


def bounded(text: str | None, limit: int = 64) -> str | None:
    """A client-supplied value (an id from a URL) as it may be logged: at most `limit`
    characters, and valid UTF-8 whatever it holds (a lone surrogate becomes `?`)."""
    if text is None:
        return None
    return text[:limit].encode("utf-8", "replace").decode("utf-8")

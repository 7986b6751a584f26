"""Pages and static files: the Jinja2 templates and stylesheet shipped in this package.

Templates autoescape everything and fail on an undefined name, so a typo is an error in the
tests rather than an empty cell in production. The stylesheet is read once, at start-up, and
served from `/console/static/` with a content hash in its URL, so browsers may cache it for a
long time and still see a new version at once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from idstore.model import from_ms

STATIC_PREFIX = "/console/static/"
_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def _when(value: datetime | int | None) -> str:
    if value is None:
        return ""
    at = from_ms(value) if isinstance(value, int) else value
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Templates:
    """The console's pages, and the static files they use."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("idstore.console", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["when"] = _when
        # name -> (body, content type); URL: /console/static/<hash>/<name>
        self.static: dict[str, tuple[bytes, str]] = {}
        urls: dict[str, str] = {}
        folder = resources.files("idstore.console") / "static"
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            suffix = item.name[item.name.rfind(".") :]
            if suffix not in _TYPES:
                continue
            body = item.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:12]
            self.static[f"{version}/{item.name}"] = (body, _TYPES[suffix])
            urls[item.name] = f"{STATIC_PREFIX}{version}/{item.name}"
        self._env.globals["static"] = urls

    def render(self, name: str, **context: Any) -> bytes:
        return self._env.get_template(name).render(**context).encode()

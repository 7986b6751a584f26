"""Fixtures for the operations tests: a SCIM client, and scraping /metrics."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from idstore.app import App
from tests.scim.conftest import scim, scim_for, scim_token  # noqa: F401  (fixtures)
from tests.servers import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, headers: Mapping[str, str] | None = None) -> Samples:
    """Every sample of GET /metrics, parsed by prometheus-client's own parser."""
    request = urllib.request.Request(f"{base_url}/metrics", headers=dict(headers or {}))
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value (0 when absent: a series is only born with its first count)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@contextmanager
def serve_app(app: App) -> Iterator[str]:
    """`app` under a real uvicorn server in a thread; yields its base URL."""
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)

"""Fixtures for the operations tests: a SCIM client, and scraping /metrics."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from tests.scim.conftest import scim, scim_for, scim_token  # noqa: F401  (fixtures)

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

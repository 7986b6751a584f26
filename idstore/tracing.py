"""Optional OpenTelemetry tracing: one span per API or SCIM request.

Off unless the `otel` extra is installed and the standard variables ask for traces
(`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`;
`OTEL_TRACES_EXPORTER=none` turns it off). Then `tracer_from_environment` sets up a tracer
provider whose exporter the OTLP exporter configures from the same variables (endpoint, headers,
protocol), with `OTEL_SERVICE_NAME` (default "idstore") as the service. When tracing is off the
app holds None and pays one comparison per request.

Each span is named `<front end> <operation>` and carries the attributes documented in
docs/operations.md: `idstore.frontend`, `idstore.operation`, `idstore.store`,
`http.response.status_code` and, for errors, `idstore.error`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["tracer_from_environment"]

_ASKS_FOR_TRACES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


def tracer_from_environment(env: Mapping[str, str] | None = None) -> Any | None:
    """A tracer if the environment asks for traces and OpenTelemetry is installed, else None."""
    env = os.environ if env is None else env
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter_name == "none" or not any(env.get(name) for name in _ASKS_FOR_TRACES):
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        return None
    exporter: Any
    if exporter_name == "console":
        exporter = ConsoleSpanExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            return None
        exporter = OTLPSpanExporter()
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "idstore"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider.get_tracer("idstore")

"""OpenTelemetry: one span per API or SCIM request, with the documented attributes, through the
SDK's in-memory exporter; and no tracer at all when the environment does not ask for one."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import httpx2
import pytest
from botocore.exceptions import ClientError
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from idstore.app import App
from idstore.config import Config
from idstore.store import Store
from idstore.tracing import tracer_from_environment
from tests.conftest import REGION
from tests.helpers import make_user
from tests.ops.conftest import serve_app
from tests.scim.conftest import issue_token


def test_one_span_per_request_with_its_attributes(store: Store, store_id: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    token = issue_token(store, store_id)
    with serve_app(App(store, Config(), tracer=provider.get_tracer("test"))) as url:
        client: Any = boto3.client(
            "identitystore",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
        )
        make_user(client, store_id, "traced")
        with pytest.raises(ClientError):
            client.describe_user(IdentityStoreId=store_id, UserId=str(uuid.uuid4()))
        response = httpx2.get(
            f"{url}/{store_id}/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        httpx2.get(f"{url}/health")  # not a request of a front end: no span
        client.close()
    spans = [(span.name, dict(span.attributes or {})) for span in exporter.get_finished_spans()]
    assert spans == [
        (
            "aws CreateUser",
            {
                "idstore.frontend": "aws",
                "idstore.operation": "CreateUser",
                "idstore.store": store_id,
                "http.response.status_code": 200,
            },
        ),
        (
            "aws DescribeUser",
            {
                "idstore.frontend": "aws",
                "idstore.operation": "DescribeUser",
                "idstore.store": store_id,
                "http.response.status_code": 400,
                "idstore.error": "ResourceNotFoundException",
            },
        ),
        (
            "scim GET /Users",
            {
                "idstore.frontend": "scim",
                "idstore.operation": "GET /Users",
                "idstore.store": store_id,
                "http.response.status_code": 200,
            },
        ),
    ]


def test_tracing_is_off_unless_the_environment_asks() -> None:
    assert tracer_from_environment({}) is None
    assert tracer_from_environment({"OTEL_SERVICE_NAME": "idstore"}) is None
    assert tracer_from_environment({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert tracer_from_environment({"OTEL_TRACES_EXPORTER": "console"}) is not None

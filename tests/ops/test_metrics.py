"""GET /metrics: exactly the counts of a known mix of requests, in one process and in two.

The mix: API successes and each kind of error, SCIM requests (a good token and a bad one),
throttled requests. The exposition text is parsed with prometheus-client's parser.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
import uuid
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from idstore.app import App
from idstore.config import Config
from idstore.metrics import Metrics
from idstore.store import Store
from tests.conftest import REGION, TEST_SECRET, TEST_SERVER_KEY, RunningServer, _add_test_keys
from tests.helpers import make_user
from tests.ops.conftest import scrape, serve_app, value
from tests.servers import ServerProcess, create_store


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_counts_a_known_mix_of_requests(
    server: RunningServer, http_client: Any, store_id: str, scim: Any
) -> None:
    assert server.app.metrics.store_sizes is not None
    server.app.metrics.store_sizes.ttl = 0  # read the sizes at every scrape
    before = scrape(server.url)
    for name in ("m1", "m2", "m3"):
        make_user(http_client, store_id, name)
    assert _code(
        lambda: http_client.describe_user(IdentityStoreId=store_id, UserId=str(uuid.uuid4()))
    ) == ("ResourceNotFoundException")
    assert _code(
        lambda: http_client.describe_user(IdentityStoreId=store_id, UserId="not-an-id")
    ) == ("ValidationException")
    assert _code(lambda: make_user(http_client, store_id, "m1")) == "ConflictException"
    assert scim.get("/Users").status_code == 200
    assert scim.get("/Users/nope").status_code == 404
    sts: Any = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="AKIDHTTPCLIENT",
        aws_secret_access_key="secret",
    )
    assert sts.get_caller_identity()["Account"]
    sts.close()
    # The console's home page, once (http.client follows no redirect).
    console = http.client.HTTPConnection(urllib.parse.urlsplit(server.url).netloc, timeout=10)
    console.request("GET", "/console/")
    console_status = str(console.getresponse().status)
    console.close()
    after = scrape(server.url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    total = "idstore_requests_total"
    assert delta(total, frontend="aws", operation="CreateUser", status="200", error="") == 3
    assert (
        delta(
            total, frontend="aws", operation="CreateUser", status="400", error="ConflictException"
        )
        == 1
    )
    assert (
        delta(
            total,
            frontend="aws",
            operation="DescribeUser",
            status="400",
            error="ResourceNotFoundException",
        )
        == 1
    )
    assert (
        delta(
            total,
            frontend="aws",
            operation="DescribeUser",
            status="400",
            error="ValidationException",
        )
        == 1
    )
    assert delta(total, frontend="scim", operation="GET /Users", status="200", error="") == 1
    assert delta(total, frontend="scim", operation="GET /Users/{id}", status="404", error="") == 1
    count = "idstore_request_duration_seconds_count"
    assert delta(count, frontend="aws", operation="CreateUser") == 4
    assert delta(count, frontend="scim", operation="GET /Users") == 1
    # Nothing else was counted: the scrapes themselves are not API requests.
    all_requests = sum(v - before.get(k, 0.0) for k, v in after.items() if k[0] == total)
    assert delta(total, frontend="sts", operation="GetCallerIdentity", status="200", error="") == 1
    assert delta(total, frontend="console", operation="home", status=console_status, error="") == 1
    assert all_requests == 10
    # The histogram's buckets are cumulative, and the last is every request.
    for frontend, operation in (("aws", "CreateUser"), ("console", "home")):
        buckets = sorted(
            (float(dict(k[1])["le"]), v)
            for k, v in after.items()
            if k[0] == "idstore_request_duration_seconds_bucket"
            and dict(k[1]).get("operation") == operation
            and dict(k[1]).get("frontend") == frontend
        )
        counts = [v for _, v in buckets]
        assert counts == sorted(counts)
        assert buckets[-1] == (
            float("inf"),
            value(after, count, frontend=frontend, operation=operation),
        )
    assert value(after, "idstore_store_users", store=store_id) == 3
    # The four writes (three creates, one refused) each began a transaction, timed; the pool
    # gauge and the retry counter are exported (no retry happens here).
    assert delta("idstore_db_wait_seconds_count", kind="begin") >= 4
    assert ("idstore_db_pool_in_use", frozenset()) in after
    assert delta("idstore_db_transaction_retries_total") == 0


def test_counts_auth_failures_throttling_and_quotas(store: Store, store_id: str) -> None:
    """A SigV4 server with throttling and a quota of 1 user: each refusal has its counter."""
    _add_test_keys(store)
    # A token every 4 s: the throttled calls are refused even if the machine stalls for a second.
    config = Config(
        auth="sigv4", server_key=TEST_SERVER_KEY, throttle_tps=0.25, max_users_per_store=1
    )
    with serve_app(App(store, config)) as url:

        def client(secret: str) -> Any:
            return boto3.client(
                "identitystore",
                endpoint_url=url,
                region_name=REGION,
                aws_access_key_id="AKIDTESTCLIENT",
                aws_secret_access_key=secret,
                config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}),
            )

        good, bad = client(TEST_SECRET), client("wrong")
        assert (
            _code(lambda: bad.list_users(IdentityStoreId=store_id)) == "InvalidSignatureException"
        )
        make_user(good, store_id, "only")
        # The bucket refills at 1 request in 4 s: the next CreateUsers at once are throttled.
        codes = [_code(lambda n=n: make_user(good, store_id, f"u{n}")) for n in range(3)]
        assert codes == ["ThrottlingException"] * 3
        time.sleep(4.1)  # a token again; the quota (1 user) refuses this one
        assert _code(lambda: make_user(good, store_id, "over")) == "ServiceQuotaExceededException"
        samples = scrape(url, _signed_headers(url, TEST_SECRET))
        good.close()
        bad.close()
    assert (
        value(samples, "idstore_auth_failures_total", frontend="aws", reason="bad_signature") == 1
    )
    assert value(samples, "idstore_throttled_requests_total", frontend="aws") == 3
    assert value(samples, "idstore_quota_refusals_total", frontend="aws") == 1


def test_metrics_need_a_signature_or_an_allowed_address(store: Store) -> None:
    _add_test_keys(store)
    config = Config(auth="sigv4", server_key=TEST_SERVER_KEY)
    with serve_app(App(store, config)) as url:
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/metrics", timeout=10)
        assert refused.value.code == 403
        assert b"--metrics-allow" in refused.value.read()
        refused.value.close()
        with pytest.raises(urllib.error.HTTPError) as forged:
            urllib.request.urlopen(
                urllib.request.Request(f"{url}/metrics", headers=_signed_headers(url, "wrong")),
                timeout=10,
            )
        assert forged.value.code == 403
        forged.value.close()
        assert scrape(url, _signed_headers(url, TEST_SECRET))
    with serve_app(App(store, config.with_changes(metrics_allow="127.0.0.0/8"))) as url:
        assert scrape(url)


def test_metrics_add_up_every_worker_once(file_db_url: str, store: Store) -> None:
    """`serve --workers 2`: any worker's scrape holds both workers' counts, each once."""
    store_id = create_store(file_db_url)
    server = ServerProcess(file_db_url, extra=["--workers", "2"]).start(timeout=60)
    try:
        requests = 40
        for _ in range(requests):
            # A new client (so a new connection) each time: the kernel spreads them over both.
            client = server.client()
            with pytest.raises(ClientError):
                client.describe_user(IdentityStoreId=store_id, UserId=str(uuid.uuid4()))
            client.close()
        label = {
            "frontend": "aws",
            "operation": "DescribeUser",
            "status": "400",
            "error": "ResourceNotFoundException",
        }
        seen = {value(scrape(server.url), "idstore_requests_total", **label) for _ in range(6)}
        assert seen == {requests}
    finally:
        assert server.stop() == 0


def _signed_headers(url: str, secret: str) -> dict[str, str]:
    request = AWSRequest(method="GET", url=f"{url}/metrics")
    SigV4Auth(Credentials("AKIDTESTCLIENT", secret), "identitystore", REGION).add_auth(request)
    return dict(request.headers.items())


def test_console_refusals_are_requests_not_api_auth_failures() -> None:
    """A console sign-in refused (401) or a throttled sign-in (429) counts as a console
    request; the derived refusal counters are the API's and SCIM's."""
    metrics = Metrics({"console": ["sign-in"]})
    for status in (401, 403, 429):
        metrics.observe("console", "sign-in", status, None, 0.01)
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }
    console = {"frontend": "console", "operation": "sign-in", "error": ""}
    for status in ("401", "403", "429"):
        assert value(samples, "idstore_requests_total", **console, status=status) == 1
    assert not [k for k in samples if k[0].startswith(("idstore_auth_failures", "idstore_thrott"))]

"""scim2-tester against a running server: every check SUCCESS, no tag excluded.

scim2-tester (RFC 7643/7644 conformance) discovers the server from its /ServiceProviderConfig,
/Schemas and /ResourceTypes, then creates, reads, lists, projects (`attributes`,
`excludedAttributes`, `POST /.search`), replaces, patches (add, replace, remove of every
attribute published) and deletes users and groups. It is run twice: through its Python API
(`check_server`), which lets the test name any failing check, and as the `scim2 ... test`
command an operator would run (exit status 0, every line SUCCESS).

What it does not cover (filters, paging, uniqueness, auth, IdP payloads) is in the other
modules of this package.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.conftest import RunningServer


def test_scim2_tester_reports_every_check_success(
    server: RunningServer, store_id: str, scim_token: str
) -> None:
    http = httpx2.Client(
        base_url=f"{server.url}/{store_id}/scim/v2",
        headers={"Authorization": f"Bearer {scim_token}"},
        timeout=30,
        trust_env=False,
    )
    with http:
        client = SyncSCIMClient(http)
        client.discover()
        results = check_server(client)
    summary = collections.Counter(r.status.name for r in results)
    print(f"scim2-tester summary: {dict(summary)} ({len(results)} checks)")
    failed = [
        f"{r.status.name} {r.title} {r.resource_type}: {r.reason}"
        for r in results
        if r.status is not Status.SUCCESS
    ]
    assert not failed, "\n".join(failed)
    # Discovery, both resource types, and add/replace/remove on every published attribute.
    assert len(results) >= 100
    titles = {r.title for r in results}
    assert {"check_add_attribute", "check_remove_attribute", "search_with_attributes"} <= titles


def test_the_scim2_command_passes(server: RunningServer, store_id: str, scim_token: str) -> None:
    scim2 = Path(sys.executable).with_name("scim2")
    result = subprocess.run(
        [str(scim2), "--url", f"{server.url}/{store_id}/scim/v2", "test"],
        env={**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {scim_token}"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    statuses = {s.name for s in Status}
    verdicts = [
        w[0]
        for w in (line.split() for line in result.stdout.splitlines())
        if w and w[0] in statuses
    ]
    assert len(verdicts) >= 100, result.stdout[-3000:]
    assert set(verdicts) == {"SUCCESS"}, result.stdout[-3000:]

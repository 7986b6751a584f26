"""Instructions per request: idstore's CPU cost counted by callgrind, steady on a shared machine.

    python benchmarks/instructions.py --baseline 11efb14
    python benchmarks/instructions.py --requests 500 --only describe_user

Requests per second on a small VM scatter by 10-20% from one run to the next (other tenants,
CPU steal), more than the few percent a change costs. This benchmark counts instead what the
server executes: `idstore serve` runs under valgrind's callgrind with instrumentation off, is
seeded over HTTP through boto3 (`--users`, 50 by default, with e-mail addresses), and for each
workload gets 300 requests to warm up, then `--requests` more with instrumentation on (cycling
through the users). Each request is
rendered and SigV4-signed beforehand (botocore) and sent in one write on one keep-alive
connection, as `wrk` sends them, and read whole before the next is sent. The result is the
instructions the server process executed per request, in user space (system calls are not
counted; the two trees make the same ones).

With `--baseline REV` the same runs against idstore at git revision REV (a detached worktree,
run in its own directory so that it imports its own code), one after the other. Counts repeat
within about 0.5% between runs of the same tree.

Needs valgrind (Debian: apt-get install valgrind). A run takes about a minute per workload
and tree. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from http_load import free_port, serve_command, wait_ready  # this directory is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REGION = "us-east-1"
USERS = 50
WARM_UP = 300

Body = Callable[[str, list[str], int], tuple[str, dict[str, Any]]]
WORKLOADS: dict[str, Body] = {
    "describe_user": lambda s, ids, i: (
        "DescribeUser",
        {"IdentityStoreId": s, "UserId": ids[i % len(ids)]},
    ),
    "get_user_id_name": lambda s, ids, i: (
        "GetUserId",
        {
            "IdentityStoreId": s,
            "AlternateIdentifier": {
                "UniqueAttribute": {
                    "AttributePath": "userName",
                    "AttributeValue": f"u{i % len(ids)}",
                }
            },
        },
    ),
    # A page of 50 however many users there are.
    "list_users": lambda s, ids, i: ("ListUsers", {"IdentityStoreId": s, "MaxResults": 50}),
}


def render(port: int, operation: str, body: dict[str, Any]) -> bytes:
    """One signed request, as bytes on the wire."""
    payload = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=payload,
        headers={
            "X-Amz-Target": f"AWSIdentityStore.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials("AKIDBENCHMARK", "benchmark-secret"), "identitystore", REGION).add_auth(
        request
    )
    lines = [
        "POST / HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in request.headers.items()),
        f"Content-Length: {len(payload)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection:
    """One keep-alive connection that sends a request whole and reads its response whole."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def call(self, raw: bytes) -> None:
        self._sock.sendall(raw)
        while True:
            head, found, rest = self._buffer.partition(b"\r\n\r\n")
            if found:
                match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                length = int(match.group(1)) if match else 0
                if len(rest) >= length:
                    if not head.startswith(b"HTTP/1.1 200"):
                        sys.exit(f"a request failed: {head[:200]!r}")
                    self._buffer = rest[length:]
                    return
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                sys.exit("the server closed the connection")
            self._buffer += chunk

    def close(self) -> None:
        self._sock.close()


def callgrind(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def measure(
    tree: Path, workdir: Path, names: list[str], requests: int, users: int
) -> dict[str, float]:
    """Instructions per request of `idstore serve` from `tree`, for each workload."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    db_url = f"sqlite:///{workdir / tree.name}.db"
    made = subprocess.run(
        [PYTHON, "-m", "idstore", "stores", "create", "--db", db_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,  # python -m puts the working directory first on sys.path
        env=env,
    )
    store_id = made.stdout.split()[-1]
    port = free_port()
    out = workdir / f"{tree.name}.callgrind"
    server = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            *serve_command(port, db_url),
        ],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, float] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url + "/health", server, timeout=300)  # valgrind starts slowly
        client: Any = boto3.client(
            "identitystore",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="AKIDBENCHMARK",
            aws_secret_access_key="benchmark-secret",
            config=BotoConfig(retries={"max_attempts": 0}, read_timeout=300),
        )
        ids = [
            client.create_user(
                IdentityStoreId=store_id,
                UserName=f"u{i}",
                DisplayName=f"User {i}",
                Name={"GivenName": "User", "FamilyName": str(i)},
                Emails=[{"Value": f"u{i}@example.com", "Primary": True}],
            )["UserId"]
            for i in range(users)
        ]
        connection = Connection(port)
        for dump, name in enumerate(names, 1):
            raws = [render(port, *WORKLOADS[name](store_id, ids, i)) for i in range(users)]
            for i in range(WARM_UP):
                connection.call(raws[i % users])
            callgrind(server.pid, "--zero")
            callgrind(server.pid, "--instr=on")
            for i in range(requests):
                connection.call(raws[i % users])
            callgrind(server.pid, "--instr=off")
            callgrind(server.pid, f"--dump={name}")
            results[name] = _total(out, dump) / requests
            print(f"  {tree.name:10} {name:20} {results[name]:12,.0f} instructions/request")
        connection.close()
    finally:
        server.terminate()
        server.wait(120)
    return results


def _total(out: Path, dump: int) -> int:
    """The instruction total of callgrind's `dump`-th dump (files out.1, out.2, ...)."""
    path = Path(f"{out}.{dump}")
    for _ in range(100):
        if path.exists():
            found = re.search(r"^totals:\s*(\d+)", path.read_text(), re.MULTILINE)
            if found:
                return int(found.group(1))
        time.sleep(0.1)
    sys.exit(f"callgrind wrote no dump at {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--users", type=int, default=USERS, help="users seeded (and cycled)")
    parser.add_argument("--baseline", metavar="REV", help="also count idstore at this revision")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            sys.exit("valgrind is needed: apt-get install valgrind")
    names = [n for n in args.only.split(",") if n]
    workdir = Path(tempfile.mkdtemp(prefix="idstore-instructions-"))
    ours = measure(ROOT, workdir, names, args.requests, args.users)
    theirs: dict[str, float] = {}
    if args.baseline:
        checkout = workdir / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(checkout), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            theirs = measure(checkout, workdir, names, args.requests, args.users)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False
            )
    print()
    print(
        f"Counted {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}, callgrind, {args.requests} requests per workload"
        + (f"; baseline {args.baseline}" if args.baseline else "")
        + "."
    )
    print()
    if theirs:
        print(
            "| operation | baseline instructions/request | idstore instructions/request | change |"
        )
        print("| --- | ---: | ---: | ---: |")
        for name in names:
            change = (ours[name] / theirs[name] - 1) * 100
            print(f"| {name} | {theirs[name]:,.0f} | {ours[name]:,.0f} | {change:+.1f}% |")
    else:
        print("| operation | idstore instructions/request |")
        print("| --- | ---: |")
        for name in names:
            print(f"| {name} | {ours[name]:,.0f} |")


if __name__ == "__main__":
    main()

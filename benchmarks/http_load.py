"""HTTP load benchmark: idstore against moto_server and a bare ASGI floor, in the same run.

    python benchmarks/http_load.py                 # all workloads, 10 s each, best of 2 rounds
    python benchmarks/http_load.py --duration 5 --only describe_user,list_users

It starts every target at once, seeds the same data into each through boto3 (3,000 users with
e-mail addresses, 10 groups, two memberships per user), then drives each workload with `wrk`
(one thread, 8 connections) replaying requests rendered and SigV4-signed beforehand, so the load
generator does no per-request work beyond a table lookup. The targets take turns, workload by
workload, for `--rounds` rounds, and each keeps its best: on a shared machine a slow spell then
falls on every target alike. It reports requests/s, the server's CPU time per request (from
/proc, user + system), and the ratios to moto and to the floor.

Targets:
- `floor`: benchmarks/floor_app.py under uvicorn (httptools, uvloop): one canned response;
- `moto`: `moto_server` (pip install "moto[server]"), the usual emulator;
- `idstore`: `idstore serve` on a new SQLite file, `--auth none`;
- `idstore-sigv4`: the same on a SQLite file of its own, with `--auth sigv4` and a real access
  key;
- `idstore-baseline` (with `--baseline REV`): `idstore serve` as it was at git revision REV (a
  detached worktree of it, first on PYTHONPATH, on the same dependencies), on a SQLite file of
  its own: the before-state of a change, measured in the same run as the after-state.

Needs `wrk` (Debian: apt-get install wrk). Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
REGION = "us-east-1"
USERS = 3000
GROUPS = 10

LUA = """
local reqs = {}
local counter = 0
init = function(args)
  local f = assert(io.open(args[1], "rb"))
  while true do
    local line = f:read("*l")
    if not line then break end
    reqs[#reqs + 1] = f:read(tonumber(line))
  end
  f:close()
end
request = function()
  counter = counter + 1
  return reqs[(counter - 1) % #reqs + 1]
end
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds until `url` answers (any HTTP status counts: the server is up)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return time.monotonic() - start
        except urllib.error.HTTPError:
            return time.monotonic() - start
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    command: list[str]
    health: str
    key: tuple[str, str] = ("AKIDBENCHMARK", "benchmark-secret")
    env: dict[str, str] = field(default_factory=dict)
    store_id: str = "d-0123456789"
    # Where it runs: `python -m` puts the working directory first on sys.path, ahead of
    # PYTHONPATH, so the baseline must run in its own checkout to import its own code.
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        return boto3.client(
            "identitystore",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.key[0],
            aws_secret_access_key=self.key[1],
            config=BotoConfig(retries={"max_attempts": 1}),
        )


@contextmanager
def running(target: Target) -> Iterator[Target]:
    target.port = free_port()
    command = [part.replace("{port}", str(target.port)) for part in target.command]
    target.proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **target.env},
        cwd=target.cwd,
        preexec_fn=_on_cpu(SERVER_CPU) if PINNED else None,
    )
    try:
        wait_ready(target.url + target.health, target.proc)
        yield target
    finally:
        target.proc.terminate()
        try:
            target.proc.wait(20)
        except subprocess.TimeoutExpired:
            target.proc.kill()


# -- workloads -------------------------------------------------------------------------------


@dataclass
class Seed:
    store_id: str
    user_ids: list[str]
    group_ids: list[str]


def seed(target: Target) -> Seed:
    client = target.client()
    user_ids = [
        client.create_user(
            IdentityStoreId=target.store_id,
            UserName=f"user{i}",
            DisplayName=f"User {i}",
            Name={"GivenName": "User", "FamilyName": str(i)},
            Emails=[{"Value": f"user{i}@example.com", "Type": "work", "Primary": True}],
        )["UserId"]
        for i in range(USERS)
    ]
    group_ids = [
        client.create_group(IdentityStoreId=target.store_id, DisplayName=f"group{g}")["GroupId"]
        for g in range(GROUPS)
    ]
    for i, user_id in enumerate(user_ids):
        for g in (i % GROUPS, (i + 3) % GROUPS):
            client.create_group_membership(
                IdentityStoreId=target.store_id,
                GroupId=group_ids[g],
                MemberId={"UserId": user_id},
            )
    return Seed(target.store_id, user_ids, group_ids)


Workload = Callable[[Seed, int], tuple[str, dict[str, Any]]]


def _describe_user(s: Seed, i: int) -> tuple[str, dict[str, Any]]:
    return "DescribeUser", {"IdentityStoreId": s.store_id, "UserId": s.user_ids[i % USERS]}


def _unique(path: str, value: str, s: Seed) -> dict[str, Any]:
    return {
        "IdentityStoreId": s.store_id,
        "AlternateIdentifier": {
            "UniqueAttribute": {"AttributePath": path, "AttributeValue": value}
        },
    }


WORKLOADS: dict[str, tuple[Workload, int]] = {
    # name: (request i -> (operation, body), how many distinct requests to render)
    "describe_user": (_describe_user, 3000),
    "get_user_id_name": (
        lambda s, i: ("GetUserId", _unique("userName", f"user{i % USERS}", s)),
        3000,
    ),
    "get_user_id_email": (
        lambda s, i: ("GetUserId", _unique("emails.value", f"user{i % USERS}@example.com", s)),
        3000,
    ),
    "list_users": (
        lambda s, i: ("ListUsers", {"IdentityStoreId": s.store_id, "MaxResults": 100}),
        1,
    ),
    "is_member_in_groups": (
        lambda s, i: (
            "IsMemberInGroups",
            {
                "IdentityStoreId": s.store_id,
                "MemberId": {"UserId": s.user_ids[i % USERS]},
                "GroupIds": s.group_ids[:5],
            },
        ),
        3000,
    ),
    "create_user": (
        lambda s, i: (
            "CreateUser",
            {
                "IdentityStoreId": s.store_id,
                "UserName": f"new{i}",
                "DisplayName": f"New {i}",
                "Name": {"GivenName": "New", "FamilyName": str(i)},
                "Emails": [{"Value": f"new{i}@example.com", "Primary": True}],
            },
        ),
        150_000,
    ),
    "update_user": (
        lambda s, i: (
            "UpdateUser",
            {
                "IdentityStoreId": s.store_id,
                "UserId": s.user_ids[i % USERS],
                "Operations": [{"AttributePath": "nickName", "AttributeValue": f"nick{i}"}],
            },
        ),
        6000,
    ),
}
READS = {
    "describe_user",
    "get_user_id_name",
    "get_user_id_email",
    "list_users",
    "is_member_in_groups",
}


def render(
    target: Target, workload: Workload, count: int, data: Seed, path: Path, offset: int = 0
) -> None:
    """Write `count` signed raw HTTP requests for `workload` (requests offset, offset + 1, ...)
    to `path`, length-prefixed."""
    credentials = Credentials(*target.key)
    host = f"127.0.0.1:{target.port}"
    with path.open("wb") as out:
        for i in range(count):
            operation, body = workload(data, offset + i)
            payload = json.dumps(body, separators=(",", ":")).encode()
            request = AWSRequest(
                method="POST",
                url=f"{target.url}/",
                data=payload,
                headers={
                    "Host": host,
                    "X-Amz-Target": f"AWSIdentityStore.{operation}",
                    "Content-Type": "application/x-amz-json-1.1",
                },
            )
            SigV4Auth(credentials, "identitystore", REGION).add_auth(request)
            lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in request.headers.items())]
            lines.append(f"Content-Length: {len(payload)}")
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
            out.write(f"{len(raw)}\n".encode() + raw)


# Every round of every target, (target, workload) -> results in order: the baseline comparison
# pairs round i of one with round i of the other, measured one after the other.
HISTORY: dict[tuple[str, str], list[Result]] = {}


def paired_change(name: str, workload: str, other: str) -> float:
    """The median, over rounds, of target `name`'s req/s over `other`'s in the same round,
    minus one. Neighbouring rounds share the machine's spells, so their ratio stays steady
    where a best-of-N per target scatters with the luckiest round."""
    ours, theirs = HISTORY.get((name, workload), []), HISTORY.get((other, workload), [])
    ratios = sorted(a.rps / b.rps for a, b in zip(ours, theirs, strict=False) if b.rps)
    if not ratios:
        return float("nan")
    middle = len(ratios) // 2
    median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return median - 1


# With --pin, every server runs on one CPU and wrk on another: on a small machine the two then
# stop taking turns on each other's core, which otherwise scatters rounds by 10-20%.
PINNED = False
SERVER_CPU, LOAD_CPU = 1, 0  # set by --pin: the last two CPUs this process may use


def _on_cpu(cpu: int) -> Callable[[], None]:
    return lambda: os.sched_setaffinity(0, {cpu})


@dataclass
class Result:
    rps: float
    cpu_us: float
    errors: int


def drive(target: Target, requests: Path, duration: float, connections: int) -> Result:
    script = requests.with_suffix(".lua")
    script.write_text(LUA)
    assert target.proc is not None
    before = cpu_seconds(target.proc.pid)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "-s",
            str(script),
            target.url,
            "--",
            str(requests),
        ],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=_on_cpu(LOAD_CPU) if PINNED else None,
    ).stdout
    used = cpu_seconds(target.proc.pid) - before
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    return Result(rps, used / max(total, 1) * 1e6, errors)


def measure(
    targets: list[Target], names: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, dict[str, Result]]:
    """Run every target at once and drive each workload on them in turn, `args.rounds` times,
    keeping each target's best round: on a shared machine a slow spell then weighs on every
    target alike, where measuring one target after another would let it fall on one."""
    results: dict[str, dict[str, Result]] = {t.name: {} for t in targets}
    with ExitStack() as stack:
        HISTORY.clear()
        data: dict[str, Seed] = {}
        for target in targets:
            stack.enter_context(running(target))
            if target.name == "floor":  # it answers anything the same way: nothing to seed
                fake = "0123456789-00000000-0000-4000-8000-000000000000"
                data[target.name] = Seed(target.store_id, [fake] * USERS, [fake] * GROUPS)
            else:
                data[target.name] = seed(target)
        # The floor answers anything alike: it is measured on one read workload, always.
        floor_first = ["describe_user"] if any(t.name == "floor" for t in targets) else []
        for name in dict.fromkeys([*floor_first, *names]):
            workload, count = WORKLOADS[name]
            if name == "create_user":  # new user names in every round
                count = min(count, int(args.duration * 20_000))
            for round_ in range(args.rounds):
                for target in targets:
                    wanted = name == "describe_user" if target.name == "floor" else name in names
                    if not wanted:
                        continue
                    # Rendered afresh every round: signatures stay well within SigV4's
                    # 15 minutes, and creates get new names.
                    path = workdir / f"{target.name}-{name}.req"
                    render(target, workload, count, data[target.name], path, round_ * count)
                    if round_ == 0 and name in READS:  # warm caches, prepared statements
                        drive(target, path, min(2.0, args.duration), args.connections)
                    result = drive(target, path, args.duration, args.connections)
                    print(
                        f"  {target.name:14} {name:20} {result.rps:10.0f} req/s "
                        f"{result.cpu_us:8.0f} us CPU/req  errors {result.errors}",
                        flush=True,
                    )
                    HISTORY.setdefault((target.name, name), []).append(result)
                    # The best round, and an error-free one over any other.
                    best = results[target.name].get(name)
                    if best is None or (result.errors == 0, result.rps) > (
                        best.errors == 0,
                        best.rps,
                    ):
                        results[target.name][name] = result
    return results


def serve_command(port: int | str, db_url: str) -> list[str]:
    """`idstore serve` on `port` and `db_url`, logging warnings only (every benchmark's server)."""
    options = ["--port", str(port), "--db", db_url, "--log-level", "warning"]
    return [PYTHON, "-m", "idstore", "serve", *options]


def startup_seconds(db_url: str, runs: int = 3) -> float:
    """Median time from `idstore serve` starting to /health answering, on an existing DB."""
    times = []
    for _ in range(runs):
        port = free_port()
        proc = subprocess.Popen(
            serve_command(port, db_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            times.append(wait_ready(f"http://127.0.0.1:{port}/health", proc))
        finally:
            proc.terminate()
            proc.wait(20)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--targets", default="floor,moto,idstore,idstore-sigv4")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many, in turn")
    parser.add_argument(
        "--baseline", metavar="REV", help="also measure idstore at this git revision"
    )
    parser.add_argument(
        "--pin", action="store_true", help="servers on one CPU, wrk on another (needs 2 CPUs)"
    )
    args = parser.parse_args()
    global PINNED, SERVER_CPU, LOAD_CPU
    PINNED = args.pin
    if PINNED:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            sys.exit("--pin needs two CPUs")
        LOAD_CPU, SERVER_CPU = cpus[-2:]
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    names = [n for n in args.only.split(",") if n]
    wanted = args.targets.split(",")
    workdir = Path(tempfile.mkdtemp(prefix="idstore-bench-"))

    def database(name: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[str, str]:
        """A new SQLite database holding one new identity store: (URL, store id)."""
        url = f"sqlite:///{workdir / name}.db"
        made = subprocess.run(
            [PYTHON, "-m", "idstore", "stores", "create", "--db", url],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
        return url, made.stdout.strip().splitlines()[-1]

    def serve(url: str) -> list[str]:
        return serve_command("{port}", url)

    targets: list[Target] = []
    if "floor" in wanted:
        targets.append(
            Target(
                "floor",
                [
                    PYTHON,
                    "-m",
                    "uvicorn",
                    "benchmarks.floor_app:app",
                    "--port",
                    "{port}",
                    "--log-level",
                    "warning",
                    "--http",
                    "httptools",
                    "--loop",
                    "uvloop",
                ],
                "/",
            )
        )
    if "moto" in wanted:
        targets.append(Target("moto", [str(BIN / "moto_server"), "-p", "{port}"], "/"))
    # Each idstore target has a database of its own, so that one's writes do not weigh on
    # the other's reads.
    db_url, store_id = database("bench")
    if "idstore" in wanted:
        targets.append(Target("idstore", serve(db_url), "/health", store_id=store_id))
    if "idstore-sigv4" in wanted:
        signed_url, signed_store = database("bench-sigv4")
        key = _make_key(signed_url, signed_store)
        if key is not None:
            targets.append(
                Target(
                    "idstore-sigv4",
                    [*serve(signed_url), "--auth", "sigv4"],
                    "/health",
                    key=key,
                    store_id=signed_store,
                    env=_server_key_env(workdir),
                )
            )
    if args.baseline:
        checkout = workdir / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(checkout), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        env = {"PYTHONPATH": str(checkout)}
        _check_imports_from(checkout, env)
        base_url, base_store = database("bench-baseline", env, checkout)
        targets.append(
            Target(
                "idstore-baseline",
                serve(base_url),
                "/health",
                env=env,
                store_id=base_store,
                cwd=checkout,
            )
        )
    try:
        results = measure(targets, names, args, workdir)
    finally:
        if args.baseline:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(workdir / "baseline")],
                cwd=ROOT,
                check=False,
            )
    startup = startup_seconds(db_url) if "idstore" in wanted else float("nan")
    print()
    print(table(results, names, startup))


def _check_imports_from(checkout: Path, env: dict[str, str]) -> None:
    """Fail unless `python -m idstore` run as the baseline target runs the checkout's code
    (not the installed tree's, which would compare the after-state with itself)."""
    found = subprocess.run(
        [PYTHON, "-c", "import idstore; print(idstore.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
        env={**os.environ, **env},
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(checkout.resolve()):
        sys.exit(f"the baseline imports idstore from {found}, not from {checkout}")


def _make_key(db_url: str, store_id: str) -> tuple[str, str] | None:
    """A read-write access key for the store, if this build has `idstore keys`."""
    env = _server_key_env(Path(db_url[len("sqlite:///") :]).parent)
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "idstore",
            "keys",
            "create",
            "--store",
            store_id,
            "--name",
            "bench",
            "--json",
            "--db",
            db_url,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    if done.returncode != 0:
        print("no `idstore keys`: skipping the sigv4 target", file=sys.stderr)
        return None
    key = json.loads(done.stdout)
    return key["AccessKeyId"], key["SecretAccessKey"]


def _server_key_env(workdir: Path) -> dict[str, str]:
    return {"IDSTORE_SERVER_KEY_FILE": str(workdir / "server.key")}


def table(results: dict[str, dict[str, Result]], names: list[str], startup: float) -> str:
    floor = results.get("floor", {}).get("describe_user")
    moto = results.get("moto", {})
    ours = results.get("idstore", {})
    signed = results.get("idstore-sigv4", {})
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"botocore {botocore.__version__}; wrk 1 thread, 8 connections.",
        "",
        "| operation | idstore req/s | moto req/s | × moto | % of floor | idstore CPU µs/req "
        "| moto CPU µs/req | sigv4 req/s | sigv4 vs none |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        r = ours.get(name)
        m = moto.get(name)
        s = signed.get(name)
        if r is None:
            continue
        usable = m is not None and m.errors == 0
        lines.append(
            f"| {name} | {r.rps:,.0f} | {m.rps:,.0f} | {r.rps / m.rps:.1f}× | "
            if usable and m
            else f"| {name} | {r.rps:,.0f} | not served | – | "
        )
        lines[-1] += (
            (f"{r.rps / floor.rps * 100:.0f}% | " if floor and name in READS else "– | ")
            + f"{r.cpu_us:.0f} | "
            + (f"{m.cpu_us:.0f} | " if usable and m else "– | ")
            + (f"{s.rps:,.0f} | {(s.rps / r.rps - 1) * 100:+.0f}% |" if s else "– | – |")
        )
    if floor:
        lines.append("")
        lines.append(
            f"Floor (bare ASGI app, canned response): {floor.rps:,.0f} req/s, "
            f"{floor.cpu_us:.0f} µs CPU/req. idstore start-up to /health: "
            f"{startup:.2f} s."
        )
    baseline = results.get("idstore-baseline", {})
    if baseline:
        lines += [
            "",
            "| operation | baseline req/s | idstore req/s | change (best) "
            "| change (median of paired rounds) | baseline CPU µs/req | idstore CPU µs/req |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in names:
            b, r = baseline.get(name), ours.get(name)
            if b is not None and r is not None:
                lines.append(
                    f"| {name} | {b.rps:,.0f} | {r.rps:,.0f} | {(r.rps / b.rps - 1) * 100:+.1f}% "
                    f"| {paired_change('idstore', name, 'idstore-baseline') * 100:+.1f}% "
                    f"| {b.cpu_us:.0f} | {r.cpu_us:.0f} |"
                )
    errors = {f"{t}/{n}": r.errors for t, rs in results.items() for n, r in rs.items() if r.errors}
    if errors:
        lines.append(f"Non-2xx responses: {errors}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

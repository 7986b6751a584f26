"""Scale benchmark: does a lookup or a page cost the same with 1,000,000 users as with 10,000?

    python benchmarks/scale.py                                  # SQLite and PostgreSQL
    python benchmarks/scale.py --backends sqlite --sizes 10000,100000

For each database and size it creates a fresh database, seeds one identity store with N users
(each with an e-mail address), N/10 groups and 2N memberships (every user in two groups) through
the Store's bulk import (`Store.import_records`, one transaction), and reports the seeding time
and the database's size. Then it times, in-process through `Gateway.handle` (the server's code
path without HTTP, so that what varies is the size of the data), requests on random targets:

- GetUserId by user name and by e-mail; DescribeUser;
- IsMemberInGroups with 100 groups; ListGroupMembershipsForMember;
- a ListUsers page (100 users) at a random depth, resumed from a NextToken.

Each cost is the best of 5 rounds of `--samples` requests, the sizes measured in alternation
(on a shared machine, the best of rounds taken side by side is what compares fairly). The
table gives the ratio of the cost at the largest size to the cost at the smallest: the target
is at most 1.5.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from idstore import wire
from idstore.aws.gateway import Gateway
from idstore.config import Config
from idstore.model import Audit, GroupData, UserData, new_resource_id, now
from idstore.store import Store, open_store
from idstore.store.bulk import BulkGroup, BulkMembership, BulkUser

HEADERS = {
    "content-type": "application/x-amz-json-1.1",
    "authorization": "AWS4-HMAC-SHA256 Credential=AKIDSCALE/20260101/us-east-1/identitystore/"
    "aws4_request, SignedHeaders=host, Signature=0",
}


@dataclass
class Seeded:
    store_id: str
    user_ids: list[str]
    group_ids: list[str]
    seconds: float
    size_bytes: int


def seed(store: Store, users: int, db_size: Callable[[], int]) -> Seeded:
    store_id = store.create_identity_store(now()).store_id
    audit = Audit.new("arn:aws:iam::000000000000:user/seed", now())
    user_ids = [new_resource_id(store_id) for _ in range(users)]
    group_ids = [new_resource_id(store_id) for _ in range(max(users // 10, 100))]
    bulk_users = [
        BulkUser.of(
            user_ids[i],
            UserData(
                {
                    "UserName": f"user{i}",
                    "DisplayName": f"User {i}",
                    "Name": {"GivenName": "User", "FamilyName": str(i)},
                    "Emails": [{"Value": f"user{i}@example.com", "Type": "work", "Primary": True}],
                    "Title": "Engineer",
                }
            ),
            1,
            audit,
        )
        for i in range(users)
    ]
    bulk_groups = [
        BulkGroup.of(g, GroupData({"DisplayName": f"group{j}"}), 1, audit)
        for j, g in enumerate(group_ids)
    ]
    rng = random.Random(7)
    bulk_memberships = []
    for user_id in user_ids:
        for group_id in rng.sample(group_ids, 2):
            bulk_memberships.append(
                BulkMembership(new_resource_id(store_id), group_id, user_id, audit)
            )
    started = time.perf_counter()
    store.import_records(store_id, bulk_users, bulk_groups, bulk_memberships)
    seconds = time.perf_counter() - started
    return Seeded(store_id, user_ids, group_ids, seconds, db_size())


def request(operation: str, body: dict[str, Any]) -> wire.Request:
    headers = {**HEADERS, "x-amz-target": f"AWSIdentityStore.{operation}"}
    return wire.Request("POST", "/", headers, orjson.dumps(body))


def workloads(
    gateway: Gateway, s: Seeded, users: int
) -> dict[str, Callable[[random.Random], wire.Request]]:
    sid = s.store_id
    tokens = gateway.operations._tokens

    def unique(path: str, value: str) -> dict[str, Any]:
        return {"UniqueAttribute": {"AttributePath": path, "AttributeValue": value}}

    return {
        "GetUserId (userName)": lambda r: request(
            "GetUserId",
            {
                "IdentityStoreId": sid,
                "AlternateIdentifier": unique("userName", f"user{r.randrange(users)}"),
            },
        ),
        "GetUserId (emails.value)": lambda r: request(
            "GetUserId",
            {
                "IdentityStoreId": sid,
                "AlternateIdentifier": unique(
                    "emails.value", f"user{r.randrange(users)}@example.com"
                ),
            },
        ),
        "DescribeUser": lambda r: request(
            "DescribeUser", {"IdentityStoreId": sid, "UserId": r.choice(s.user_ids)}
        ),
        "IsMemberInGroups (100 groups)": lambda r: request(
            "IsMemberInGroups",
            {
                "IdentityStoreId": sid,
                "MemberId": {"UserId": r.choice(s.user_ids)},
                "GroupIds": r.sample(s.group_ids, 100),
            },
        ),
        "ListGroupMembershipsForMember": lambda r: request(
            "ListGroupMembershipsForMember",
            {"IdentityStoreId": sid, "MemberId": {"UserId": r.choice(s.user_ids)}},
        ),
        "ListUsers page at a random depth": lambda r: request(
            "ListUsers",
            {
                "IdentityStoreId": sid,
                "MaxResults": 100,
                "NextToken": tokens.issue(r.randrange(max(users - 200, 1)), "ListUsers", sid, ""),
            },
        ),
    }


ROUNDS = 5


def cost_us(gateway: Gateway, make: Callable[[random.Random], wire.Request], samples: int) -> float:
    """Mean µs per request over `samples` requests on random targets."""
    rng = random.Random()
    batch = [make(rng) for _ in range(samples)]
    started = time.perf_counter()
    for req in batch:
        response = gateway.handle(req)
        if response.status != 200:
            raise RuntimeError(response.body.decode())
    return (time.perf_counter() - started) / samples * 1e6


@dataclass
class Database:
    url: str
    size: Callable[[], int]
    drop: Callable[[], None]


def sqlite_database(workdir: Path, users: int) -> Database:
    path = workdir / f"scale-{users}.db"

    def size() -> int:
        with open_store(f"sqlite:///{path}").engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in workdir.glob(f"scale-{users}.db*"))

    return Database(f"sqlite:///{path}", size, lambda: None)


def postgres_database(server: str, users: int) -> Database:
    name = f"idstore_scale_{users}_{os.getpid()}"
    admin = create_engine(
        make_url(server).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    def size() -> int:
        with admin.connect() as conn:
            return int(conn.execute(text(f"SELECT pg_database_size('{name}')")).scalar_one())

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Database(url, size, drop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="idstore-scale-"))
    results: dict[str, dict[int, tuple[Seeded, dict[str, float]]]] = {}
    for backend in args.backends.split(","):
        # Seed every size first, then measure them in alternation, so that a slow spell of a
        # shared machine weighs on each size alike.
        opened: dict[int, tuple[Database, Store, Seeded, Gateway]] = {}
        for users in sizes:
            db = (
                sqlite_database(workdir, users)
                if backend == "sqlite"
                else postgres_database(args.postgres, users)
            )
            store = open_store(db.url)
            print(f"{backend}: seeding {users:,} users ...", flush=True)
            seeded = seed(store, users, db.size)
            size = seeded.size_bytes / 2**20
            print(f"  seeded in {seeded.seconds:.1f} s, database {size:,.0f} MiB", flush=True)
            if backend == "postgresql":
                # The steady state: what autovacuum would do after a bulk load, done now rather
                # than while the requests are timed.
                with store.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                        "VACUUM (ANALYZE)"
                    )
            opened[users] = (db, store, seeded, Gateway(store, Config(db_url=db.url)))
        costs: dict[int, dict[str, float]] = {users: {} for users in sizes}
        for _ in range(ROUNDS):
            for users, (_db, _store, seeded, gateway) in opened.items():
                for name, make in workloads(gateway, seeded, users).items():
                    cost = cost_us(gateway, make, args.samples)
                    costs[users][name] = min(cost, costs[users].get(name, cost))
        results[backend] = {}
        for users, (db, store, seeded, _gateway) in opened.items():
            results[backend][users] = (seeded, costs[users])
            for name, cost in costs[users].items():
                print(f"  {backend} {users:>9,} {name:34} {cost:8.1f} us", flush=True)
            store.close()
            db.drop()
    shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(results, sizes))


def table(results: dict[str, dict[int, tuple[Seeded, dict[str, float]]]], sizes: list[int]) -> str:
    small, large = sizes[0], sizes[-1]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; in-process cost per request (µs, best of 5 rounds).",
        "",
        f"| database | operation | {small:,} users | {large:,} users | ratio |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for backend, by_size in results.items():
        for name, cost in by_size[small][1].items():
            big = by_size[large][1][name]
            lines.append(f"| {backend} | {name} | {cost:.0f} | {big:.0f} | {big / cost:.2f} |")
    lines += [
        "",
        "| database | users | groups | memberships | seeding | size |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, by_size in results.items():
        for users, (seeded, _) in by_size.items():
            lines.append(
                f"| {backend} | {users:,} | {len(seeded.group_ids):,} | {2 * users:,} | "
                f"{seeded.seconds:,.0f} s | {seeded.size_bytes / 2**20:,.0f} MiB |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Import and export throughput: generate a JSON Lines file, import it, export it, re-import it.

    .venv/bin/python benchmarks/import_export.py [--users 100000] [--groups 1000]
        [--memberships-per-user 2] [--db URL] [--keep FILE]

Generates users with a realistic profile (names, one e-mail, an address, a phone number, an
ExternalId, the enterprise extension), groups, and memberships; then times, through the same
code as `idstore import` / `idstore export`:

- reading and checking the file (`Reader.read`),
- writing it in one transaction (`import_records`) into an empty identity store,
- exporting the store again (`export_lines`, written to a file),
- importing the same file again (the idempotent re-import: every record is an update).

Checks that the export holds exactly the records of the input. The database is a fresh SQLite
file in a temporary directory unless `--db` names one (a PostgreSQL URL, say); a new identity
store is used either way.
Target (issue 6): 100,000 users in under a minute on SQLite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from idstore.model import now
from idstore.store import open_store
from idstore.transfer import Reader, export_lines, import_records

ACTOR = "arn:aws:iam::000000000000:root"


def generate(path: Path, users: int, groups: int, per_user: int, store_prefix: str) -> None:
    rng = random.Random(6)
    at = 1_714_564_800.123
    audit = {"CreatedAt": at, "CreatedBy": ACTOR, "UpdatedAt": at, "UpdatedBy": ACTOR}

    def new_id() -> str:
        return f"{store_prefix}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"

    group_ids = [new_id() for _ in range(groups)]
    with path.open("wb") as out:
        out.write(b'{"kind":"header","format":"idstore","version":1,"IdentityStoreId":"x"}\n')
        user_ids = []
        for n in range(users):
            user_id = new_id()
            user_ids.append(user_id)
            record = {
                "kind": "user",
                "UserId": user_id,
                "UserName": f"user{n:07}",
                "DisplayName": f"User {n}",
                "Name": {"GivenName": f"Given{n}", "FamilyName": "Family", "Formatted": f"G{n}"},
                "Emails": [{"Value": f"user{n}@example.com", "Type": "work", "Primary": True}],
                "Addresses": [
                    {
                        "StreetAddress": f"{n} Main St",
                        "Locality": "Springfield",
                        "Country": "US",
                        "Primary": True,
                    }
                ],
                "PhoneNumbers": [{"Value": f"+1555{n:07}", "Type": "work"}],
                "Title": "Engineer",
                "Locale": "en-US",
                "ExternalIds": [{"Issuer": "https://idp.example.com", "Id": f"ext-{n}"}],
                "Extensions": {
                    "aws:identitystore:enterprise": {"department": "R&D", "employeeNumber": str(n)}
                },
                "UserStatus": "ENABLED",
                "Revision": "1",
                **audit,
            }
            out.write(orjson.dumps(record) + b"\n")
        for n, group_id in enumerate(group_ids):
            group = {
                "kind": "group",
                "GroupId": group_id,
                "DisplayName": f"Group {n}",
                "Description": "A benchmark group",
                "Revision": "1",
                **audit,
            }
            out.write(orjson.dumps(group) + b"\n")
        for user_id in user_ids:
            for group_id in rng.sample(group_ids, min(per_user, len(group_ids))):
                membership = {
                    "kind": "membership",
                    "MembershipId": new_id(),
                    "GroupId": group_id,
                    "MemberId": {"UserId": user_id},
                    **audit,
                }
                out.write(orjson.dumps(membership) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--memberships-per-user", type=int, default=2)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, default=None, help="also keep the generated file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.db or f"sqlite:///{work / 'bench.db'}"
        store = open_store(url)
        store_id = store.create_identity_store(now()).store_id
        source = args.keep or work / "in.jsonl"
        started = time.perf_counter()
        generate(source, args.users, args.groups, args.memberships_per_user, store_id[2:])
        size = source.stat().st_size
        memberships = args.users * min(args.memberships_per_user, args.groups)
        records = args.users + args.groups + memberships
        print(f"database: {url.split('@')[-1]}")
        print(
            f"generated {args.users:,} users, {args.groups:,} groups, {memberships:,} memberships"
            f" ({size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s"
        )

        def timed_import(label: str) -> float:
            reader = Reader(store_id, actor=ACTOR, at=now())
            cpu = time.process_time()
            t0 = time.perf_counter()
            with source.open("rb") as lines:
                checked = reader.read(lines)
            t1 = time.perf_counter()
            import_records(store, store_id, checked)
            t2 = time.perf_counter()
            print(
                f"{label}: read+check {t1 - t0:.1f} s, write {t2 - t1:.1f} s, total {t2 - t0:.1f} s"
                f" = {args.users / (t2 - t0):,.0f} users/s ({records / (t2 - t0):,.0f} records/s;"
                f" this process's CPU {time.process_time() - cpu:.1f} s)"
            )
            return t2 - t0

        timed_import("import   ")
        exported = work / "out.jsonl"
        t0 = time.perf_counter()
        with exported.open("wb") as out:
            for line in export_lines(store, store_id):
                out.write(line)
        elapsed = time.perf_counter() - t0
        print(
            f"export   : {elapsed:.1f} s = {args.users / elapsed:,.0f} users/s"
            f" ({records / elapsed:,.0f} records/s)"
        )
        timed_import("re-import")
        same = _body(source) == _body(exported)
        print(f"export holds exactly the imported records: {same}")
        store.delete_identity_store(store_id)
        store.close()
        if not same:
            raise SystemExit(1)


def _body(path: Path) -> list[bytes]:
    """The records of a file, as sorted digests: export orders memberships group by group."""
    with path.open("rb") as f:
        next(f)  # the header names the store
        return sorted(hashlib.sha1(orjson.dumps(orjson.loads(line))).digest() for line in f)


if __name__ == "__main__":
    os.environ.setdefault("IDSTORE_SQLITE_SYNCHRONOUS", "NORMAL")
    main()

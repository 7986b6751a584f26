"""Which PostgreSQL driver: psycopg 3 or asyncpg? The same lookups through each, timed.

    pip install asyncpg        # not a dependency of idstore; only this comparison needs it
    python benchmarks/pg_driver.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

It creates a scratch table of 10,000 rows shaped like idstore's users (an indexed text key, a
JSON text document) and times a primary-key-like lookup by the text key, the statement shape
of DescribeUser and GetUserId, three ways:

- psycopg 3, synchronous, autocommit, prepared after the first executions (what idstore runs);
- psycopg 3 from 8 threads at once (how the server runs PostgreSQL requests);
- asyncpg from one event loop, sequentially and with 8 tasks at once.

It prints µs of wall time per lookup and the process's CPU µs per lookup.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from collections.abc import Callable

import psycopg

ROWS = 10_000
LOOKUPS = 5_000
DOC = json.dumps({"UserName": "x", "DisplayName": "Some User", "Name": {"GivenName": "S"}})


def timed(label: str, run: Callable[[], None], count: int) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{label:44} {wall / count * 1e6:8.1f} us wall  {cpu / count * 1e6:8.1f} us CPU")


def setup(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS driver_bench")
        conn.execute(
            "CREATE TABLE driver_bench (id bigserial PRIMARY KEY, key text UNIQUE, doc text)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO driver_bench (key, doc) VALUES (%s, %s)",
                [(f"user{i}", DOC) for i in range(ROWS)],
            )


def psycopg_sequential(url: str) -> None:
    keys = [f"user{random.randrange(ROWS)}" for _ in range(LOOKUPS)]
    with psycopg.connect(url, autocommit=True) as conn:

        def run() -> None:
            for key in keys:
                conn.execute(
                    "SELECT id, key, doc FROM driver_bench WHERE key = %s", (key,)
                ).fetchone()

        timed("psycopg 3, one connection", run, LOOKUPS)


def psycopg_threads(url: str, threads: int = 8) -> None:
    conns = [psycopg.connect(url, autocommit=True) for _ in range(threads)]
    per = LOOKUPS // threads

    def worker(conn: psycopg.Connection) -> None:
        for _ in range(per):
            key = f"user{random.randrange(ROWS)}"
            conn.execute("SELECT id, key, doc FROM driver_bench WHERE key = %s", (key,)).fetchone()

    def run() -> None:
        pool = [threading.Thread(target=worker, args=(c,)) for c in conns]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    timed(f"psycopg 3, {threads} threads", run, per * threads)
    for conn in conns:
        conn.close()


def asyncpg_runs(url: str, tasks: int = 8) -> None:
    try:
        import asyncpg  # type: ignore[import-not-found]
    except ImportError:
        print("asyncpg is not installed: pip install asyncpg")
        return

    async def main() -> None:
        pool = await asyncpg.create_pool(url, min_size=tasks, max_size=tasks)
        query = "SELECT id, key, doc FROM driver_bench WHERE key = $1"

        async def sequential() -> None:
            async with pool.acquire() as conn:
                for _ in range(LOOKUPS):
                    await conn.fetchrow(query, f"user{random.randrange(ROWS)}")

        async def concurrent() -> None:
            async def one() -> None:
                async with pool.acquire() as conn:
                    for _ in range(LOOKUPS // tasks):
                        await conn.fetchrow(query, f"user{random.randrange(ROWS)}")

            await asyncio.gather(*(one() for _ in range(tasks)))

        for label, work in (
            ("asyncpg, one connection", sequential),
            (f"asyncpg, {tasks} tasks", concurrent),
        ):
            cpu, wall = time.process_time(), time.perf_counter()
            await work()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"{label:44} {wall / LOOKUPS * 1e6:8.1f} us wall  {cpu / LOOKUPS * 1e6:8.1f} us CPU"
            )
        await pool.close()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    setup(args.url)
    for _ in range(2):  # the second round is the one to read: warm caches, prepared statements
        psycopg_sequential(args.url)
        psycopg_threads(args.url)
        asyncpg_runs(args.url)
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("DROP TABLE driver_bench")


if __name__ == "__main__":
    main()

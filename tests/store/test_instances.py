"""CreateInstance's ClientToken holds across processes: two Stores on one database (as two
servers are) given the same token at once make one identity store between them; the token goes
with its store."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from idstore.errors import Conflict
from idstore.model import now
from idstore.store import Store, open_store


def _with_tokens(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT store_id FROM identity_stores WHERE client_token IS NOT NULL")
        )
        return {row[0] for row in rows}


def test_one_token_at_once_on_two_servers_makes_one_store(file_db_url: str) -> None:
    stores = [open_store(file_db_url), open_store(file_db_url)]
    try:
        before = _with_tokens(stores[0])
        start = threading.Barrier(8)

        def create(n: int) -> str:
            start.wait()
            made, same = stores[n % 2].create_instance(now(), "Raced", "token", "caller")
            assert same
            return made.store_id

        with ThreadPoolExecutor(8) as pool:
            answers = set(pool.map(create, range(8)))
        after = _with_tokens(stores[0])
        assert len(answers) == 1
        assert after - before == answers
        (made,) = answers
        assert stores[1].instance_names([made]) == {made: "Raced"}
        stores[0].delete_identity_store(made)
        assert _with_tokens(stores[0]) == before
        # The token went with its store: the same token makes a new one.
        again, _ = stores[1].create_instance(now(), "Raced", "token", "caller")
        assert again.store_id != made
        stores[1].delete_identity_store(again.store_id)
    finally:
        for store in stores:
            store.close()


def test_concurrent_renames_take_turns(file_db_url: str) -> None:
    stores = [open_store(file_db_url), open_store(file_db_url)]
    try:
        made = stores[0].create_identity_store(now()).store_id
        start = threading.Barrier(8)

        def rename(n: int) -> None:
            start.wait()
            stores[n % 2].set_instance_name(made, f"name-{n}")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(rename, range(8)))  # each succeeds (on PostgreSQL two renames used
            # to delete the name's row together, and the second insert failed on its key)
        names = stores[1].instance_names([made])
        assert names[made] in {f"name-{n}" for n in range(8)}
        stores[0].delete_identity_store(made)
    finally:
        for store in stores:
            store.close()


def test_a_store_id_taken_is_a_conflict(store: Store) -> None:
    # The store id's unique key and its instance id's unique index both refuse it; either
    # way the answer is the same Conflict (SQLite may report the index first).
    made = store.create_identity_store(now()).store_id
    with pytest.raises(Conflict, match="An identity store with this id already exists"):
        store.create_identity_store(now(), store_id=made)
    store.delete_identity_store(made)

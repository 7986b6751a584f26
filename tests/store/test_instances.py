"""CreateInstance's ClientToken holds across processes: two Stores on one database (as two
servers are) given the same token at once make one identity store between them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from idstore.model import now
from idstore.store import open_store


def test_one_token_at_once_on_two_servers_makes_one_store(file_db_url: str) -> None:
    stores = [open_store(file_db_url), open_store(file_db_url)]
    try:
        before = {s.store_id for s in stores[0].list_identity_stores(None, 100).items}
        start = threading.Barrier(8)

        def create(n: int) -> str:
            start.wait()
            made, name = stores[n % 2].create_instance(now(), "Raced", "token", "caller")
            assert name == "Raced"
            return made.store_id

        with ThreadPoolExecutor(8) as pool:
            answers = set(pool.map(create, range(8)))
        after = {s.store_id for s in stores[0].list_identity_stores(None, 100).items}
        assert len(answers) == 1
        assert after - before == answers
        (made,) = answers
        assert stores[1].instance_names([made]) == {made: "Raced"}
        stores[0].delete_identity_store(made)
        # The token went with its store: the same token makes a new one.
        again, _ = stores[1].create_instance(now(), "Raced", "token", "caller")
        assert again.store_id != made
        stores[1].delete_identity_store(again.store_id)
    finally:
        for store in stores:
            store.close()

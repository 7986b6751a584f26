"""Migrations: they build exactly the schema in `schema.py`, on every database, idempotently."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from idstore.store import dialects, migrate, open_store
from idstore.store.schema import metadata


def test_migrated_database_matches_the_schema(file_db_url: str) -> None:
    store = open_store(file_db_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()


def test_upgrade_is_idempotent_and_records_the_head(file_db_url: str) -> None:
    engine = dialects.create_engine_for(file_db_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_memory_databases_are_migrated_and_independent() -> None:
    first, second = open_store("sqlite://"), open_store("sqlite://")
    try:
        from idstore.model import now

        first.create_identity_store(now())
        assert len(first.list_identity_stores(None, 10).items) == 1
        assert second.list_identity_stores(None, 10).items == []
    finally:
        first.close()
        second.close()


def test_the_head_constant_is_alembics_head() -> None:
    # Opening a current database skips alembic by comparing with migrate.HEAD.
    assert migrate.head() == migrate.HEAD


def test_stores_made_before_0004_keep_issuing_prefixed_ids(file_db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from idstore.model import IdFormat, UserData, now

    engine = dialects.create_engine_for(file_db_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0003")
            conn.execute(
                text("INSERT INTO identity_stores (store_id, created_at) VALUES (:s, 0)"),
                {"s": "d-00000000cd"},
            )
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()
    store = open_store(file_db_url)
    try:
        assert store.get_identity_store("d-00000000cd").id_format is IdFormat.PREFIXED
        user = store.create_user(
            "d-00000000cd", UserData({"UserName": "a"}), actor="x", at=now(), max_users=9
        )
        assert user.user_id.startswith("00000000cd-")
        assert store.create_identity_store(now()).id_format is IdFormat.UUID
    finally:
        store.delete_identity_store("d-00000000cd")
        store.close()


def test_stores_made_before_0005_are_found_by_their_instance_id(file_db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from idstore.model import UserData, instance_id, now

    store = open_store(file_db_url)
    try:
        kept = store.create_identity_store(now()).store_id
        user = store.create_user(
            kept, UserData({"UserName": "a"}), actor="x", at=now(), max_users=9
        )
    finally:
        store.close()
    # More than one batch of the migration's fill.
    made = [f"d-5005{i:06x}" for i in range(1500)]
    engine = dialects.create_engine_for(file_db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0004")
            conn.execute(
                text("INSERT INTO identity_stores (store_id, created_at) VALUES (:s, 0)"),
                [{"s": sid} for sid in made],
            )
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as conn:
            missing = conn.execute(
                text("SELECT count(*) FROM identity_stores WHERE instance_id IS NULL")
            ).scalar_one()
        assert missing == 0
    finally:
        engine.dispose()
    store = open_store(file_db_url)
    try:
        # The downgrade dropped its columns in place: nothing cascaded from the store rows.
        assert store.get_user(kept, user.user_id).user_id == user.user_id
        for sid in (kept, made[0], made[999], made[1000], made[-1]):
            assert store.store_of_instance(instance_id(sid)) == sid
        assert store.store_of_instance("ssoins-0000000000000000") is None
    finally:
        store.delete_identity_store(kept)
        store.close()
        engine = dialects.create_engine_for(file_db_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM identity_stores WHERE store_id LIKE 'd-5005%'"))
        engine.dispose()


def test_a_store_row_an_older_server_inserts_is_found_after_one_miss(file_db_url: str) -> None:
    # During a rolling upgrade, an older server inserts store rows without an instance id.
    from sqlalchemy import text

    from idstore.model import instance_id

    store = open_store(file_db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO identity_stores (store_id, created_at) VALUES (:s, 0)"),
                [{"s": "d-50050000aa"}, {"s": "d-50050000bb"}],
            )
        assert store.store_of_instance(instance_id("d-50050000aa")) == "d-50050000aa"
        with store.engine.connect() as conn:
            missing = conn.execute(
                text("SELECT count(*) FROM identity_stores WHERE instance_id IS NULL")
            ).scalar_one()
        assert missing == 0  # every such row was filled in at once
        assert store.store_of_instance(instance_id("d-50050000bb")) == "d-50050000bb"
    finally:
        for sid in ("d-50050000aa", "d-50050000bb"):
            store.delete_identity_store(sid)
        store.close()


def test_downgrades_keep_every_row_of_the_tables_they_alter(
    file_db_url: str, tmp_path: Any
) -> None:
    # A SQLite batch rebuild drops the table it alters; ON DELETE CASCADE then empties its
    # children. Down to 0002 (0005, 0004 and 0003 undone) and back up, every row stays.
    from alembic import command
    from sqlalchemy import text

    from idstore.model import UserData, now
    from idstore.serverkey import ServerKey

    store = open_store(file_db_url)
    try:
        sid = store.create_identity_store(now()).store_id
        user = store.create_user(sid, UserData({"UserName": "a"}), actor="x", at=now(), max_users=9)
        key, _ = store.create_access_key(
            name="limited", stores=[sid], read_only=False, server_key=ServerKey.generate(), at=now()
        )
    finally:
        store.close()

    def counts(conn: Any) -> tuple[int, int]:
        users = conn.execute(text("SELECT count(*) FROM users WHERE store_id = :s"), {"s": sid})
        grants = conn.execute(
            text("SELECT count(*) FROM access_key_stores WHERE store_id = :s"), {"s": sid}
        )
        return users.scalar_one(), grants.scalar_one()

    engine = dialects.create_engine_for(file_db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0002")
            assert counts(conn) == (1, 1)
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    store = open_store(file_db_url)
    try:
        assert store.get_user(sid, user.user_id).user_id == user.user_id
        found = store.get_access_key(key.access_key_id)
        assert found is not None and found.stores == frozenset({sid})
    finally:
        store.delete_access_key(key.access_key_id)
        store.delete_identity_store(sid)
        store.close()

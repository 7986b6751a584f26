"""Secrets at rest (docs/behaviour.md#access): secret access keys are sealed with a server key kept
outside the database, so a copy of the database alone gives no usable secret; the server key is
generated on first use, and a wrong or missing one is refused with a clear message."""

from __future__ import annotations

import base64
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from idstore.config import Config
from idstore.model import now
from idstore.serverkey import ServerKey, ServerKeyError, default_key_file, load_server_key
from idstore.store import Store
from tests.conftest import TEST_SERVER_KEY


def _dump(store: Store, url: str) -> list[bytes]:
    """Everything the database holds, as bytes: the files of SQLite, every row elsewhere."""
    found: list[bytes] = []
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if name.exists():
                found.append(name.read_bytes())
        with sqlite3.connect(path) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    found.append(repr(row).encode())
        return found
    engine = create_engine(store.engine.url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    found.append(repr(tuple(row)).encode())
    finally:
        engine.dispose()
    return found


def test_no_secret_in_a_database_dump(database: Store, file_db_url: str) -> None:
    key = ServerKey.from_text(TEST_SERVER_KEY)
    store_id = database.create_identity_store(now()).store_id
    made = [
        database.create_access_key(
            name=f"user{i}", stores=[store_id], read_only=False, server_key=key, at=now()
        )
        for i in range(3)
    ]
    dump = b"\n".join(_dump(database, file_db_url))
    assert any(k.access_key_id.encode() in dump for k, _ in made)  # the dump is real
    for record, secret in made:
        for form in (secret, base64.b64encode(secret.encode()).decode(), secret[:20]):
            assert form.encode() not in dump, f"{record.access_key_id}'s secret is in the dump"
    assert key.text().encode() not in dump
    # What is stored opens with the server key only.
    for record, secret in made:
        found = database.get_access_key(record.access_key_id)
        assert found is not None and found.secret(key) == secret
        with pytest.raises(ServerKeyError):
            found.secret(ServerKey.generate())
    assert "secret" not in repr(made[0][0]).lower().replace("sealed_secret", "")


def test_a_sealed_secret_does_not_open_in_another_row() -> None:
    key = ServerKey.generate()
    sealed = key.seal("the secret", "IDSKFIRST")
    assert key.open(sealed, "IDSKFIRST") == "the secret"
    for context in ("IDSKOTHER", ""):
        with pytest.raises(ServerKeyError):
            key.open(sealed, context)
    for broken in (sealed[:-2] + "AA", "v0:" + sealed[3:], "", "v1:!!"):
        with pytest.raises(ServerKeyError):
            key.open(broken, "IDSKFIRST")
    assert key.seal("the secret", "IDSKFIRST") != sealed  # a fresh nonce every time
    assert key.text() not in repr(key)


def test_the_key_file_is_generated_once_beside_a_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'idstore.db'}"
    assert default_key_file(url) == tmp_path / "data" / "idstore.db.key"
    (tmp_path / "data").mkdir()
    first = load_server_key(text=None, file=None, db_url=url, create=True)
    assert first.created and first.path == tmp_path / "data" / "idstore.db.key"
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    again = load_server_key(text=None, file=None, db_url=url, create=True)
    assert not again.created and again.key.text() == first.key.text()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["idstore.db.key"]


def test_default_key_files(tmp_path: Path) -> None:
    assert default_key_file("sqlite://") is None
    assert default_key_file("sqlite:///:memory:") is None
    assert default_key_file("sqlite:///rel.db", cwd=tmp_path) == tmp_path / "rel.db.key"
    assert default_key_file("sqlite:////abs/x.db?mode=rwc") == Path("/abs/x.db.key")
    assert default_key_file("postgresql://u@h/db", cwd=tmp_path) == tmp_path / "idstore-server.key"
    with pytest.raises(ServerKeyError, match="in-memory"):
        load_server_key(text=None, file=None, db_url="sqlite://", create=True)


@pytest.mark.parametrize("text_value", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_is_refused_clearly(tmp_path: Path, text_value: str) -> None:
    path = tmp_path / "server.key"
    path.write_text(text_value)
    with pytest.raises(ServerKeyError, match="is not an idstore server key"):
        load_server_key(text=None, file=str(path), db_url="sqlite://", create=False)
    if text_value:
        with pytest.raises(ServerKeyError, match="IDSTORE_SERVER_KEY"):
            load_server_key(text=text_value, file=None, db_url="sqlite://", create=False)


def test_the_database_refuses_another_server_key(database: Store, tmp_path: Path) -> None:
    first = database.open_server_key(
        Config(db_url="sqlite://", server_key_file=str(tmp_path / "a"))
    )
    assert first.created
    database.create_access_key(
        name="alice", stores=None, read_only=False, server_key=first.key, at=now()
    )
    other = Config(db_url="sqlite://", server_key=ServerKey.generate().text())
    with pytest.raises(ServerKeyError, match="is not the server key this database"):
        database.open_server_key(other)
    # A missing file is not replaced by a new key: that one could not open the secrets.
    (tmp_path / "a").unlink()
    with pytest.raises(ServerKeyError, match="missing"):
        database.open_server_key(Config(db_url="sqlite://", server_key_file=str(tmp_path / "a")))
    assert not (tmp_path / "a").exists()
    # The right key, from the environment this time, is accepted.
    same = Config(db_url="sqlite://", server_key=first.key.text())
    assert database.open_server_key(same).key.text() == first.key.text()


def test_config_reads_the_server_key_settings() -> None:
    env = {"IDSTORE_SERVER_KEY": "abc", "IDSTORE_SERVER_KEY_FILE": "/k", "IDSTORE_AUTH": "sigv4"}
    config = Config.from_env(env)
    assert (config.server_key, config.server_key_file, config.auth) == ("abc", "/k", "sigv4")
    assert "abc" not in repr(config)


def test_key_rows_hold_no_plain_secret(database: Store) -> None:
    key = ServerKey.from_text(TEST_SERVER_KEY)
    _, secret = database.create_access_key(
        name="bob", stores=None, read_only=True, server_key=key, at=now()
    )
    from idstore.store.schema import access_keys

    with database.engine.connect() as conn:
        row = conn.execute(select(access_keys)).one()
    assert secret not in str(tuple(row))
    assert row.secret_ciphertext.startswith("v1:")

"""SQLite files are private: the database, its WAL and shared-memory files are created 0600
whatever the umask, and `idstore serve` warns at start about an existing database file that
other users can read. (A SQLite feature, tested the same in every pass of the suite.)"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from idstore.model import UserData, now
from idstore.store import open_store
from idstore.store.files import readable_by_others


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_wal_and_shm_are_created_0600(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "idstore.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store_id = store.create_identity_store(now()).store_id
        store.create_user(store_id, UserData({"UserName": "u"}), actor="t", at=now(), max_users=9)
        files = [path, tmp_path / "idstore.db-wal", tmp_path / "idstore.db-shm"]
        assert all(f.exists() for f in files)  # WAL mode, with the store open
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert readable_by_others(f"sqlite:///{path}") == []
    finally:
        store.close()


def test_an_existing_file_keeps_its_mode_and_is_reported(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "old.db"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o644)
    open_store(f"sqlite:///{path}").close()  # opening does not change the operator's choice
    assert _mode(path) == 0o644
    assert readable_by_others(f"sqlite:///{path}") == [(path, 0o644)]
    path.chmod(0o640)
    assert readable_by_others(f"sqlite:///{path}") == [(path, 0o640)]
    path.chmod(0o600)
    assert readable_by_others(f"sqlite:///{path}") == []
    assert readable_by_others("sqlite://") == []
    assert readable_by_others("postgresql://u@127.0.0.1/db") == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_warns_about_a_database_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o644)
    port = _free_port()
    args = [sys.executable, "-m", "idstore", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*args, "--db", f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert f"Warning: {path} is readable by other users (mode 0644)" in err
    assert f"chmod 600 {path}" in err
    assert _mode(path) == 0o644

"""Backups: a consistent snapshot of a live database in one SQLite file, checked and restored.

The backup format is the same for both dialects: a SQLite database at the schema's newest
revision, holding every row of every table (`schema.metadata` plus `alembic_version`). So one
command backs up SQLite and PostgreSQL alike, a backup opens with the `sqlite3` shell, and a
PostgreSQL database can be restored into a SQLite file and back.

- `backup(url, path)` reads the source inside one read-only snapshot transaction (SQLite: a
  deferred transaction, whose first read fixes the snapshot while writers go on in the
  write-ahead log; PostgreSQL: REPEATABLE READ, READ ONLY), so the copy is what the database
  held at one instant: every write acknowledged before it began is in it, nothing half-written
  is. Rows are streamed in batches, so memory is bounded by the batch, not the database. The
  file is written beside its destination and renamed into place only when complete and checked.
- `verify(path)` opens a backup read-only and checks it: SQLite's `integrity_check` and
  `foreign_key_check`, a known schema revision, and counts of what it holds.
- `restore(path, url)` copies a verified backup into a database in one transaction, refusing
  a database that already holds identity stores or access keys unless told to replace them;
  PostgreSQL's sequences are then moved past the restored `seq` values.

The server key (which opens access keys' secrets) is never in the database, so it is not in a
backup either: back it up apart (docs/operations.md). A restore without it keeps every user and
group, but no access key's secret opens.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, Table, delete, func, insert, select, text
from sqlalchemy.engine import Connection

from idstore.store import dialects, migrate
from idstore.store.schema import access_keys, identity_stores, metadata

__all__ = ["BackupError", "Summary", "backup", "restore", "verify"]

# Rows fetched and written per batch: big enough to amortise statements, small enough that a
# batch of the widest rows (users, with their profile JSON) stays a few megabytes.
_BATCH = 2000
# Progress: called once with the number of rows to copy; what it returns (if not None) is then
# called with the number of rows each batch copied.
Progress = Callable[[int], Callable[[int], None] | None]
# What `verify` counts, by table, in this order.
_COUNTED = ("identity_stores", "users", "groups", "memberships", "access_keys", "scim_tokens")


class BackupError(Exception):
    """A backup or restore that cannot be done, with a message for the operator."""


@dataclass
class Summary:
    """What a backup holds."""

    revision: str
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in self.counts.items())
        return f"schema {self.revision}: {parts}"


def _tables() -> list[Table]:
    """Every table, parents before children (the order rows can be inserted in)."""
    return list(metadata.sorted_tables)


@contextlib.contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection inside one read-only transaction that sees a single snapshot."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def _count_rows(conn: Connection) -> dict[str, int]:
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in _tables()
    }


def _copy_rows(
    source: Connection,
    target: Connection,
    total: int,
    progress: Progress | None,
) -> None:
    step = progress(total) if progress is not None else None
    for table in _tables():
        columns = list(table.columns)
        order = list(table.primary_key.columns) or columns
        result = source.execution_options(stream_results=True, yield_per=_BATCH).execute(
            select(*columns).order_by(*order)
        )
        for batch in result.partitions(_BATCH):
            target.execute(insert(table), [dict(row._mapping) for row in batch])
            if step is not None:
                step(len(batch))


def _sqlite_engine(path: Path) -> Engine:
    return dialects.create_engine_for(f"sqlite:///{path}")


def backup(url: str, path: Path, *, progress: Progress | None = None) -> Summary:
    """Write a consistent snapshot of the database at `url` to the SQLite file `path`."""
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new file for the backup")
    source = dialects.create_engine_for(url)
    try:
        revision = migrate.current(source)
        if revision is None:
            raise BackupError(f"{url} holds no idstore database")
        if revision != migrate.HEAD:
            raise BackupError(
                f"{url} is at schema {revision}, this idstore writes {migrate.HEAD}: "
                "run `idstore db upgrade` first"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        partial = Path(partial_name)
        partial.unlink()  # SQLite creates it; mkstemp only reserved the name
        try:
            target = _sqlite_engine(partial)
            try:
                migrate.upgrade(target)
                with _snapshot(source) as src, target.begin() as dst:
                    counts = _count_rows(src)
                    _copy_rows(src, dst, sum(counts.values()), progress)
            finally:
                target.dispose()
            _checkpoint(partial)
            summary = verify(partial)
            partial.chmod(0o600)
            partial.rename(path)
        finally:
            for leftover in _sqlite_files(partial):
                leftover.unlink(missing_ok=True)
        return summary
    finally:
        source.dispose()


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file and leave it a single, self-contained file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from error
    return conn


def verify(path: Path) -> Summary:
    """Check the backup at `path`; its revision and counts, or BackupError saying what is wrong."""
    conn = _open_read_only(path)
    try:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise BackupError(f"{path} is damaged: {'; '.join(problems[:5])}")
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise BackupError(f"{path} has rows whose parent row is missing")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not an idstore backup: {error}") from error
        if row is None or row[0] not in migrate.known_revisions():
            raise BackupError(f"{path} is not an idstore backup (unknown schema revision)")
        summary = Summary(revision=str(row[0]))
        for name in _COUNTED:
            try:
                found = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            except sqlite3.DatabaseError as error:
                raise BackupError(f"{path} is not an idstore backup: {error}") from error
            summary.counts[name] = int(found[0])
        return summary
    finally:
        conn.close()


def _is_empty(conn: Connection) -> bool:
    for table in (identity_stores, access_keys):
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            return False
    return True


def restore(
    path: Path, url: str, *, replace: bool = False, progress: Progress | None = None
) -> Summary:
    """Copy the backup at `path` into the database at `url` (migrated first), in one
    transaction. A database holding identity stores or access keys is refused unless
    `replace`, which deletes what it holds in that same transaction."""
    summary = verify(path)
    with tempfile.TemporaryDirectory(prefix="idstore-restore-") as scratch:
        # Work on a copy: bringing an older backup to the current schema writes to it.
        copy = Path(scratch) / "backup.db"
        with (
            contextlib.closing(_open_read_only(path)) as src,
            contextlib.closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)
        source = _sqlite_engine(copy)
        target = dialects.create_engine_for(url)
        try:
            migrate.upgrade(source)
            migrate.upgrade(target)
            with source.connect() as src_conn, target.connect() as dst_conn:
                dst_conn.execution_options(sqlite_begin="IMMEDIATE")
                with src_conn.begin(), dst_conn.begin():
                    if not _is_empty(dst_conn) and not replace:
                        raise BackupError(
                            f"{url} already holds identity stores or access keys: "
                            "restore into an empty database, or pass --replace to "
                            "delete what it holds"
                        )
                    for table in reversed(_tables()):
                        dst_conn.execute(delete(table))
                    counts = _count_rows(src_conn)
                    _copy_rows(src_conn, dst_conn, sum(counts.values()), progress)
                    if target.dialect.name == "postgresql":
                        _advance_sequences(dst_conn)
        finally:
            source.dispose()
            target.dispose()
    return summary


def _advance_sequences(conn: Connection) -> None:
    """Move each `seq` column's sequence past the restored values, so new rows do not collide."""
    for table in _tables():
        if "seq" not in table.columns or not table.c.seq.autoincrement:
            continue
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'seq'), "
                f'COALESCE((SELECT MAX(seq) FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name},
        )

"""How the Store runs a read or a write transaction: bounded waits, safe retries, true answers.

Waits. Every wait for the database is bounded by a deadline: the caller's (`by`, set by the
HTTP server from the moment a request arrived) or `lock_timeout` seconds from the start. A
write whose lock (SQLite's write lock, a PostgreSQL row lock) or connection does not come by
then fails with `Unavailable`: nothing was changed, the client may retry (AWS:
InternalServerException with RetryAfterSeconds; SCIM: 503 with Retry-After).

Inline reads. The server answers SQLite reads on its event loop (a hop to a thread costs more
than the read). Such a read must never wait: under `inline`, reads use connections whose busy
timeout is 0, and anything that would wait (a read finding the file locked, any write) raises
`WouldBlock` instead, so that the server runs the whole request again on a thread, where
waiting is allowed. It is a BaseException, as asyncio's CancelledError is, so that the front
ends' `except Exception` lets it through.

Retries. A transaction is run again only when it certainly did not commit: it failed before
its COMMIT was sent (a broken connection, a serialization failure, a deadlock), or the server
answered the COMMIT with an error. When the connection breaks while a COMMIT is in flight, the
outcome is unknown; PostgreSQL's commit log then tells (`pg_xact_status` of the transaction id
learnt at BEGIN, asked on another connection): committed, and the write's result is the
answer; aborted, and it is run again; still unknown by the deadline, and the answer is
`Unavailable` (which says so). Never a definite answer that may be false. See
docs/durability.md.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import exc as sa_exc

from idstore.errors import IdstoreError, InternalError, Unavailable
from idstore.store import dialects
from idstore.store.sql import Connection, Pool

T = TypeVar("T")

log = logging.getLogger("idstore.store")

RETRIES = 8
# Retry-After for a write that could not get its lock or connection in time (seconds).
RETRY_AFTER = 1
# After a commit's connection broke, how long at least to keep asking for its outcome.
_OUTCOME_WAIT = 2.0

_BUSY = (
    "The database is busy (another writer holds its lock); nothing was changed. "
    "Retry after {seconds} s."
)
_UNREACHABLE = "The database cannot be reached; nothing was changed. Retry after {seconds} s."
_UNKNOWN = (
    "The connection to the database broke while the change was being committed, and whether "
    "it took effect could not be learnt. Read the resource before retrying."
)

# Set by `Transactions.inline` / `.by` for the call they wrap, on this thread only.
_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("idstore_inline", default=False)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "idstore_deadline", default=None
)


class WouldBlock(BaseException):
    """Raised under `inline` instead of waiting for the database: run the request again where
    it may wait."""


class _CommitLost(Exception):
    """The connection broke while transaction `xid` was committing; `result` is its answer if
    it took effect."""

    def __init__(self, xid: str, result: object, error: BaseException) -> None:
        super().__init__(xid)
        self.xid = xid
        self.result = result
        self.error = error


def _busy() -> Unavailable:
    return Unavailable(_BUSY.format(seconds=RETRY_AFTER), RETRY_AFTER)


def _unreachable() -> Unavailable:
    return Unavailable(_UNREACHABLE.format(seconds=RETRY_AFTER), RETRY_AFTER)


# The connection could not be had: a driver error from connecting, or the pool's timeout.
_CONNECT_ERRORS = (sa_exc.DBAPIError, sa_exc.TimeoutError)


class Observer(Protocol):
    """What the server counts about the database (idstore/metrics.py implements it)."""

    def db_wait(self, kind: str, seconds: float) -> None: ...

    def db_retry(self) -> None: ...


class Transactions:
    """Runs the Store's units of work on its pool (see the module docstring).

    `observer`, if set, is told how long each thread-side transaction waited for a connection
    (`connection`) and for its BEGIN (`begin`: SQLite's write lock is taken there), and of every
    retry. Reads on the event loop are not timed: they never wait.
    """

    observer: Observer | None = None

    def __init__(
        self, pool: Pool, nonblocking: Pool | None, dbapi: Any, *, lock_timeout: float
    ) -> None:
        self._pool = pool
        # SQLite files: connections that never wait, for reads on the event loop.
        self._nonblocking = nonblocking
        self._dbapi = dbapi
        self.lock_timeout = lock_timeout

    def close(self) -> None:
        if self._nonblocking is not None:
            self._nonblocking.close()

    # -- what the caller says about the call ------------------------------------------------

    def inline(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)`, where reads must not wait and writes may not run (WouldBlock)."""
        token = _inline.set(True)
        try:
            return call(*args)
        finally:
            _inline.reset(token)

    def by(self, deadline: float, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)`, whose waits for the database end at `deadline` (time.monotonic)."""
        token = _deadline.set(deadline)
        try:
            return call(*args)
        finally:
            _deadline.reset(token)

    def _deadline(self) -> float:
        return _deadline.get() or time.monotonic() + self.lock_timeout

    # -- reads -------------------------------------------------------------------------------

    def read(self, work: Callable[[Connection], T]) -> T:
        if _inline.get() and self._nonblocking is not None:
            return self._read_inline(work)
        pool = self._pool
        deadline: float | None = None
        for attempt in range(RETRIES):
            try:
                conn = self._acquire(pool)
            except _CONNECT_ERRORS as error:
                deadline = deadline or self._deadline()
                self._pause_or_raise(error, attempt, deadline, "lost")
                continue
            try:
                if self._nonblocking is not None:  # SQLite file: a write may have shortened it
                    conn.limit_waits(int(self.lock_timeout * 1000))
                return work(conn)
            except self._dbapi.Error as error:
                kind = dialects.failure(error, broken=conn.broken)
                if kind == "lock":
                    raise _busy() from None
                if kind == "other":
                    raise
                if kind == "lost":
                    pool.discard_idle()
                deadline = deadline or self._deadline()
                self._pause_or_raise(error, attempt, deadline, kind)
            finally:
                pool.release(conn)
        raise _unreachable()  # pragma: no cover - _pause_or_raise raises on the last attempt

    def _read_inline(self, work: Callable[[Connection], T]) -> T:
        assert self._nonblocking is not None
        pool = self._nonblocking
        conn = pool.acquire()
        try:
            return work(conn)
        except self._dbapi.Error as error:
            if dialects.failure(error, broken=conn.broken) == "other":
                raise
            raise WouldBlock from None
        finally:
            pool.release(conn)

    # -- writes ------------------------------------------------------------------------------

    def write(
        self,
        work: Callable[[Connection], T],
        integrity: Callable[[BaseException], Exception],
    ) -> T:
        """Run `work` in one write transaction (see the module docstring); a constraint
        failure becomes `integrity(error)`."""
        if _inline.get() and self._nonblocking is not None:
            raise WouldBlock
        pool = self._pool
        deadline = self._deadline()
        for attempt in range(RETRIES):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _busy()
            try:
                conn = self._acquire(pool)
            except _CONNECT_ERRORS as error:
                self._pause_or_raise(error, attempt, deadline, "lost")
                continue
            try:
                return self._attempt(conn, work, max(1, int(remaining * 1000)))
            except IdstoreError:
                raise
            except _CommitLost as lost:
                pool.discard_idle()
                if self._committed(lost.xid, deadline):
                    return cast(T, lost.result)  # it took effect: that is the answer
                log.info("a commit was lost with its connection; running it again")
                self._pause_or_raise(lost.error, attempt, deadline, "lost")
            except self._dbapi.IntegrityError as error:
                raise integrity(error) from None
            except self._dbapi.Error as error:
                kind = dialects.failure(error, broken=conn.broken)
                if kind == "lock":
                    raise _busy() from None
                if kind == "other":
                    raise
                if kind == "lost":
                    pool.discard_idle()
                self._pause_or_raise(error, attempt, deadline, kind)
            finally:
                pool.release(conn)
        raise _busy()  # pragma: no cover - _pause_or_raise raises on the last attempt

    def _attempt(self, conn: Connection, work: Callable[[Connection], T], lock_ms: int) -> T:
        """One run of the transaction; `_CommitLost` if the connection broke during COMMIT."""
        observer = self.observer
        if observer is None:
            xid = conn.begin(lock_ms=lock_ms)
        else:
            started = time.perf_counter()
            try:
                xid = conn.begin(lock_ms=lock_ms)
            finally:
                observer.db_wait("begin", time.perf_counter() - started)
        try:
            result = work(conn)
        except BaseException:
            self._rollback(conn)
            raise
        try:
            conn.commit()
        except self._dbapi.Error as error:
            if xid is None:
                # SQLite: a COMMIT that failed leaves its transaction open (roll it back: it
                # did not commit); one that is closed may have committed or been rolled back.
                if not conn.in_transaction:
                    raise Unavailable(_UNKNOWN, RETRY_AFTER) from None
                self._rollback(conn)
                raise
            if dialects.failure(error, broken=conn.broken) != "lost":
                self._rollback(conn)  # the server answered: it did not commit
                raise
            raise _CommitLost(xid, result, error) from None
        return result

    def _acquire(self, pool: Pool) -> Connection:
        observer = self.observer
        if observer is None:
            return pool.acquire()
        started = time.perf_counter()
        try:
            return pool.acquire()
        finally:
            observer.db_wait("connection", time.perf_counter() - started)

    def _rollback(self, conn: Connection) -> None:
        if not conn.broken:
            try:
                conn.rollback()
            except self._dbapi.Error:
                conn.mark_broken()  # not reused: its state is unknown

    def _committed(self, xid: str, deadline: float) -> bool:
        """Whether PostgreSQL transaction `xid`, whose COMMIT's connection broke, committed.
        Raises Unavailable (saying the outcome is unknown) if that cannot be learnt in time."""
        until = max(deadline, time.monotonic() + _OUTCOME_WAIT)
        while time.monotonic() < until:
            try:
                with self._pool.connection() as conn:
                    status = conn.commit_status(xid)
            except (self._dbapi.Error, *_CONNECT_ERRORS):
                status = None  # this connection broke too (or none could be had): ask again
                self._pool.discard_idle()
            if status == "committed":
                return True
            if status == "aborted":
                return False
            # "in progress": the old session has not ended yet (its COMMIT may still land).
            time.sleep(0.05)
        raise Unavailable(_UNKNOWN, RETRY_AFTER)

    def _pause_or_raise(
        self, error: BaseException, attempt: int, deadline: float, kind: dialects.Failure
    ) -> None:
        """Back off before another attempt, or give up (Unavailable) when out of attempts or
        time."""
        pause = random.uniform(0, 0.002 * 2**attempt)
        if attempt + 1 >= RETRIES or time.monotonic() + pause >= deadline:
            log.warning("giving up on the database after %d attempts: %s", attempt + 1, error)
            raise (_unreachable() if kind == "lost" else _busy()) from None
        if self.observer is not None:
            self.observer.db_retry()
        time.sleep(pause)


def unexpected_constraint(name: str | None) -> InternalError:
    """The error for a constraint no client-facing rule explains: its name is logged, never
    shown (it is an internal name)."""
    log.error("an unexpected constraint failed: %s", name)
    return InternalError("The server could not complete the request.")

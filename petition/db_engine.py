"""Engine settings: SQLite made safe to serve from, no round trip spent on checking connections, and
a lost connection not turning a finished response into an error (`end_session_quietly`).

SQLite: WAL, a busy timeout, fsync on commit, and write transactions that take the write lock when
they begin. A plain deferred `BEGIN` that reads and then writes fails with "database is locked"
whenever another writer committed in between (WAL snapshots cannot be upgraded), and the busy
timeout does not help. So a request that may write (any method but GET/HEAD/OPTIONS), or code inside
`write_intent()`, opens its transactions with `BEGIN IMMEDIATE`, until it says it is done writing
(`done_writing()`: a page rendered after the request's writes committed).

Writers also queue in order for that lock: each write transaction first takes an exclusive `flock`
on a file beside the database, held until COMMIT or ROLLBACK. Without it, writers waiting for
SQLite's lock sleep in its busy handler in growing steps (up to 100 ms) while the lock sits free;
a bursty minute of signing on two gunicorn workers then crawled at ~10 signatures a second. The
kernel wakes the next `flock` waiter the moment the lock is released.
"""

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

log = logging.getLogger(__name__)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)
_DONE_WRITING = "petition.done_writing"
# A connection idle longer than this is checked before use (see `_ping_if_idle`).
IDLE_PING_SECONDS = 10.0


@contextmanager
def write_intent() -> Iterator[None]:
    """Outside a request (CLI, mail worker): transactions opened in this block may write."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def done_writing() -> None:
    """In a request that may write: everything it writes has committed, and what follows only reads
    (a page rendered after a confirmation). Its transactions from here on begin as reads, so they do
    not hold SQLite's one write lock while a template renders. (Kept on the request itself: an app
    context, and so `g`, may outlive one request.)"""
    request.environ[_DONE_WRITING] = True


def _wants_write_lock() -> bool:
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in _SAFE_METHODS and not request.environ.get(_DONE_WRITING)


_held_here = threading.local()  # write-queue turns held by this thread (across its connections)


class QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions wait their turn on the queue file first."""

    queue_path: str = ""

    def join_queue(self) -> None:
        """Wait for this connection's turn to write; held until COMMIT or ROLLBACK. A thread that
        already holds a turn on another connection must not wait for itself: it falls back to
        SQLite's own busy timeout, as without the queue."""
        if not self.queue_path or getattr(_held_here, "turns", 0):
            return
        if getattr(self, "_queue_fd", None) is None:
            self._queue_fd = os.open(self.queue_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
        self._in_queue = True
        _held_here.turns = getattr(_held_here, "turns", 0) + 1

    def leave_queue(self) -> None:
        if getattr(self, "_in_queue", False):
            self._in_queue = False
            _held_here.turns -= 1
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_queue()

    def close(self) -> None:
        self.leave_queue()
        if getattr(self, "_queue_fd", None) is not None:
            os.close(self._queue_fd)
            self._queue_fd = None
        super().close()


def engine_options(database_url: str, request_threads: int = 8) -> dict:
    """Options for `create_engine`: on PostgreSQL, a pool as large as the requests that run at once;
    on a SQLite file, connections that queue their writers."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # Connections kept open per process: one per request that may run at once (request_gate.py),
        # one for the live hub and one spare. (The hot path's lone statements have a pool of their
        # own, as large: services.sql.lone_statement_engine.) With fewer (SQLAlchemy's default is 5),
        # a burst made the other threads open a connection of their own and close it after the
        # request: a PostgreSQL backend started and torn down per request, a third of the machine in
        # `make bench` (its "other" share fell from 30-46% to 11-15% with a pool of 10). At most 20 in
        # this pool per process unless more request threads are asked for; see docs/deploy.md.
        pool_size = request_threads + 2
        return {"pool_size": pool_size, "max_overflow": max(0, 20 - pool_size)}
    if not url.database or url.database == ":memory:":
        return {}
    queue_path = str(Path(url.database).with_name(Path(url.database).name + "-writers"))
    factory = type("QueuedWriterConnection", (QueuedWriterConnection,), {"queue_path": queue_path})
    return {"connect_args": {"factory": factory}}


def watch_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle (see `_ping_if_idle`)."""
    event.listen(engine.pool, "checkout", _ping_if_idle)
    event.listen(engine.pool, "checkin", _note_checkin)


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000) -> None:
    watch_idle_connections(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN instead of the driver's own implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",  # a confirmed signature survives a power cut
            f"busy_timeout={int(busy_timeout_ms)}",  # for writers outside the queue, and readers
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # a read outside any transaction (services.sql.read_first)
        if not _wants_write_lock():
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        queued = isinstance(dbapi_connection, QueuedWriterConnection)
        if queued:
            dbapi_connection.join_queue()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                dbapi_connection.leave_queue()
            raise


def end_session_quietly(session) -> None:
    """Close the context's session (registered as a teardown, so it runs before Flask-SQLAlchemy's
    own, which then has nothing left to do). Closing rolls back what the session left open; if the
    database ended its connection meanwhile (a restart, just after the page was made), that rollback
    fails with nothing to undo, and the finished response would have become a 500. The connection is
    discarded instead, and the next request gets a new session and a working connection."""
    try:
        session.remove()
    except SQLAlchemyError as error:
        reason = type(getattr(error, "orig", None) or error).__name__
        log.warning("database connection lost while closing a session: %s", reason)
        with contextlib.suppress(SQLAlchemyError):
            session.registry().invalidate()
        session.registry.clear()


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    """`pool_pre_ping` costs a round trip on every checkout, i.e. on every request. A connection in
    steady use is alive; only one that sat idle (where a database restart or a firewall may have
    cut it) is checked, and replaced if dead."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        if hasattr(dbapi_connection, "rollback") and not isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.rollback()  # psycopg opened a transaction for the SELECT
    except Exception as error:
        raise DisconnectionError("connection was dead after sitting idle") from error

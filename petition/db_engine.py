"""Engine settings that make SQLite safe to serve from: WAL, a busy timeout, fsync on commit, and
write transactions that take the write lock when they begin.

A plain deferred `BEGIN` that reads and then writes fails with "database is locked" whenever another
writer committed in between (WAL snapshots cannot be upgraded), and the busy timeout does not help.
So a request that may write (any method but GET/HEAD/OPTIONS), or code inside `write_intent()`, opens
its transactions with `BEGIN IMMEDIATE` and simply waits its turn.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@contextmanager
def write_intent() -> Iterator[None]:
    """Outside a request (CLI, mail worker): transactions opened in this block may write."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _wants_write_lock() -> bool:
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in _SAFE_METHODS


def configure_engine(engine: Engine) -> None:
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
            "busy_timeout=10000",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")

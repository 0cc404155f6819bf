"""Small portable SQL helpers for the two databases this service runs on."""

import weakref

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session


def upsert_insert(session: Session, model):
    """An INSERT that understands ON CONFLICT on both PostgreSQL and SQLite."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def typed_text(sql: str, **types) -> TextClause:
    """A `text()` statement whose named parameters get column types (so that datetimes are stored as
    the ORM stores them, in UTC, and bytes as bytes). Only the parameters the text uses are typed."""
    return text(sql).bindparams(*(bindparam(name, type_=kind) for name, kind in types.items() if f":{name}" in sql))


_autocommit_engines: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()


def _autocommit(session: Session) -> Engine:
    engine = session.get_bind()
    autocommit = _autocommit_engines.get(engine)
    if autocommit is None:
        autocommit = _autocommit_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return autocommit


def _first_alone(session: Session, statement, params: dict):
    """The first row of one statement run outside any transaction (each statement its own)."""
    with _autocommit(session).connect() as connection:
        return connection.execute(statement, params).first()


def read_first(session: Session, statement, params: dict):
    """One row, read outside any transaction. A read on the hot path (a confirmation page) that
    went through the request's session would cost a BEGIN and a ROLLBACK around it."""
    return _first_alone(session, statement, params)


def write_first(session: Session, statement, params: dict):
    """The first row a writing statement returns, the statement being a whole transaction by itself
    (PostgreSQL only: on SQLite, writers must take the write queue, see db_engine). The hot path's
    single-statement writes (a signature with its outbox row and tally, a confirmation with its
    counter) then cost one round trip instead of three (BEGIN, the statement, COMMIT), and skip the
    session's commit machinery; a statement is atomic on its own.

    When the session already has a transaction open, the statement joins it instead, so that what
    was written before it and what it writes still commit together, when the caller commits."""
    actual = session.registry() if isinstance(session, scoped_session) else session  # Flask-SQLAlchemy's
    if actual.in_transaction():
        return session.connection().execute(statement, params).first()
    return _first_alone(session, statement, params)

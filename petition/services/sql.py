"""Small portable SQL helpers for the two databases this service runs on."""

import threading
import weakref
from typing import NamedTuple

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import TextClause, bindparam, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from petition.db_engine import watch_idle_connections


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


def _autocommit(engine: Engine) -> Engine:
    autocommit = _autocommit_engines.get(engine)
    if autocommit is None:
        autocommit = _autocommit_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return autocommit


def _first_alone(session: Session, statement, params: dict):
    """The first row of one statement run outside any transaction (each statement its own)."""
    engine = session.get_bind()
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return _first_alone_on_driver(engine, statement, params)
    with _autocommit(engine).connect() as connection:
        return connection.execute(statement, params).first()


class _DriverForm(NamedTuple):
    sql: str  # in the driver's paramstyle, with the dialect's casts
    binds: tuple  # (name, the bound type's processor or None), as SQLAlchemy would apply them


# Compiled once per statement (the hot path's are module constants); a statement built per call
# would be compiled per call, and its form dropped with it.
_driver_forms: "weakref.WeakKeyDictionary[object, _DriverForm]" = weakref.WeakKeyDictionary()


def _driver_form(statement, dialect) -> _DriverForm:
    form = _driver_forms.get(statement)
    if form is None:
        compiled = statement.compile(dialect=dialect)
        binds = tuple(
            (name, bind.type.dialect_impl(dialect).bind_processor(dialect)) for name, bind in compiled.binds.items()
        )
        form = _driver_forms[statement] = _DriverForm(compiled.string, binds)
    return form


_lone_statement_engines: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()
_creating = threading.Lock()


def lone_statement_engine(engine: Engine) -> Engine:
    """The pool the hot path's lone statements run on (PostgreSQL): connections of their own, in
    autocommit from the start, as many as `engine` keeps. Sharing the request sessions' connections
    cost a planning of most hot statements: a session that read anything ends with a ROLLBACK when it
    closes, psycopg forgets (and deallocates) every statement prepared on that connection at each
    ROLLBACK, and each statement then ran five times unprepared and five more with custom plans
    before a plan was kept. About two plannings per signature under load (bench/README, "fifth
    session"). These connections never see a ROLLBACK, so each statement is prepared once per
    connection and keeps its generic plan. Disposed with `engine`."""
    lone = _lone_statement_engines.get(engine)
    if lone is None:
        with _creating:
            lone = _lone_statement_engines.get(engine)
            if lone is None:
                lone = create_engine(
                    engine.url,
                    isolation_level="AUTOCOMMIT",
                    pool_size=engine.pool.size(),
                    max_overflow=0,
                    pool_reset_on_return=None,  # nothing to reset: no transaction is ever open
                    hide_parameters=engine.hide_parameters,  # its errors are logged like the app engine's
                )
                watch_idle_connections(lone)
                event.listen(engine, "engine_disposed", lambda _engine, lone=lone: lone.dispose())
                _lone_statement_engines[engine] = lone
    return lone


def _first_alone_on_driver(engine: Engine, statement, params: dict):
    """`_first_alone` on PostgreSQL, straight through psycopg on a connection of
    `lone_statement_engine`: SQLAlchemy's Connection and Result cost about 0.15-0.2 ms of CPU per
    statement beyond the driver's own work (bench/README, "fifth session"), and this runs for every
    signature, confirmation page and confirmation. What SQLAlchemy would do is kept: the statement
    is compiled once by the dialect (casts, `%` escaping), bound values go through their types'
    processors, the pool's checkout events run, a connection found dead is invalidated with the
    pool's older ones, and errors arrive as SQLAlchemy's own exceptions (the 503 page for
    `OperationalError`). Rows are named tuples (`row.status`, `row._asdict()`), as SQLAlchemy's
    are; so the statement's columns need distinct names."""
    form = _driver_form(statement, engine.dialect)
    values = {name: (process(params[name]) if process else params[name]) for name, process in form.binds}
    lone = lone_statement_engine(engine)
    try:
        pooled = lone.raw_connection()
    except psycopg.Error as error:  # no connection to be had: the database is down or unreachable
        raise _wrapped(lone, form, values, error, dead=True) from error
    try:
        with pooled.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(form.sql, values)  # autocommit: one round trip, no BEGIN and COMMIT
            return cursor.fetchone()
    except psycopg.Error as error:
        dead = lone.dialect.is_disconnect(error, pooled.driver_connection, None)
        if dead:
            # What SQLAlchemy's own Connection does (this private method is what it calls): a database
            # restart ended every connection opened before this one too, so each is replaced at its
            # next checkout instead of failing one request (a 503) on its way out of the pool.
            lone.pool._invalidate(pooled, error)
        raise _wrapped(lone, form, values, error, dead=dead) from error
    except BaseException:
        # Stopped midway by something else (an interrupt): the connection's state is unknown, so it
        # is discarded, as SQLAlchemy does.
        pooled.invalidate()
        raise
    finally:
        pooled.close()  # back to the pool, or (invalidated) closed


def _wrapped(engine: Engine, form: _DriverForm, values: dict, error: psycopg.Error, dead: bool) -> DBAPIError:
    """The exception SQLAlchemy would have raised for `error` (OperationalError, IntegrityError, ...)."""
    return DBAPIError.instance(
        form.sql,
        values,
        error,
        psycopg.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=dead,
        dialect=engine.dialect,
    )


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

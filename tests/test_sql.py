"""The hot path's lone statements (services.sql.read_first and write_first), which on PostgreSQL go
straight through the driver on a pool of their own: what a failure leaves behind, that a connection
the database dropped is replaced, and that their prepared statements outlive the sessions' rollbacks."""

import psycopg
import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from petition.extensions import db
from petition.models import Petition
from petition.services.sql import lone_statement_engine, read_first, write_first


def _kill_backends(database_url: str, pids: list[int]) -> None:
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # returns once it has ended


@pytest.fixture
def one_connection(database_url):
    """An engine whose pool holds a single connection, so whatever one statement leaves on it, the
    next statement meets."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _title(app, petition_id: int) -> str:
    with app.app_context():
        return db.session.get(Petition, petition_id).title


def test_a_lone_statement_that_fails_leaves_the_next_transaction_whole(app, petition_id, one_connection):
    """Run outside any transaction, the statement's connection is in autocommit; if it went back to
    the pool that way after an error, the next transaction on it would commit statement by statement
    and a rollback would undo nothing."""
    title = _title(app, petition_id)
    with Session(one_connection) as session:
        for run in (read_first, write_first):
            with pytest.raises(DBAPIError):  # SQLAlchemy's own exception, as the error pages expect
                run(session, text("SELECT id FROM no_such_table WHERE id = :id"), {"id": 1})
            session.execute(update(Petition).values(title="Renamed, then rolled back"))
            session.rollback()
            assert _title(app, petition_id) == title
        row = read_first(session, text("SELECT id, title FROM petitions WHERE id = :id"), {"id": petition_id})
    assert (row.id, row.title) == (petition_id, title) and row._asdict() == {"id": petition_id, "title": title}


@pytest.mark.postgresql_only
def test_a_connection_the_database_dropped_is_replaced_not_reused(database_url, one_connection):
    with Session(one_connection) as session:
        backend = read_first(session, text("SELECT pg_backend_pid() AS pid"), {}).pid
        _kill_backends(database_url, [backend])
        with pytest.raises(OperationalError):  # the request that meets it answers 503
            read_first(session, text("SELECT 1 AS one"), {})
        # The next statement gets a new connection instead of the dead one back from the pool.
        assert read_first(session, text("SELECT pg_backend_pid() AS pid"), {}).pid != backend


@pytest.mark.postgresql_only
def test_after_a_database_restart_one_request_fails_not_one_per_pooled_connection(database_url):
    """A restart ends every pooled connection at once. The first statement to meet a dead one gets
    the error (the 503 page); the pool then replaces the others before they are used, as SQLAlchemy
    does for its own statements, instead of each failing one more signer on a confirmation link."""
    engine = create_engine(database_url, pool_size=5, max_overflow=0)
    try:
        lone = lone_statement_engine(engine)
        held = [lone.raw_connection() for _ in range(5)]  # five connections open and pooled
        backends = [c.driver_connection.info.backend_pid for c in held]
        for connection in held:
            connection.close()
        _kill_backends(database_url, backends)
        outcomes = []
        with Session(engine) as session:
            for _ in range(5):
                try:
                    outcomes.append(read_first(session, text("SELECT pg_backend_pid() AS pid"), {}).pid)
                except OperationalError:
                    outcomes.append("failed")
        assert outcomes[0] == "failed" and "failed" not in outcomes[1:] and not set(outcomes) & set(backends)
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_a_connection_dropped_after_the_page_was_made_does_not_turn_it_into_an_error(
    app, client, petition_id, database_url
):
    """The request's session still holds its connection (its transaction open) when the page is
    ready; the database may end that connection just then (a restart). Closing the session at the
    end of the request must not turn the finished page into a 500."""
    killed = []

    @app.after_request
    def drop_the_sessions_connection(response):
        if db.session.registry().in_transaction() and not killed:
            backend = db.session.connection().connection.driver_connection.info.backend_pid
            _kill_backends(database_url, [backend])
            killed.append(backend)
        return response

    page = client.get("/")  # the list of petitions: read through the request's session
    assert killed and page.status_code == 200 and "Ban biometric" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200  # and the next request gets a working connection


@pytest.mark.postgresql_only
def test_the_hot_statements_stay_prepared_when_a_session_rolls_back(database_url, one_connection):
    """psycopg deallocates every statement prepared on a connection at each ROLLBACK, and a request
    session that read anything ends with one. On the sessions' connections the hot statements were
    planned anew after each (bench/README, "fifth session"); on their own they stay prepared."""
    count_prepared = text("SELECT count(*) AS n FROM pg_prepared_statements")
    with Session(one_connection) as session:
        for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
            read_first(session, count_prepared, {})
        session.execute(text("SELECT title FROM petitions"))  # a request's read...
        session.rollback()  # ...ended as every session ends one: with ROLLBACK
        assert read_first(session, count_prepared, {}).n >= 1

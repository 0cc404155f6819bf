"""The hot path's lone statements (services.sql.read_first and write_first), which on PostgreSQL go
straight through the driver on a pooled connection: what a failure leaves behind for the next user
of that connection, and that a connection the database dropped is replaced."""

import psycopg
import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from petition.extensions import db
from petition.models import Petition
from petition.services.sql import read_first, write_first


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
        with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1)) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        with pytest.raises(OperationalError):  # the request that meets it answers 503
            read_first(session, text("SELECT 1 AS one"), {})
        # The next statement gets a new connection instead of the dead one back from the pool.
        assert read_first(session, text("SELECT pg_backend_pid() AS pid"), {}).pid != backend

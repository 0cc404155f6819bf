"""The database failing in the middle of a mail batch: what was sent is recorded, and the claims on
what was not are handed back as soon as the database takes writes again, so that no email waits out
a ten-minute lease and none goes out twice."""

import sqlite3
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from petition import create_app
from petition.extensions import db
from petition.mail.worker import MARK_EVERY, Mailer
from petition.models import MailStatus, OutboxMessage, Petition
from petition.services import signing
from petition.services.petitions import create_petition
from petition.timeutil import utcnow
from tests.conftest import base_config, migrate
from tests.helpers.fixtures import signer
from tests.test_mail import SmtpSink, addresses

MESSAGES = 2 * MARK_EVERY + 10  # the database fails after the first group is sent


def _queue(app, count: int, first: int = 0) -> None:
    with app.app_context():
        petition = db.session.scalar(select(Petition))
        for address in addresses(count)[first:]:
            signing.sign(db.session, petition, signer(address), now=utcnow())
        db.session.commit()


def _rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _deliver_through_a_fault(app, sink: SmtpSink, fail, recover) -> None:
    """One batch meets `fail()` after its first message; after `recover()` the same worker goes on."""
    failed = threading.Event()

    def on_message(count: int) -> None:
        if count == 1:
            fail()
            failed.set()

    sink.on_message = on_message
    now = utcnow()
    with app.app_context():
        mailer = Mailer(write_attempts=1)
        first = mailer.deliver_due(db.session, now, size=MESSAGES)
        assert failed.is_set() and first.sent == MARK_EVERY, "the batch stopped once the database refused"
        assert mailer.unsettled, "what it could not record, the worker keeps"
    recover()
    stuck = [row for row in _rows(app) if row.claimed_by is not None]
    assert len(stuck) == MESSAGES, "while the database refused, nothing could be recorded or handed back"
    with app.app_context():
        mailer.write_attempts = 3
        while mailer.deliver_due(db.session, now, size=MESSAGES).claimed or mailer.unsettled:
            pass  # the same moment: no lease had to run out
        mailer.close()


def _assert_each_sent_once(app, sink: SmtpSink) -> None:
    delivered = sorted(r.rcpt_tos[0] for r in sink.received)
    assert delivered == sorted(addresses(MESSAGES)), "every email went out, and none twice"
    rows = _rows(app)
    assert {row.status for row in rows} == {MailStatus.SENT}
    assert all(row.claimed_by is None for row in rows), "no claim is left behind"


@pytest.mark.sqlite_only
def test_a_foreign_writer_holding_sqlite_mid_batch_delays_nothing_by_a_lease(app_config, petition_id):
    app_config["SQLITE_BUSY_TIMEOUT_MS"] = 100
    app = create_app(app_config)
    _queue(app, MESSAGES)
    database = urlsplit(app_config["DATABASE_URL"]).path
    foreign = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    sink = SmtpSink()
    app.config["MAIL_URL"] = sink.url
    sink.start()
    try:
        # Another program takes SQLite's write lock outside our writers' queue, and keeps it.
        _deliver_through_a_fault(app, sink, lambda: foreign.execute("BEGIN IMMEDIATE"), foreign.commit)
        _assert_each_sent_once(app, sink)
    finally:
        sink.stop()
        foreign.close()


@pytest.mark.postgresql_only
def test_postgresql_stopping_mid_batch_delays_nothing_by_a_lease(private_postgres, tmp_path):
    migrate(private_postgres.url, tmp_path)
    app = create_app(base_config(private_postgres.url, tmp_path))
    with app.app_context():
        create_petition(db.session, slug="demo", title="T", now=utcnow())
        db.session.commit()
    _queue(app, MESSAGES)
    sink = SmtpSink()
    app.config["MAIL_URL"] = sink.url
    sink.start()
    try:
        _deliver_through_a_fault(app, sink, private_postgres.stop, private_postgres.start)
        _assert_each_sent_once(app, sink)
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgresql_only
def test_a_listening_worker_outlives_a_database_restart(private_postgres, tmp_path):
    """The worker sleeps on LISTEN; when PostgreSQL restarts under it, it listens again and the next
    signature's email still leaves at once."""
    from pathlib import Path

    from petition.mail.worker import serve

    migrate(private_postgres.url, tmp_path)
    app = create_app(base_config(private_postgres.url, tmp_path))
    with app.app_context():
        create_petition(db.session, slug="demo", title="T", now=utcnow())
        db.session.commit()
    outbox = Path(urlsplit(app.config["MAIL_URL"]).path)
    stop = threading.Event()

    def work():
        with app.app_context():
            serve(db.session, once=False, interval=60, stopping=stop.is_set)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        _queue(app, 1)
        _wait_for(lambda: len(list(outbox.glob("*.eml"))) == 1)
        private_postgres.stop()
        private_postgres.start()
        time.sleep(3)  # the worker notices, and listens again
        with app.app_context():
            db.engine.dispose()  # the app's own pooled connections died with the server too
        _queue(app, 2, first=1)
        _wait_for(lambda: len(list(outbox.glob("*.eml"))) == 2)
    finally:
        stop.set()
        _queue(app, 3, first=2)  # a NOTIFY ends its wait
        thread.join(30)
        with app.app_context():
            db.engine.dispose()


def _wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)

"""A mail worker killed (SIGKILL) in the middle of an update: nothing is sent twice, nothing is lost
but the one message each killed worker may have been handing to the mail server, which is counted
"in doubt". Real worker processes (`flask --app wsgi mail-worker`), a real SMTP server, PostgreSQL."""

import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from petition.extensions import db
from petition.models import Audience, CampaignUpdate, Petition, UpdateStatus
from petition.services import synthetic, updates
from petition.timeutil import utcnow
from tests.conftest import TEST_KEYS
from tests.helpers.servers import start_mail_worker, wait_for
from tests.test_mail import SmtpSink

RECIPIENTS = 300


def update_ids(sink: SmtpSink) -> list[str]:
    return [r.message["Message-ID"] for r in list(sink.received) if r.message["Message-ID"].startswith("<update-")]


def start_worker(database_url: str, sink: SmtpSink, tmp_path: Path) -> subprocess.Popen:
    env = {
        **{key: str(value) for key, value in TEST_KEYS.items()},
        "DATABASE_URL": database_url,
        "MAIL_URL": sink.url,
        "MAIL_FROM": "petitions@petitions.test",
        "BASE_URL": "http://petitions.test",
        # A killed worker's claims come back after 3 s instead of 5 minutes.
        "UPDATE_LEASE_SECONDS": "3",
    }
    return start_mail_worker(env, tmp_path / f"worker-{time.monotonic_ns()}.log", interval=0.05)


@pytest.mark.postgresql_only
def test_killed_workers_send_nothing_twice_and_lose_only_what_they_held_in_doubt(
    app, database_url, petition_id, tmp_path
):
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        synthetic.fill(db.session, petition, RECIPIENTS, 1.0, utcnow() - timedelta(days=1))
        db.session.commit()
        draft = updates.draft(db.session, petition, subject="News", body="Body", audience=Audience.ALL, now=utcnow())
        assert updates.start(db.session, draft, now=utcnow(), organiser=None) == RECIPIENTS
        db.session.commit()
        update_id = draft.id
    sink = SmtpSink()
    sink.on_message = lambda count: time.sleep(0.01)  # a mail server that takes its time: kills land mid-send
    sink.start()
    kills = 0
    try:
        for target in (60, 160):
            worker = start_worker(database_url, sink, tmp_path)
            wait_for(lambda t=target: len(sink.received) >= t, 60, f"{target} messages")  # only updates are sent
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
            kills += 1
        survivor = start_worker(database_url, sink, tmp_path)

        def finished() -> bool:
            with app.app_context():
                return db.session.get(CampaignUpdate, update_id).status == UpdateStatus.SENT

        wait_for(finished, 90, "the update to finish after the killed workers' leases ran out", every=0.2)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
    finally:
        sink.stop()

    received = update_ids(sink)
    with app.app_context():
        figures = updates.progress_of(db.session, db.session.get(CampaignUpdate, update_id))
    assert len(received) == len(set(received)), "no message was sent twice"
    assert figures.failed == 0 and figures.skipped == 0
    assert figures.sent + figures.in_doubt == RECIPIENTS, "every recipient is accounted for"
    assert figures.in_doubt <= kills, "at most the one message each killed worker had in hand"
    assert figures.sent <= len(received) <= figures.sent + figures.in_doubt, "what counts as sent arrived"
    assert len(received) >= RECIPIENTS - kills, "nothing lost beyond the messages in doubt"

"""Faults a real deployment meets: the database going away, a worker killed mid-burst, two recounts.

Each test attacks a running system and then checks what a signer or organiser would rely on: no
acknowledged signature lost, nothing half-written, no count off by one, and recovery without help."""

import http.client
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, text

from petition import create_app
from petition.extensions import db
from petition.models import OutboxMessage, Petition, Signature, SignatureStatus
from petition.services import counting, personal
from petition.services.petitions import create_petition
from petition.timeutil import utcnow
from tests.conftest import TEST_KEYS, base_config, form_token_of, migrate
from tests.helpers.fixtures import confirm_token, form_fields
from tests.helpers.servers import Gunicorn


def test_signing_while_postgresql_is_down_fails_cleanly_and_recovers_by_itself(private_postgres, tmp_path):
    migrate(private_postgres.url, tmp_path)
    app = create_app(base_config(private_postgres.url, tmp_path))
    with app.app_context():
        create_petition(db.session, slug="demo", title="T", now=utcnow())
        db.session.commit()
    token = form_token_of(app.test_client().get("/p/demo").get_data(as_text=True))
    statuses: dict[str, int] = {}

    def sign(address: str) -> None:
        response = app.test_client().post("/p/demo/sign", data=form_fields(email=address, form_token=token))
        statuses[address] = response.status_code
        if response.status_code == 503:
            assert "briefly unavailable" in response.get_data(as_text=True)

    def sign_many(prefix: str, count: int) -> None:
        for i in range(count):
            sign(f"{prefix}{i}@example.org")
            time.sleep(0.01)

    threads = [threading.Thread(target=sign_many, args=(f"t{n}-", 30)) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    private_postgres.stop()  # immediate: connections die mid-transaction
    time.sleep(0.5)
    down = app.test_client().get("/healthz")
    private_postgres.start()
    for thread in threads:
        thread.join()
    sign("after@example.org")  # the app was never restarted

    assert down.status_code == 503
    assert set(statuses.values()) <= {303, 503}, "no 500, whatever moment the database died"
    assert 503 in statuses.values() and statuses["after@example.org"] == 303
    with app.app_context():
        petition_id = db.session.scalar(select(Petition.id))
        stored = {s.email_hash: s.id for s in db.session.scalars(select(Signature))}
        mails = dict(
            db.session.execute(
                select(OutboxMessage.signature_id, func.count()).group_by(OutboxMessage.signature_id)
            ).all()
        )
        acknowledged = {a for a, code in statuses.items() if code == 303}
        hashes = {a: personal.email_hash(petition_id, a) for a in statuses}
        db.engine.dispose()
    assert {hashes[a] for a in acknowledged} <= set(stored), "every acknowledged signature was kept"
    assert all(mails.get(signature_id) == 1 for signature_id in stored.values()), "each with its email"
    # A commit that reached the server just before it died is kept though its answer was lost: at
    # most one per request in flight. Signing again is harmless (deduplicated).
    assert len(stored) - len(acknowledged) <= 4


def _post(base: str, path: str, body: dict | None = None) -> int | None:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        payload = urlencode(body or {})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, body=payload, headers=headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None  # the worker died under this request: not acknowledged
    finally:
        connection.close()


@pytest.mark.postgresql_only
def test_killing_a_worker_mid_burst_loses_no_acknowledged_confirmation(app, database_url, tmp_path):
    with app.app_context():
        petition = create_petition(db.session, slug="demo", title="T", now=utcnow())
        db.session.commit()
        ids = []
        for i in range(240):
            signature = Signature(
                petition_id=petition.id, status=SignatureStatus.PENDING, email_hash=f"{i:064d}",
                email_sealed=b"-", first_name_sealed=b"-", last_name_sealed=b"-", country=("DE", "FR", "PL")[i % 3],
            )  # fmt: skip
            db.session.add(signature)
            db.session.flush()
            ids.append(signature.id)
        db.session.commit()
        links = {signature_id: f"/confirm/{confirm_token(signature_id)}" for signature_id in ids}

    env = {**TEST_KEYS, "DATABASE_URL": database_url, "MAIL_URL": f"file://{tmp_path}/out", "COUNTER_SHARDS": "4"}
    server = Gunicorn(env, workers=2)
    results: dict[int, int | None] = {}
    try:
        killed = threading.Event()

        def confirm(signature_id: int) -> None:
            results[signature_id] = _post(server.base_url, links[signature_id])
            if len(results) == 80 and not killed.is_set():
                killed.set()
                os.kill(server.worker_pids()[0], signal.SIGKILL)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(confirm, ids))
        assert killed.is_set()
        # Whatever was not acknowledged is simply tried again, as a person would.
        for signature_id, status in list(results.items()):
            if status not in (200, 303):  # confirmed now (the thanks page), or found confirmed (a redirect)
                results[signature_id] = _post(server.base_url, links[signature_id])
    finally:
        server.stop()

    acknowledged = [sid for sid, status in results.items() if status in (200, 303)]
    assert len(acknowledged) == len(ids)
    with app.app_context():
        confirmed = set(
            db.session.scalars(select(Signature.id).where(Signature.status == SignatureStatus.CONFIRMED)).all()
        )
        assert set(acknowledged) <= confirmed
        petition = db.session.scalars(select(Petition)).one()
        assert counting.recount(db.session, petition, utcnow()) == [], "no drift after the crash"
        assert counting.read_counts(db.session, petition.id).total == len(ids)


@pytest.mark.postgresql_only
def test_two_recounts_at_once_correct_drift_exactly_once(app, petition_id, confirmed_signature):
    for i in range(6):
        confirmed_signature(petition_id, f"s{i}@example.org", "DE")
    with app.app_context():
        db.session.execute(text("UPDATE signature_counts SET count = count + 5 WHERE country = 'DE' AND count > 0"))
        db.session.commit()
        drifted = counting.read_counts(db.session, petition_id).by_country["DE"]
    assert drifted > 6

    barrier = threading.Barrier(2)

    def recount() -> list:
        with app.app_context():
            petition = db.session.get(Petition, petition_id)
            barrier.wait()
            return counting.recount(db.session, petition, utcnow())

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: recount(), range(2)))

    assert sorted(len(report) for report in reports) == [0, 1], "one recount corrects, the other finds nothing"
    with app.app_context():
        assert counting.read_counts(db.session, petition_id).by_country["DE"] == 6


@pytest.mark.postgresql_only
def test_recount_while_people_confirm_never_miscounts(app, petition_id, pending_signature):
    ids = [pending_signature(petition_id, f"r{i}@example.org", ("DE", "AT")[i % 2]) for i in range(120)]
    with app.app_context():
        tokens = [confirm_token(signature_id) for signature_id in ids]
    stop = threading.Event()

    def keep_recounting() -> int:
        corrections = 0
        with app.app_context():
            petition = db.session.get(Petition, petition_id)
            while not stop.is_set():
                corrections += len(counting.recount(db.session, petition, utcnow()))
        return corrections

    with ThreadPoolExecutor(max_workers=9) as pool:
        recounter = pool.submit(keep_recounting)
        list(pool.map(lambda token: app.test_client().post(f"/confirm/{token}"), tokens))
        stop.set()
        assert recounter.result() == 0, "recount never saw drift that was not there"

    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        assert counting.recount(db.session, petition, utcnow()) == []
        assert counting.read_counts(db.session, petition_id).total == 120

"""Live totals: the event stream a petition page listens to, and how a confirmation reaches it from
this process, from another process by polling, and from another process through Redis."""

import json
import time
import uuid

from petition import create_app
from petition.extensions import db


class Stream:
    """An open event stream, read as a browser's EventSource would."""

    def __init__(self, client, slug="demo"):
        self.response = client.get(f"/api/v1/petitions/{slug}/events", buffered=False)
        self.chunks = iter(self.response.response)

    def next_figures(self) -> dict | None:
        """The next event's figures, or None for a keep-alive."""
        for chunk in self.chunks:
            text = chunk.decode()
            if text.startswith("retry:"):
                continue
            data = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
            return json.loads(data[0]) if data else None
        raise AssertionError("the stream ended")

    def close(self):
        self.response.close()


def sign_and_confirm(client, outbox, email_address, country="DE"):
    from tests.conftest import form_token_of
    from tests.helpers.fixtures import form_fields

    page = client.get("/p/demo")
    fields = form_fields(email=email_address, country=country, form_token=form_token_of(page.get_data(as_text=True)))
    assert client.post("/p/demo/sign", data=fields).status_code == 303
    outbox.deliver()
    assert client.post(outbox.confirm_path(email_address)).status_code == 200


def test_the_stream_opens_with_the_same_figures_as_the_json_api(client, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    stream = Stream(client)
    try:
        assert stream.response.status_code == 200
        assert stream.response.mimetype == "text/event-stream"
        assert stream.response.headers["Access-Control-Allow-Origin"] == "*"
        assert stream.next_figures() == client.get("/api/v1/petitions/demo").json
    finally:
        stream.close()


def test_a_confirmation_reaches_open_streams_within_two_seconds(app, client, petition_id, outbox):
    streams = [Stream(client) for _ in range(3)]
    try:
        assert [s.next_figures()["total"] for s in streams] == [0, 0, 0]
        sign_and_confirm(client, outbox, "ana@example.org", "PL")
        confirmed_at = time.monotonic()
        for stream in streams:
            figures = stream.next_figures()
            assert figures["total"] == 1
            assert [c["count"] for c in figures["countries"] if c["code"] == "PL"] == [1]
        assert time.monotonic() - confirmed_at < 2
    finally:
        for stream in streams:
            stream.close()
    assert app.extensions["live"].hub.viewer_count() == 0, "closed streams give their place back"


def test_a_burst_of_confirmations_is_sent_as_few_events(client, petition_id, outbox):
    stream = Stream(client)
    try:
        stream.next_figures()
        for n in range(6):
            sign_and_confirm(client, outbox, f"signer{n}@example.org")
        totals = []
        while not totals or totals[-1] < 6:
            figures = stream.next_figures()
            assert figures is not None, "the last confirmation never arrived"
            totals.append(figures["total"])
        assert len(totals) <= 3, f"updates are coalesced to about one a second, got {totals}"
    finally:
        stream.close()


def test_confirmations_in_another_process_arrive_by_polling_without_redis(app, client, app_config, petition_id):
    other = create_app(dict(app_config))
    stream = Stream(client)
    try:
        assert stream.next_figures()["total"] == 0
        from tests.helpers.fixtures import Outbox

        sign_and_confirm(other.test_client(), Outbox(other), "ana@example.org")
        confirmed_at = time.monotonic()
        assert stream.next_figures()["total"] == 1
        assert time.monotonic() - confirmed_at < 2
    finally:
        stream.close()
        with other.app_context():
            db.engine.dispose()


def test_confirmations_in_another_process_arrive_through_redis(app_config, redis_url, make_petition, tmp_path):
    # Polling is slowed to an hour, so only Redis can bring the news in time.
    config = {**app_config, "REDIS_URL": redis_url, "LIVE_POLL_SECONDS": 3600, "LIVE_CHANNEL": uuid.uuid4().hex}
    watching, confirming = create_app(dict(config)), create_app(dict(config))
    with watching.app_context():
        from datetime import date

        from petition.services.petitions import create_petition
        from petition.timeutil import utcnow

        create_petition(db.session, slug="demo", title="T", now=utcnow(), registered_on=date(2026, 11, 26))
        db.session.commit()
    stream = Stream(watching.test_client())
    try:
        assert stream.next_figures()["total"] == 0
        time.sleep(0.3)  # let the subscriber thread subscribe
        from tests.helpers.fixtures import Outbox

        sign_and_confirm(confirming.test_client(), Outbox(confirming), "ana@example.org")
        confirmed_at = time.monotonic()
        assert stream.next_figures()["total"] == 1
        assert time.monotonic() - confirmed_at < 2
    finally:
        stream.close()
        for app in (watching, confirming):
            with app.app_context():
                db.engine.dispose()


def test_unknown_and_draft_petitions_have_no_stream(client, make_petition):
    make_petition(slug="secret", draft=True)
    for slug in ("secret", "nothing-here"):
        response = client.get(f"/api/v1/petitions/{slug}/events")
        assert response.status_code == 404
        assert response.json["error"] == "not_found"


def test_past_the_cap_a_viewer_is_told_to_poll_instead(app_config, petition_id):
    app = create_app({**app_config, "LIVE_MAX_STREAMS": 1})
    client = app.test_client()
    first = Stream(client)
    try:
        refused = client.get("/api/v1/petitions/demo/events")
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert client.get("/api/v1/petitions/demo").status_code == 200
    finally:
        first.close()
    again = Stream(client)
    assert again.response.status_code == 200, "a closed stream frees its place"
    again.close()
    with app.app_context():
        db.engine.dispose()


def test_the_petition_page_points_its_script_at_the_stream_and_the_json(client, petition_id):
    html = client.get("/p/demo").get_data(as_text=True)
    assert 'data-events-url="/api/v1/petitions/demo/events"' in html
    assert 'data-live-url="/api/v1/petitions/demo"' in html

"""GET /api/v1/petitions/<slug>/events: a petition's figures as Server-Sent Events.

Each event's data is the same JSON as GET /api/v1/petitions/<slug>. The first event comes at once;
later ones at most about once a second, only when the figures changed. A stream ends after
`LIVE_STREAM_SECONDS` (the browser reconnects by itself), which spreads viewers over processes again
and bounds how long a gone client can hold a thread.
"""

import time

from flask import Blueprint, Response, current_app

from petition.extensions import db
from petition.live.hub import Channel, Live
from petition.models import PetitionStatus
from petition.policy import for_blueprint
from petition.services.petitions import get_by_slug
from petition.timeutil import utcnow

bp = Blueprint("live", __name__, url_prefix="/api/v1")
for_blueprint(bp, json_errors=True, language_cookie=False)  # part of the JSON API

HEARTBEAT_SECONDS = 15.0


class EventStream:
    """The response body. A class with `close()` rather than a bare generator, because the server
    calls `close()` even on a stream that never started (HEAD, a client gone at once), and the
    viewer's place must be given back then too."""

    def __init__(self, live: Live, channel: Channel, seconds: float):
        self.live, self.channel, self.seconds = live, channel, seconds
        self.closed = False

    def __iter__(self):
        yield b"retry: 2000\n\n"
        version = 0
        deadline = time.monotonic() + self.seconds
        while (left := deadline - time.monotonic()) > 0:
            newer, event = self.channel.wait_newer(version, min(HEARTBEAT_SECONDS, left))
            if newer > version and event is not None:
                version = newer
                yield event
            else:
                # Keeps proxies from closing an idle stream, and finds clients that left.
                yield b": keep-alive\n\n"

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.live.hub.leave(self.channel)
            self.live.release()


@bp.get("/petitions/<slug>/events")
def petition_events(slug: str):
    petition = get_by_slug(db.session, slug)
    if petition is None or petition.status_at(utcnow()) == PetitionStatus.DRAFT:
        return {"error": "not_found", "message": "No such petition."}, 404
    petition_id = petition.id
    # Give the database connection back now: the stream may stay open for minutes.
    db.session.remove()
    live: Live = current_app.extensions["live"]
    if not live.admit():
        response = Response("Too many live viewers here; poll the JSON API instead.\n", 503, mimetype="text/plain")
        response.headers["Retry-After"] = "30"
        return response
    try:
        channel = live.hub.watch(petition_id)
    except BaseException:
        live.release()
        raise
    response = Response(
        EventStream(live, channel, current_app.config["LIVE_STREAM_SECONDS"]), mimetype="text/event-stream"
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on as it comes
    return response

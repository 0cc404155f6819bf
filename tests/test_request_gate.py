"""A burst of requests on one process: at most GUNICORN_THREADS of them run the app at once.

gunicorn gives each worker hundreds of threads (its request threads plus the live-update streams'
allowance), so without this bound a burst ran as many requests at once as it had connections, each
holding a database connection: past the pool, PostgreSQL started and tore down a backend per request.
Served over real HTTP from a threaded server, like the racing tests."""

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Response, stream_with_context
from sqlalchemy import event, text

from petition.extensions import db
from tests.helpers.live_server import LiveServer, request

TURNS = 3


class Meter:
    """How many requests are inside the app at once, at most."""

    def __init__(self):
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self._lock:
            self.now -= 1


@pytest.fixture
def app_config(app_config):
    app_config["GUNICORN_THREADS"] = TURNS
    return app_config


@pytest.fixture
def busy_app(app):
    """The app with two routes of its own: a request that holds a database connection for a moment
    (as a signature waiting on its commit does), and a stream that stays open until told to end."""
    meter = Meter()
    stream_may_end = threading.Event()

    def busy():
        with meter:
            db.session.execute(text("SELECT 1"))
            time.sleep(0.15)
        return "done"

    def stream():
        def body():
            yield "open\n"
            stream_may_end.wait(timeout=30)
            yield "end\n"

        return Response(stream_with_context(body()), mimetype="text/plain")

    app.add_url_rule("/test-busy", "test_busy", busy)
    app.add_url_rule("/test-stream", "test_stream", stream)
    app.extensions["test_meter"] = meter
    app.extensions["test_stream_may_end"] = stream_may_end
    return app


def connections_opened(app) -> list:
    opened = []
    with app.app_context():
        event.listen(db.engine.pool, "connect", lambda *_: opened.append(1))
    return opened


def test_a_burst_runs_at_most_the_configured_requests_at_once_and_answers_them_all(busy_app):
    opened = connections_opened(busy_app)
    with LiveServer(busy_app) as server, ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda _: request(server, "GET", "/test-busy"), range(12)))
    assert [reply.status for reply in replies] == [200] * 12
    assert busy_app.extensions["test_meter"].most == TURNS
    # One database connection per turn, kept in the pool; none opened and closed per request.
    assert len(opened) <= TURNS


def test_an_open_stream_does_not_hold_a_turn(busy_app):
    """Live-update streams (and CSV exports) send their body after the view returned: more streams
    than turns stay open while ordinary requests are still answered."""
    with LiveServer(busy_app) as server:
        streams = []
        try:
            for _ in range(TURNS + 2):
                connection = http.client.HTTPConnection("127.0.0.1", server.server.server_port, timeout=10)
                connection.request("GET", "/test-stream")
                response = connection.getresponse()
                assert response.readline() == b"open\n"
                streams.append((connection, response))
            started = time.monotonic()
            assert request(server, "GET", "/test-busy").status == 200
            assert time.monotonic() - started < 5
        finally:
            busy_app.extensions["test_stream_may_end"].set()
            for connection, response in streams:
                assert response.read() == b"end\n"
                connection.close()

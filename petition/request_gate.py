"""At most `REQUEST_THREADS` requests of a process run the app at once; the others wait their turn.

gunicorn's gthread worker hands every readable connection to a pool of `GUNICORN_THREADS +
LIVE_MAX_STREAMS` threads (gunicorn.conf.py), so the stream allowance, there so that viewers never
take signing's threads, also let ordinary requests run 32 or 58 at a time in one interpreter. Measured
in `make bench` (issue 11): each web worker then held up to 18 database connections at once, above its
pool of 10, and opened and closed a PostgreSQL backend for each request over that; that was most of
the 17-19 % "other" share of the cores, and it is gone with the gate.

The gate covers the call into the app, not the sending of a streamed body: a live-update stream or a
CSV export passes through it while its view runs, then streams outside it. So no route needs an
exception, and a stream never holds a turn.
"""

import threading
from collections.abc import Callable, Iterable


class RequestGate:
    """WSGI middleware: a bounded semaphore around the wrapped application's call."""

    def __init__(self, app: Callable, turns: int):
        self.app = app
        self._turns = threading.BoundedSemaphore(turns)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self._turns:
            return self.app(environ, start_response)

"""The app served over real HTTP on 127.0.0.1 (port 0) from a thread, for browsers and racing clients."""

import http.client
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import Flask
from werkzeug.serving import make_server


class LiveServer:
    """A threaded werkzeug server: every request gets its own thread, as under a real server.

    BASE_URL is pointed at the server, so links in emails lead back to it."""

    def __init__(self, app: Flask):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.host = f"127.0.0.1:{self.server.server_port}"
        app.config["BASE_URL"] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass(frozen=True)
class Reply:
    status: int
    location: str | None
    body: bytes


def request(server: LiveServer, method: str, path: str, form: dict | list | None = None) -> Reply:
    """One request on its own connection, redirects not followed: what a racing client sees."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        headers = {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.getheader("Location"), response.read())
    finally:
        connection.close()

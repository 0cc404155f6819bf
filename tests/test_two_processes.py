"""Two app servers on one PostgreSQL and one Redis, as on two machines: whichever process takes a
confirmation, both report the same counts, and live viewers on either see it.

(Rate limits shared through Redis are tested with the limits themselves: tests/test_abuse.py and
tests/test_partner_api.py.)"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_KEYS, form_token_of

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgresql_only


class Server:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on a free port, as production runs it."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0",
                 "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
            if match and "Booting worker" in log.read_text():
                self.port = int(match.group(1))
                return
            assert self.process.poll() is None, log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start: {log.read_text()}")

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers, data = {}, None
        if body is not None:
            from urllib.parse import urlencode

            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        return response.status, text

    def figures(self) -> dict:
        status, text = self.request("GET", "/api/v1/petitions/demo")
        assert status == 200
        return json.loads(text)

    def stream(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        connection.request("GET", "/api/v1/petitions/demo/events")
        response = connection.getresponse()
        assert response.status == 200
        return response

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def next_total(stream) -> int:
    """The total of the next event on an open stream (skipping the retry hint and keep-alives)."""
    while True:
        line = stream.fp.readline().decode()
        if line.startswith("data: "):
            return json.loads(line[len("data: ") :])["total"]


@pytest.fixture
def servers(app_config, redis_url, petition_id, tmp_path):
    env = {
        **os.environ,
        **TEST_KEYS,
        "DATABASE_URL": app_config["DATABASE_URL"],
        "REDIS_URL": redis_url,
        "LIVE_CHANNEL": uuid.uuid4().hex,
        "LIVE_POLL_SECONDS": "3600",  # only Redis can carry the news in time
        "MAIL_URL": app_config["MAIL_URL"],
        "BASE_URL": app_config["BASE_URL"],
        "MIN_FILL_SECONDS": "0",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "LIVE_MAX_STREAMS": "8",
    }
    started = [Server(env, tmp_path / f"gunicorn-{name}.log") for name in "ab"]
    yield started
    for server in started:
        server.stop()


def sign(server: Server, email_address: str, country: str = "DE") -> None:
    status, page = server.request("GET", "/p/demo")
    assert status == 200
    fields = {"first_name": "Ana", "last_name": "Kovač", "email": email_address, "country": country,
              "consent": "y", "eligible": "y", "form_token": form_token_of(page)}  # fmt: skip
    assert server.request("POST", "/p/demo/sign", fields)[0] == 303


def test_a_confirmation_through_one_process_shows_in_the_other(servers, outbox):
    a, b = servers
    stream = b.stream()
    assert next_total(stream) == 0
    sign(a, "ana@example.org", "PL")
    outbox.deliver()
    assert a.request("POST", outbox.confirm_path("ana@example.org"))[0] == 200
    confirmed_at = time.monotonic()
    assert next_total(stream) == 1
    assert time.monotonic() - confirmed_at < 2
    stream.close()
    assert a.figures() == b.figures()
    assert {c["code"]: c["count"] for c in b.figures()["countries"] if c["count"]} == {"PL": 1}


def test_counts_agree_when_both_processes_confirm_at_once(servers, outbox, runner):
    a, b = servers
    addresses = [f"signer{n}@example.org" for n in range(24)]
    for n, address in enumerate(addresses):
        sign(servers[n % 2], address, ("DE", "FR", "MT")[n % 3])
    outbox.deliver()
    paths = [outbox.confirm_path(address) for address in addresses]
    with ThreadPoolExecutor(8) as pool:
        # Every link pressed twice, once on each process, all at once: each still counts once.
        answers = list(pool.map(lambda job: job[0].request("POST", job[1])[0], [(s, p) for p in paths for s in (a, b)]))
    # Of each pair, one confirmed (the thanks page itself) and one found it done (a redirect to it).
    assert [sorted(answers[n : n + 2]) for n in range(0, len(answers), 2)] == [[200, 303]] * len(paths)
    deadline = time.monotonic() + 2
    while a.figures()["total"] != 24 or b.figures()["total"] != 24:
        assert time.monotonic() < deadline, (a.figures()["total"], b.figures()["total"])
        time.sleep(0.1)
    assert a.figures()["countries"] == b.figures()["countries"]
    assert "0 counter(s) corrected" in runner.invoke(args=["recount"]).output


def test_a_request_waiting_on_the_database_does_not_hold_up_the_others_in_its_process(servers, outbox, app_config):
    """A confirmation stuck behind a row lock holds one of its process's turns (request_gate.py) and
    one database connection, no more: the totals are still served by the same process meanwhile.
    (A worker whose database waits block the whole process, as gevent's would with a driver that is
    not cooperative, fails here.)"""
    a, _b = servers
    sign(a, "ana@example.org")
    outbox.deliver()
    path = outbox.confirm_path("ana@example.org")
    with psycopg.connect(app_config["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as holder:
        holder.execute("SELECT id FROM signatures FOR UPDATE")  # the confirmation will wait for this lock
        with ThreadPoolExecutor(1) as pool:
            confirming = pool.submit(a.request, "POST", path)
            time.sleep(0.5)
            started = time.monotonic()
            assert a.figures()["total"] == 0
            assert time.monotonic() - started < 2
            assert not confirming.done(), "the confirmation was still waiting for the lock"
            holder.rollback()
            assert confirming.result(timeout=10)[0] == 200
    deadline = time.monotonic() + 2  # the totals are cached for a second
    while a.figures()["total"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)

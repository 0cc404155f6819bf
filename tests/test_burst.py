"""A burst as a viral campaign brings it: many people signing at once through gunicorn with two
workers, a mail worker running beside them, and everyone's email arriving within seconds, on SQLite
as on PostgreSQL. Then everyone confirms at once, and the counts are exact."""

import email
import email.policy
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYS, form_token_of
from tests.helpers.fixtures import form_fields
from tests.helpers.servers import Gunicorn, start_mail_worker

SIGNERS = 60
ERRORS_IN_LOGS = re.compile(r"database is locked|OperationalError|Traceback|\[ERROR\]", re.IGNORECASE)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(url: str, fields: dict) -> int:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        return urllib.request.build_opener(_NoRedirect).open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def _sign(base_url: str, address: str, country: str) -> int:
    page = urllib.request.urlopen(f"{base_url}/p/demo", timeout=30).read().decode()
    fields = form_fields(email=address, country=country, form_token=form_token_of(page))
    return _post(f"{base_url}/p/demo/sign", fields)


def _all_at_once(work, items) -> list:
    start = threading.Barrier(len(items))
    results: list = [None] * len(items)

    def run(i, item):
        start.wait()
        try:
            results[i] = work(item)
        except Exception as error:  # reported by the assertions below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, item)) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _messages(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in folder.glob("*.eml")
        if not path.name.startswith(".")
    ]


@pytest.fixture
def burst_env(app_config, petition_id, tmp_path) -> dict[str, str]:
    return {
        **TEST_KEYS,
        "DATABASE_URL": app_config["DATABASE_URL"],
        "MAIL_URL": f"file://{tmp_path / 'burst-outbox'}",
        "BASE_URL": "http://petitions.test",
        "MIN_FILL_SECONDS": "0",
        "GUNICORN_THREADS": "8",
    }


def test_sixty_people_signing_at_once_all_get_their_email_within_20_seconds(app, burst_env, tmp_path, runner):
    outbox = tmp_path / "burst-outbox"
    server = Gunicorn(burst_env, workers=2)
    worker_log = tmp_path / "mail-worker.log"
    worker = start_mail_worker(burst_env, worker_log, interval=0.2)
    try:
        addresses = [f"burst{i}@example.org" for i in range(SIGNERS)]
        countries = ["DE", "FR", "IT", "ES", "PL", "RO"]
        signed_at = time.monotonic()
        codes = _all_at_once(lambda i: _sign(server.base_url, addresses[i], countries[i % 6]), list(range(SIGNERS)))
        assert codes == [303] * SIGNERS, codes

        deadline = signed_at + 20
        while len(_messages(outbox)) < SIGNERS and time.monotonic() < deadline:
            time.sleep(0.2)
        messages = _messages(outbox)
        assert sorted(m["To"] for m in messages) == sorted(addresses), "every signer got exactly one email in 20 s"

        links = [
            re.search(r"/confirm/[A-Za-z0-9._-]+", m.get_body(("plain",)).get_content()).group(0) for m in messages
        ]
        confirmed = _all_at_once(lambda link: _post(server.base_url + link, {}), links)
        assert confirmed == [200] * SIGNERS, confirmed  # each got its thanks page
        detail = urllib.request.urlopen(f"{server.base_url}/api/v1/petitions/demo", timeout=30).read().decode()
        assert '"total":60' in detail.replace(" ", "")
    finally:
        worker.terminate()
        worker.wait(10)
        logs = Path(server.log.name).read_text()
        server.stop()
    assert not ERRORS_IN_LOGS.search(logs), logs[-3000:]
    assert not ERRORS_IN_LOGS.search(worker_log.read_text()), worker_log.read_text()[-3000:]
    recount = runner.invoke(args=["recount"])
    assert recount.exit_code == 0 and "0 counter(s) corrected" in recount.output, recount.output

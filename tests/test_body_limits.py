"""Request bodies have a limit on every route: a huge form is refused at once with a short 413 (a page for
people, the API's JSON error document under /api/), before the body is read, and nothing is echoed or
stored; every legitimate form, the organisers' long petition texts and CSV uploads included, still works.
(tests/test_route_policy.py walks every POST route with a body over the default limit.)"""

import io
import socket
import time

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Petition, Signature
from tests.conftest import TEST_KEYS
from tests.helpers.servers import Gunicorn

HUGE = 60 * 1024 * 1024
MARKER = "ZZTOP"


def huge_form(size: int = HUGE) -> bytes:
    head = f"first_name={MARKER}".encode()
    return (
        head
        + b"x" * (size - len(head) - len(b"&last_name=K&email=a%40example.org&country=DE&consent=y"))
        + (b"&last_name=K&email=a%40example.org&country=DE&consent=y")
    )


def signatures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.mark.parametrize("path", ["/p/demo/sign", "/privacy/request", "/embed/demo/sign"])
def test_a_60_mb_form_is_refused_at_once_without_echoing_it(app, client, petition_id, path):
    body = huge_form()
    started = time.monotonic()
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    elapsed = time.monotonic() - started
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert len(page) < 20_000 and MARKER not in page
    assert "Too much data" in page and "nothing was recorded" in page
    assert elapsed < 2, f"{elapsed:.1f} s"
    assert signatures(app) == 0


def test_the_413_page_speaks_the_readers_language(client, petition_id):
    response = client.post(
        "/p/demo/sign?lang=de", data=huge_form(100_000), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert '<html lang="de"' in response.get_data(as_text=True)
    assert "Zu viele Daten" in response.get_data(as_text=True)


def test_the_api_answers_a_huge_body_with_its_json_error_document(client, petition_id, make_partner):
    _partner_id, key = make_partner()
    response = client.post(
        "/api/v1/petitions/demo/signatures",
        data=b'{"first_name": "' + b"x" * HUGE + b'"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 413
    assert response.json == {"error": "too_much_data", "status": 413}


def test_a_body_without_a_length_is_cut_off_when_read(app, client, petition_id):
    """Chunked: no Content-Length to refuse up front (the server marks the stream as ending by itself);
    reading stops one byte past the limit."""
    response = client.post(
        "/privacy/request",
        input_stream=io.BytesIO(huge_form(1024 * 1024)),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 413


def _first_answer_to_a_huge_post(base_url: str, path: str) -> tuple[bytes, float]:
    """Send the headers of a 60 MB form and only its first 64 KiB, then wait for an answer: a server that
    refuses up front answers now; one that reads the whole body never does."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        started = time.monotonic()
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {HUGE}\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode() + huge_form()[: 64 * 1024])
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                piece = sock.recv(65536)
                if not piece:
                    break
                answer += piece
        except TimeoutError:
            pass
        return answer, time.monotonic() - started


@pytest.mark.postgresql_only
def test_gunicorn_refuses_a_huge_post_before_it_arrives(app, petition_id, database_url, tmp_path):
    env = {**TEST_KEYS, "DATABASE_URL": database_url, "MAIL_URL": f"file://{tmp_path}/out", "MIN_FILL_SECONDS": "0"}
    server = Gunicorn(env, workers=1)
    try:
        for path in ("/p/demo/sign", "/privacy/request"):
            answer, elapsed = _first_answer_to_a_huge_post(server.base_url, path)
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
            assert elapsed < 5
    finally:
        server.stop()
    assert signatures(app) == 0


def test_an_organiser_saves_the_longest_petition_text_in_any_script(app, owner, petition_id):
    """100,000 characters of four-byte UTF-8 are 1.2 MB once percent-encoded: more than any public form
    may send, and within what the petition form declares."""
    text = "🗳" * 100_000
    page = owner.get("/organiser/p/demo/edit").get_data(as_text=True)
    assert page
    response = owner.post(
        "/organiser/p/demo/edit",
        {"title": "Ban biometric mass surveillance", "summary": "", "body": text, "rules": "eci",
         "registered_on": "2026-11-26"},
    )  # fmt: skip
    assert response.status_code in {200, 303}, response.status_code
    with app.app_context():
        assert db.session.get(Petition, petition_id).body_markdown == text
    too_long = owner.post("/organiser/p/demo/edit", {"title": "T", "body": text + "x", "rules": "eci"})
    assert too_long.status_code == 422 and "100,000" in too_long.get_data(as_text=True)


def test_the_organisers_larger_forms_still_have_a_limit(owner, petition_id):
    huge_text = owner.post("/organiser/p/demo/edit", {"title": "T", "body": "x" * (3 * 1024 * 1024)})
    assert huge_text.status_code == 413
    huge_file = owner.post(
        "/organiser/p/demo/paper/upload",
        {"file": (io.BytesIO(b"first_name,last_name,country\n" + b"A,B,DE\n" * 2_000_000), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert huge_file.status_code == 413
    assert "Too much data" in huge_file.get_data(as_text=True)

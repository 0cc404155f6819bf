"""Generic error pages: under a production-like configuration a crash shows a plain page (JSON under
/api), never a traceback, the exception's text or a debugger, and still carries the security headers."""

import pytest
from flask import abort
from sqlalchemy.exc import IntegrityError

from petition import create_app
from petition.extensions import db

SECRET_DETAIL = "internal detail 7f3a9: do not show"


@pytest.fixture
def production_app(app_config, monkeypatch):
    """As `gunicorn wsgi:app` builds it: no TESTING, no FLASK_DEBUG. Test-only routes that fail in
    several ways are added to this app alone; production code has none."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = {key: value for key, value in app_config.items() if key != "TESTING"}
    app = create_app(config)

    def crash():
        raise RuntimeError(SECRET_DETAIL)

    def database_crash():
        raise IntegrityError("INSERT INTO signatures ...", {"email": SECRET_DETAIL}, Exception(SECRET_DETAIL))

    def bad_request():
        abort(400)

    for path, view in [("/crash", crash), ("/api/v1/crash", crash), ("/crash/db", database_crash),
                       ("/crash/400", bad_request)]:  # fmt: skip
        app.add_url_rule(path, view.__name__ + path.replace("/", "_"), view)
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_generic(response, status: int) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status
    for leak in (SECRET_DETAIL, "Traceback", "RuntimeError", "IntegrityError", 'File "', "werkzeug", "__debugger__",
                 "INSERT INTO"):  # fmt: skip
        assert leak not in body, f"the error page shows {leak!r}"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return body


def test_the_production_configuration_is_not_in_debug_mode(production_app):
    assert production_app.debug is False
    assert production_app.testing is False
    assert not production_app.config.get("PROPAGATE_EXCEPTIONS")


def test_a_crash_shows_a_generic_page_without_a_traceback(production_app):
    body = assert_generic(production_app.test_client().get("/crash"), 500)
    assert "Something went wrong" in body and "Nothing you sent was recorded" in body
    assert "text/html" in production_app.test_client().get("/crash").content_type


def test_a_crash_under_the_api_answers_generic_json(production_app):
    response = production_app.test_client().get("/api/v1/crash")
    assert_generic(response, 500)
    assert response.json == {"error": "error", "status": 500}


def test_a_database_error_shows_the_same_generic_page(production_app):
    body = assert_generic(production_app.test_client().get("/crash/db"), 500)
    assert "Something went wrong" in body


def test_client_errors_show_generic_pages_too(production_app):
    client = production_app.test_client()
    assert "Page not found" in assert_generic(client.get("/no/such/page"), 404)
    assert_generic(client.get("/crash/400"), 400)
    assert_generic(client.delete("/p/demo"), 405)
    assert_generic(client.post("/api/v1/petitions/demo/signatures", data=b"\xff", content_type="application/json"), 401)


def test_the_judge_would_see_a_traceback(app_config, monkeypatch):
    """Guards the tests above: in debug mode the same crash does reach the client (Flask re-raises it),
    so their configuration is what keeps it hidden."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({key: value for key, value in app_config.items() if key != "TESTING"})
    app.add_url_rule("/crash", "crash", lambda: 1 / 0)
    assert app.debug is True
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/crash")
    with app.app_context():
        db.engine.dispose()

"""Error pages: JSON under /api, a plain generic page for people; never a traceback."""

from flask import Flask, make_response, render_template
from flask_babel import gettext
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from petition import policy
from petition.extensions import db


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where shown (JSON error codes stay English)."""
    return message


_TITLES = {
    400: N_("This request could not be understood"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    413: N_("Too much data"),
    429: N_("Too many requests"),
    503: N_("Temporarily unavailable"),
}
_OTHER_TITLE = N_("Error")


def _wants_json() -> bool:
    return policy.current().json_errors


def _render(status: int, description: str | None = None):
    if _wants_json():
        return {"error": _TITLES.get(status, "error").lower().replace(" ", "_"), "status": status}, status
    return render_template(
        "errors/error.html", status=status, title=gettext(_TITLES.get(status, _OTHER_TITLE)), kind=description
    ), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        body, status = _render(error.code or 500, error.description if error.code == 400 else None)
        retry_after = getattr(error, "retry_after", None)
        if retry_after and isinstance(body, dict):
            body["retry_after"] = int(retry_after)  # API clients get the wait in the body too
        response = make_response(body, status)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # The database is down or unreachable: say so plainly; the pool reconnects when it is back.
        db.session.rollback()
        app.logger.warning("database unavailable: %s", type(error.orig).__name__)
        return _render(503)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error):
        db.session.rollback()
        app.logger.exception("database error")
        return _render(500)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        return _render(500)

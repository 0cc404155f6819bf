"""Who is logged in: Flask-Login backed by server-side login sessions (petition.services.organiser_sessions).

The cookie's user id is the login's random token, not the organiser's id (Flask-Login's "alternative
token"), so ending the login on the server ends it everywhere that cookie was copied.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import UserMixin
from sqlalchemy import update

from petition import policy
from petition.db_engine import write_intent
from petition.extensions import db, login_manager
from petition.models import Organiser, OrganiserSession
from petition.services import organiser_sessions
from petition.timeutil import utcnow

# Requests a page makes by itself (the dashboard's refresh, declared `@passive`) check the login but do
# not count as the organiser being there: a dashboard left open still logs out after the idle time.


class OrganiserLogin(UserMixin):
    def __init__(self, organiser: Organiser, token: str):
        self.organiser = organiser
        self.token = token

    @property
    def id(self) -> int:
        return self.organiser.id

    @property
    def email(self) -> str:
        return self.organiser.email

    def get_id(self) -> str:
        return self.token


def idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["ORGANISER_IDLE_MINUTES"])


def absolute_timeout() -> timedelta:
    return timedelta(hours=current_app.config["ORGANISER_SESSION_HOURS"])


def load_login(token: str) -> OrganiserLogin | None:
    now = utcnow()
    login = organiser_sessions.find(db.session, token, now, idle_timeout(), absolute_timeout())
    if login is None:
        return None
    if not policy.current().passive and organiser_sessions.needs_touch(login, now):
        _touch(login.token_hash)
    return OrganiserLogin(login.organiser, token)


def _touch(token_hash: str) -> None:
    """On its own connection and write transaction: this request may only be reading, and on SQLite a
    read transaction cannot safely turn into a write one."""
    with write_intent(), db.engine.begin() as connection:
        connection.execute(
            update(OrganiserSession).where(OrganiserSession.token_hash == token_hash).values(last_seen_at=utcnow())
        )


def safe_next(target: str | None) -> str | None:
    """Only a path on this site; never another host, a scheme, or `//host`. Browsers drop tabs and
    newlines inside a URL and read a backslash as a slash, so `/<tab>/host` and `/<backslash>host` are
    other hosts to them: any control character, space or backslash refuses the address (a newline
    would also break the Location header)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch == "\\" or ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def unauthorized():
    if policy.current().passive:
        return {"error": "login_required"}, 401
    expired = "_user_id" in session
    session.pop("_user_id", None)
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("organiser.login", next=target, expired=1 if expired else None), code=303)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_login)
    login_manager.unauthorized_handler(unauthorized)
    # "basic" only marks a session non-fresh when the browser changes; ours is checked on the server.
    login_manager.session_protection = "basic"

"""Organiser logins kept on the server: begun at login, ended by logout or by the idle or absolute timeout.

The cookie carries a random token; the table keeps its SHA-256. A stolen cookie stops working at
logout, and the timeouts do not depend on anything the browser says.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from petition.models import Organiser, OrganiserSession

# Writing `last_seen_at` on every request would turn each page view into a write; a minute is precise
# enough for an idle timeout counted in tens of minutes.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(session: Session, organiser: Organiser, now: datetime) -> str:
    """A new login for `organiser`; returns the token for the cookie. The caller commits."""
    token = secrets.token_urlsafe(32)
    session.add(
        OrganiserSession(token_hash=_digest(token), organiser_id=organiser.id, created_at=now, last_seen_at=now)
    )
    return token


def find(session: Session, token: str, now: datetime, idle: timedelta, absolute: timedelta) -> OrganiserSession | None:
    """The live login for `token`, or None when it is unknown, ended, idle too long or too old."""
    if not token or len(token) > 100:
        return None
    login = session.get(OrganiserSession, _digest(token))
    if login is None or now - login.last_seen_at > idle or now - login.created_at > absolute:
        return None
    return login


def needs_touch(login: OrganiserSession, now: datetime) -> bool:
    return now - login.last_seen_at >= TOUCH_EVERY


def touch(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(OrganiserSession)
        .where(OrganiserSession.token_hash == token_hash)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end(session: Session, token: str) -> None:
    session.execute(delete(OrganiserSession).where(OrganiserSession.token_hash == _digest(token)))


def end_all(session: Session, organiser_id: int) -> None:
    """Every login of one organiser, e.g. when their password changes."""
    session.execute(delete(OrganiserSession).where(OrganiserSession.organiser_id == organiser_id))


def delete_expired(session: Session, now: datetime, idle: timedelta, absolute: timedelta) -> int:
    return session.execute(
        delete(OrganiserSession).where(
            or_(OrganiserSession.last_seen_at < now - idle, OrganiserSession.created_at < now - absolute)
        )
    ).rowcount

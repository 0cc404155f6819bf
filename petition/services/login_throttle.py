"""Throttling failed logins per account and per client address, in the database so that every worker
process and machine sees the same count.

An account is keyed by a keyed hash of the address typed (whether or not such an account exists, so
the throttle does not reveal which do), a client by `personal.ip_hash`. Attempts refused while
throttled are not recorded: a lock-out ends on time however often someone keeps knocking.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from petition.models import LoginFailure
from petition.services import personal


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    window: timedelta


def keys_for(email: str, ip: str | None, limits: Limits) -> list[tuple[str, int]]:
    keys = [(f"account:{personal.login_key(email)}", limits.per_account)]
    address = personal.ip_hash(ip)
    if address:
        keys.append((f"ip:{address}", limits.per_address))
    return keys


def retry_after(session: Session, keys: list[tuple[str, int]], window: timedelta, now: datetime) -> int | None:
    """Seconds until a login may be tried again, or None when it may be tried now."""
    waits = []
    for key, limit in keys:
        recent = session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.key == key, LoginFailure.failed_at > now - window)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            # Allowed again once the oldest of the last `limit` failures leaves the window.
            waits.append((recent[-1] + window - now).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else None


def record_failure(session: Session, keys: list[tuple[str, int]], window: timedelta, now: datetime) -> None:
    names = [key for key, _ in keys]
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(names), LoginFailure.failed_at <= now - window))
    session.add_all(LoginFailure(key=key, failed_at=now) for key in names)


def forget_account(session: Session, keys: list[tuple[str, int]]) -> None:
    """After a successful login the account's count starts again; the address's count stays."""
    names = [key for key, _ in keys if key.startswith("account:")]
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(names)))


def delete_stale(session: Session, window: timedelta, now: datetime) -> int:
    return session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - window)).rowcount

"""Throttling failed logins per account and per client address, in the database so that every worker
process and machine sees the same count.

An account is keyed by a keyed hash of the address typed (whether or not such an account exists, so
the throttle does not reveal which do), a client by `personal.ip_hash`. Attempts refused while
throttled are not recorded: a lock-out ends on time however often someone keeps knocking.

A login first takes an attempt (`take_attempt`): checking that every key still has room and recording
the attempt as a failure is one step, with the keys locked, committed before the password is hashed.
Checking first and recording after the hash let 40 parallel guesses all pass a limit of 5. A right
password then gives the attempt back (`succeeded`).
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
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


@dataclass(frozen=True)
class Attempt:
    """A login attempt taken against the limits: either `retry_after` seconds to wait (nothing was
    recorded), or the failure rows recorded for it, to give back if the password is right."""

    retry_after: int | None
    failure_ids: tuple[int, ...] = ()


def take_attempt(session: Session, keys: list[tuple[str, int]], window: timedelta, now: datetime) -> Attempt:
    """Checks every key's limit and records this attempt as a failure of each, as one step: the keys
    are locked for the rest of the transaction, which the caller commits before checking the password.
    (PostgreSQL: transaction-scoped advisory locks, taken in one order; SQLite: a request that may
    write holds the database's write lock from its first statement, petition.db_engine.)"""
    _lock(session, sorted(key for key, _ in keys))
    wait = retry_after(session, keys, window, now)
    if wait is not None:
        return Attempt(wait)
    names = [key for key, _ in keys]
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(names), LoginFailure.failed_at <= now - window))
    failures = [LoginFailure(key=key, failed_at=now) for key in names]
    session.add_all(failures)
    session.flush()
    return Attempt(None, tuple(f.id for f in failures))


def _lock(session: Session, names: list[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in names:
        lock_id = int.from_bytes(hashlib.sha256(f"login-throttle:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(lock_id)))


def succeeded(session: Session, keys: list[tuple[str, int]], attempt: Attempt) -> None:
    """The password was right: the attempt was no failure, and the account's count starts again (the
    address's earlier failures stay)."""
    accounts = [key for key, _ in keys if key.startswith("account:")]
    session.execute(
        delete(LoginFailure).where(LoginFailure.key.in_(accounts) | LoginFailure.id.in_(attempt.failure_ids))
    )


def delete_stale(session: Session, window: timedelta, now: datetime) -> int:
    return session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - window)).rowcount

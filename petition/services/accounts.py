"""Organiser accounts: creation, argon2id password hashes, checking a login, invited accounts."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import Membership, Organiser, Petition, Role

MIN_PASSWORD_LENGTH = 12
# The password hash of an account created by invitation, before its owner chose a password: no
# password verifies against it.
NO_PASSWORD = "!invited"  # noqa: S105 - a marker, not a password


@cache
def _hasher_for(cheap: bool) -> PasswordHasher:
    # Tests set ARGON2_CHEAP so that hashing takes microseconds; production keeps the library defaults
    # (argon2id, 64 MiB, 3 passes).
    if cheap:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def _hasher() -> PasswordHasher:
    return _hasher_for(bool(current_app.config.get("ARGON2_CHEAP")))


@cache
def _dummy_hash(cheap: bool) -> str:
    return _hasher_for(cheap).hash("not a password anyone has")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1000:
        raise ValueError("The password must have at most 1,000 characters.")


def find_organiser(session: Session, email: str) -> Organiser | None:
    # No stored address has control characters; PostgreSQL would refuse a NUL even in a query.
    if any(ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF for ch in email):
        return None
    return session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))


def create_organiser(session: Session, email: str, password: str | None) -> Organiser:
    """`password=None` creates an invited account that cannot log in until a password is set."""
    if password is not None:
        check_password_rules(password)
    if "@" not in email:
        raise ValueError("That is not an email address.")
    organiser = Organiser(
        email=email.strip().lower(), password_hash=NO_PASSWORD if password is None else hash_password(password)
    )
    session.add(organiser)
    return organiser


def has_password(organiser: Organiser) -> bool:
    return organiser.password_hash != NO_PASSWORD


def authenticate(session: Session, email: str, password: str) -> Organiser | None:
    """The organiser when the address and password match, else None. An unknown address costs the
    same hashing time as a wrong password, so timing does not tell which accounts exist."""
    organiser = find_organiser(session, email) if len(email) <= 254 else None
    if organiser is None:
        verify_password(_dummy_hash(bool(current_app.config.get("ARGON2_CHEAP"))), password)
        return None
    if not verify_password(organiser.password_hash, password):
        return None
    if _hasher().check_needs_rehash(organiser.password_hash):
        organiser.password_hash = hash_password(password)
    return organiser


def grant(session: Session, organiser: Organiser, petition: Petition, role: Role) -> None:
    membership = session.get(Membership, (organiser.id, petition.id))
    if membership is None:
        session.add(Membership(organiser_id=organiser.id, petition_id=petition.id, role=role))
    else:
        membership.role = role

"""Organiser accounts: creation and argon2id password hashes."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import Membership, Organiser, Petition, Role

MIN_PASSWORD_LENGTH = 12


def _hasher() -> PasswordHasher:
    # Tests set ARGON2_CHEAP so that hashing takes microseconds; production keeps the library defaults.
    if current_app.config.get("ARGON2_CHEAP"):
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_organiser(session: Session, email: str) -> Organiser | None:
    return session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))


def create_organiser(session: Session, email: str, password: str) -> Organiser:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if "@" not in email:
        raise ValueError("That is not an email address.")
    organiser = Organiser(email=email.strip().lower(), password_hash=hash_password(password))
    session.add(organiser)
    return organiser


def grant(session: Session, organiser: Organiser, petition: Petition, role: Role) -> None:
    membership = session.get(Membership, (organiser.id, petition.id))
    if membership is None:
        session.add(Membership(organiser_id=organiser.id, petition_id=petition.id, role=role))
    else:
        membership.role = role

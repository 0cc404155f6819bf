"""Who runs a petition: owners add organisers by email (inviting those without an account) and
remove them; an invited organiser chooses a password through a link sent by email."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from petition.models import MailKind, Membership, Organiser, Petition, Role
from petition.services import accounts, notifying
from petition.services.signer_fields import FieldInvalid, clean_email

_INVITE_SALT = "organiser-invite"
INVITE_DAYS = 7


class TeamChangeRefused(ValueError):
    pass


@dataclass(frozen=True)
class Member:
    organiser_id: int
    email: str
    role: Role
    has_password: bool


def members_of(session: Session, petition_id: int) -> list[Member]:
    rows = session.execute(
        select(Organiser, Membership.role)
        .join(Membership, Membership.organiser_id == Organiser.id)
        .where(Membership.petition_id == petition_id)
        .order_by(Organiser.email)
    ).all()
    return [Member(o.id, o.email, role, accounts.has_password(o)) for o, role in rows]


def add_member(session: Session, petition: Petition, email: str, role: Role, now: datetime) -> Organiser:
    """Give the person with this address `role` on the petition, creating an invited account when
    they have none, and tell them by email. The caller commits. Raises TeamChangeRefused."""
    try:
        address, _local, _domain = clean_email(email)
    except FieldInvalid as error:
        raise TeamChangeRefused("Please enter a valid email address.") from error
    organiser = accounts.find_organiser(session, address)
    if organiser is None:
        organiser = accounts.create_organiser(session, address, None)
        session.flush()
    existing = session.get(Membership, (organiser.id, petition.id))
    if existing is not None and existing.role == Role.OWNER and role != Role.OWNER:
        _refuse_if_last_owner(session, petition.id)
    accounts.grant(session, organiser, petition, role)
    if existing is None:
        notifying.notify_organiser(session, petition.id, organiser.id, MailKind.ORGANISER_ADDED, now, role.value)
    return organiser


def remove_member(session: Session, petition: Petition, organiser_id: int) -> None:
    membership = session.get(Membership, (organiser_id, petition.id))
    if membership is None:
        return
    if membership.role == Role.OWNER:
        _refuse_if_last_owner(session, petition.id)
    session.delete(membership)


def _refuse_if_last_owner(session: Session, petition_id: int) -> None:
    owners = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.petition_id == petition_id, Membership.role == Role.OWNER)
    )
    if owners <= 1:
        raise TeamChangeRefused("A petition needs at least one owner: make someone else owner first.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_INVITE_SALT)


def _fingerprint(organiser: Organiser) -> str:
    # Changes when the password is set, so a link works once.
    return hashlib.sha256(organiser.password_hash.encode()).hexdigest()[:16]


def make_invite_token(organiser: Organiser) -> str:
    return _serializer().dumps({"o": organiser.id, "f": _fingerprint(organiser)})


class InviteState(StrEnum):
    OPEN = "open"  # the account still has no password: the link may choose one
    USED = "used"  # a password was chosen through it (or another of the account's links)
    INVALID = "invalid"  # tampered with, expired, or its account is gone


def read_invite(session: Session, token: str) -> tuple[InviteState, Organiser | None]:
    """The invited organiser and whether the link may still choose a password. A used link is told
    apart from a bad one so that its page can say so: a person who did not use it learns that someone
    else did."""
    try:
        payload = _serializer().loads(token, max_age=INVITE_DAYS * 24 * 3600)
    except BadData:
        return InviteState.INVALID, None
    if not isinstance(payload, dict) or not isinstance(payload.get("o"), int):
        return InviteState.INVALID, None
    organiser = session.get(Organiser, payload["o"])
    if organiser is None:
        return InviteState.INVALID, None
    if accounts.has_password(organiser) or payload.get("f") != _fingerprint(organiser):
        return InviteState.USED, None
    return InviteState.OPEN, organiser


def accept_invite(session: Session, organiser: Organiser, password: str) -> bool:
    """Sets the password chosen through an invitation, once: the update applies only while the account
    has no password, so of two requests racing with the same link exactly one wins, and a replay
    changes nothing. False when the link was used meanwhile. Raises ValueError for a weak password."""
    accounts.check_password_rules(password)
    chosen = session.execute(
        update(Organiser)
        .where(Organiser.id == organiser.id, Organiser.password_hash == accounts.NO_PASSWORD)
        .values(password_hash=accounts.hash_password(password))
    )
    return chosen.rowcount == 1

"""Managing partners: creating them, their keys, origins and petitions; finding them by key or id.

Every function takes a Session and plain values and leaves committing to the caller, so the CLI and
the organiser dashboard share one set of rules."""

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import Membership, Partner, PartnerOrigin, PartnerPetition, Petition, Role

KEY_PREFIX = "ptk_"
NAME_MAX = 200
# Origins end up in a Content-Security-Policy header: only this exact shape may go there.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::[0-9]{{1,5}})?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Public ids are `secrets.token_hex(6)`; anything else in a URL names no partner (and a NUL would
# make PostgreSQL refuse the query).
_PUBLIC_ID = re.compile(r"[0-9A-Za-z_-]{1,16}\Z")


class PartnerInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class NewKey:
    partner: Partner
    key: str  # shown once; only its hash is stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hash_key(key), key[: len(KEY_PREFIX) + 6]


def normalise_origin(url: str) -> str:
    """`HTTPS://NGO.example:443/page` -> `https://ngo.example`. Raises ValueError for anything that is
    not an http(s) address of a host (paths are dropped: framing is allowed per origin, not per page)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError as error:
        raise ValueError(f"'{url}' is not a web address.") from error
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise ValueError(f"'{url}' is not an http:// or https:// address of a site.")
    try:
        host = host.encode("idna").decode("ascii") if ":" not in host else f"[{host}]"
    except UnicodeError as error:
        raise ValueError(f"'{url}' has a host name that cannot be used.") from error
    origin = f"{scheme}://{host.lower()}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    if not _ORIGIN.match(origin) or len(origin) > 255:
        raise ValueError(f"'{url}' is not an http:// or https:// address of a site.")
    return origin


def _is_invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch == "\ufffd" or category in {"Cc", "Cs", "Co", "Cn"} or (category == "Cf" and ch not in "\u200c\u200d")


def create_partner(
    session: Session, *, name: str, origins: list[str], petitions: list[Petition], now: datetime
) -> NewKey:
    """Validate and add a partner (the caller commits). Raises PartnerInvalid."""
    errors: dict[str, str] = {}
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not 1 <= len(name) <= NAME_MAX:
        errors["name"] = f"The name must be 1 to {NAME_MAX} characters."
    elif any(_is_invisible(ch) for ch in name):
        # Names end up in pages, the CLI's output and PostgreSQL (which refuses NUL).
        errors["name"] = "The name may not contain invisible or control characters."
    cleaned: list[str] = []
    for url in origins:
        try:
            cleaned.append(normalise_origin(url))
        except ValueError as error:
            errors["origin"] = str(error)
    if not cleaned and "origin" not in errors:
        errors["origin"] = "Give at least one site address (origin) the widget will be shown on."
    if errors:
        raise PartnerInvalid(errors)
    key, digest, hint = _new_key()
    partner = Partner(
        public_id=secrets.token_hex(6),
        name=name,
        key_hash=digest,
        key_hint=hint,
        created_at=now,
        origins=[PartnerOrigin(origin=o) for o in dict.fromkeys(cleaned)],
        petition_links=[PartnerPetition(petition_id=p.id, created_at=now) for p in dict.fromkeys(petitions)],
    )
    session.add(partner)
    return NewKey(partner, key)


def rotate_key(session: Session, partner: Partner, now: datetime) -> NewKey:
    """A new key; the old one stops working at once (the caller commits)."""
    key, digest, hint = _new_key()
    partner.key_hash, partner.key_hint, partner.key_rotated_at = digest, hint, now
    return NewKey(partner, key)


def revoke(session: Session, partner: Partner, now: datetime) -> None:
    """The key stops working and the widget stops loading on the partner's sites; the signatures it
    brought in stay counted and credited."""
    if partner.revoked_at is None:
        partner.revoked_at = now


def add_origin(session: Session, partner: Partner, url: str) -> str:
    origin = normalise_origin(url)
    if origin not in {o.origin for o in partner.origins}:
        partner.origins.append(PartnerOrigin(origin=origin))
    return origin


def remove_origin(session: Session, partner: Partner, url: str) -> bool:
    origin = normalise_origin(url)
    for row in partner.origins:
        if row.origin == origin:
            partner.origins.remove(row)
            return True
    return False


def allow_petition(session: Session, partner: Partner, petition: Petition, now: datetime) -> None:
    if session.get(PartnerPetition, (partner.id, petition.id)) is None:
        partner.petition_links.append(PartnerPetition(petition_id=petition.id, created_at=now))


def disallow_petition(session: Session, partner: Partner, petition: Petition) -> bool:
    link = session.get(PartnerPetition, (partner.id, petition.id))
    if link is None:
        return False
    partner.petition_links.remove(link)
    return True


def get_by_public_id(session: Session, public_id: str | None) -> Partner | None:
    if not public_id or not _PUBLIC_ID.match(public_id):
        return None
    return session.scalar(select(Partner).where(Partner.public_id == public_id))


def authenticate(session: Session, key: str | None) -> Partner | None:
    """The active partner holding this API key, or None (unknown, rotated away or revoked)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    partner = session.scalar(select(Partner).where(Partner.key_hash == hash_key(key)))
    return partner if partner is not None and partner.is_active else None


def may_collect(session: Session, partner: Partner, petition: Petition) -> bool:
    return partner.is_active and session.get(PartnerPetition, (partner.id, petition.id)) is not None


def active_partner_for(session: Session, public_id: str | None, petition: Petition) -> Partner | None:
    """The partner named in a widget URL, if it is active and may collect for this petition."""
    partner = get_by_public_id(session, public_id)
    return partner if partner is not None and may_collect(session, partner, petition) else None


def frame_origins(session: Session, petition_slug: str, public_id: str | None) -> list[str]:
    """The sites that may frame this petition's widget for this partner: none unless the partner is
    active and collects for the petition. Read per request, so a change needs no restart."""
    if not public_id or not _PUBLIC_ID.match(public_id):
        return []
    return list(
        session.scalars(
            select(PartnerOrigin.origin)
            .join(Partner, Partner.id == PartnerOrigin.partner_id)
            .join(PartnerPetition, PartnerPetition.partner_id == Partner.id)
            .join(Petition, Petition.id == PartnerPetition.petition_id)
            .where(Partner.public_id == public_id, Partner.revoked_at.is_(None), Petition.slug == petition_slug)
            .order_by(PartnerOrigin.origin)
        )
    )


def partners_of(session: Session, petition_id: int) -> list[Partner]:
    """Partners that may collect for a petition, active first, then by name."""
    return list(
        session.scalars(
            select(Partner)
            .join(PartnerPetition, PartnerPetition.partner_id == Partner.id)
            .where(PartnerPetition.petition_id == petition_id)
            .order_by(Partner.revoked_at.is_not(None), Partner.name)
        )
    )


def organiser_may_manage(session: Session, organiser_id: int, partner: Partner) -> bool:
    """An organiser manages a partner when they own every petition it collects for: a partner shared
    by two campaigns cannot be revoked or re-keyed by one of them alone."""
    petition_ids = {link.petition_id for link in partner.petition_links}
    if not petition_ids:
        return False
    owned = set(
        session.scalars(
            select(Membership.petition_id).where(
                Membership.organiser_id == organiser_id,
                Membership.role == Role.OWNER,
                Membership.petition_id.in_(petition_ids),
            )
        )
    )
    return owned == petition_ids


def by_public_ids(session: Session, public_ids: set[str]) -> list[Partner]:
    if not public_ids:
        return []
    return list(session.scalars(select(Partner).where(Partner.public_id.in_(public_ids)).order_by(Partner.name)))


def partners_to_add(session: Session, organiser_id: int, petition_id: int) -> list[Partner]:
    """Active partners an organiser may also let collect for this petition: those they manage (they
    own every petition the partner collects for) that do not collect for it yet. Someone else's
    partner is not offered: sharing it would take its management away from its own campaign."""
    candidates = session.scalars(
        select(Partner)
        .join(PartnerPetition, PartnerPetition.partner_id == Partner.id)
        .join(Membership, Membership.petition_id == PartnerPetition.petition_id)
        .where(
            Membership.organiser_id == organiser_id,
            Membership.role == Role.OWNER,
            Partner.revoked_at.is_(None),
            Partner.id.not_in(select(PartnerPetition.partner_id).where(PartnerPetition.petition_id == petition_id)),
        )
        .distinct()
        .order_by(Partner.name)
    ).all()
    return [p for p in candidates if organiser_may_manage(session, organiser_id, p)]

"""Blocked senders per petition: email domains (with their subdomains) and single addresses.

A signature from a blocked sender is refused quietly, like any other suspicious one (see
`signing.sign`): stored as flagged with the reason `blocked`, never counted, never mailed, and the
signer sees what everyone sees. Keeping it flagged rather than dropping it lets an organiser who
blocked too much release the people caught by mistake.
"""

import re
from dataclasses import dataclass
from datetime import datetime

import idna
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from petition.models import BlockedSender, BlockKind, Organiser
from petition.services import moderation_log, personal
from petition.services.signer_fields import FieldInvalid, clean_email
from petition.services.sql import upsert_insert

DOMAIN_MAX = 253
_ASCII_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


class BlockInvalid(ValueError):
    pass


def normalise_domain(text: str) -> str:
    """`Example.ORG`, `@example.org`, `*.example.org` and `bücher.example` as the ASCII, lower-case
    form email addresses are compared in; anything that is not a domain name is refused."""
    value = (text or "").strip().lower()
    for prefix in ("@", "*."):
        value = value.removeprefix(prefix)
    value = value.rstrip(".")
    if not value or len(value) > DOMAIN_MAX or any(ch.isspace() or ch in "@/:\\" for ch in value):
        raise BlockInvalid("Give a domain such as example.org.")
    try:
        ascii_domain = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise BlockInvalid("That is not a valid domain name.") from error
    if not _ASCII_DOMAIN.match(ascii_domain):
        raise BlockInvalid("That is not a valid domain name.")
    return ascii_domain


def address_hash(petition_id: int, text: str) -> str:
    """The petition's keyed hash of the address's canonical form: what a signature with it would carry."""
    try:
        _address, local_part, ascii_domain = clean_email(text or "")
    except FieldInvalid as error:
        raise BlockInvalid("Give a valid email address.") from error
    return personal.email_hash(petition_id, personal.canonical_email(local_part, ascii_domain))


def _suffixes(domain: str) -> list[str]:
    """`a.b.example.org` -> itself, `b.example.org`, `example.org`, `org`: a block on any of them applies."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@dataclass(frozen=True)
class BlockedSenders:
    """A petition's blocklist as the signing path checks it: small, read once and kept for a moment
    (see petition.services.petition_facts) instead of queried for every signature."""

    domains: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()  # keyed hashes, as signatures carry them

    def blocks(self, email_canonical: str, email_hash: str) -> bool:
        if email_hash in self.addresses:
            return True
        return bool(self.domains) and not self.domains.isdisjoint(_suffixes(personal.domain_of(email_canonical)))


def blocked_senders(session: Session, petition_id: int) -> BlockedSenders:
    rows = session.execute(
        select(BlockedSender.kind, BlockedSender.value).where(BlockedSender.petition_id == petition_id)
    ).all()
    return BlockedSenders(
        domains=frozenset(value for kind, value in rows if kind == BlockKind.DOMAIN),
        addresses=frozenset(value for kind, value in rows if kind == BlockKind.ADDRESS),
    )


def _add(session: Session, petition_id: int, kind: BlockKind, value: str, organiser: Organiser, now: datetime) -> bool:
    added = session.execute(
        upsert_insert(session, BlockedSender)
        .values(petition_id=petition_id, kind=kind, value=value, organiser_id=organiser.id, created_at=now)
        .on_conflict_do_nothing()
        .returning(BlockedSender.id)
    ).first()
    return added is not None


def block_domain(session: Session, petition_id: int, text: str, organiser: Organiser, now: datetime) -> str:
    """Block a domain and its subdomains; returns the domain as stored. The caller commits."""
    domain = normalise_domain(text)
    added = _add(session, petition_id, BlockKind.DOMAIN, domain, organiser, now)
    moderation_log.record(session, petition_id, organiser, "block", f"domain {domain}", int(added), now)
    return domain


def block_address(session: Session, petition_id: int, text: str, organiser: Organiser, now: datetime) -> bool:
    """Block one address (in its canonical form, so `Ana+x@Example.org` is `ana@example.org`). Only its
    keyed hash is stored, and the log says only that an address was blocked. The caller commits."""
    digest = address_hash(petition_id, text)
    added = _add(session, petition_id, BlockKind.ADDRESS, digest, organiser, now)
    moderation_log.record(session, petition_id, organiser, "block", "an email address", int(added), now)
    return added


def unblock(session: Session, petition_id: int, entry_id: int, organiser: Organiser, now: datetime) -> bool:
    removed = session.execute(
        delete(BlockedSender)
        .where(BlockedSender.id == entry_id, BlockedSender.petition_id == petition_id)
        .returning(BlockedSender.kind, BlockedSender.value)
        .execution_options(synchronize_session=False)
    ).first()
    if removed is None:
        return False
    what = f"domain {removed.value}" if removed.kind == BlockKind.DOMAIN else "an email address"
    moderation_log.record(session, petition_id, organiser, "unblock", what, 1, now)
    return True


def unblock_address(session: Session, petition_id: int, text: str, organiser: Organiser, now: datetime) -> bool:
    """Addresses are not listed in clear, so they are unblocked by typing them again."""
    digest = address_hash(petition_id, text)
    entry_id = session.scalar(
        select(BlockedSender.id).where(
            BlockedSender.petition_id == petition_id,
            BlockedSender.kind == BlockKind.ADDRESS,
            BlockedSender.value == digest,
        )
    )
    return entry_id is not None and unblock(session, petition_id, entry_id, organiser, now)


@dataclass(frozen=True)
class Blocklist:
    domains: list[BlockedSender]
    addresses: list[BlockedSender]


def blocklist_of(session: Session, petition_id: int) -> Blocklist:
    entries = session.scalars(
        select(BlockedSender)
        .where(BlockedSender.petition_id == petition_id)
        .order_by(BlockedSender.kind, BlockedSender.value, BlockedSender.id)
    ).all()
    return Blocklist(
        domains=[e for e in entries if e.kind == BlockKind.DOMAIN],
        addresses=sorted((e for e in entries if e.kind == BlockKind.ADDRESS), key=lambda e: e.created_at),
    )

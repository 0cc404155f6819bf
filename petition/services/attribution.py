"""Where signatures came from: the `source` each one records, and counts per source and per partner.

A source is `web`, `paper`, `widget:<partner id>` or `api:<partner id>`, followed by `/<code>` when a
campaign code (`?source=`) came with it. Counts are pending and confirmed signatures; flagged ones
(automated, never counted) are reported apart so a partner's bot traffic can be seen, not rewarded.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from petition.models import Partner, PartnerPetition, Petition, Signature, SignatureActivity, SignatureStatus


class Channel(StrEnum):
    WEB = "web"  # our own petition page
    WIDGET = "widget"  # the embedded form on a partner's site
    API = "api"  # a partner's server, with its API key
    PAPER = "paper"  # typed in from paper lists


@dataclass(frozen=True)
class Source:
    channel: Channel | None  # None: a value this code does not know (kept, shown as is)
    partner_id: str | None = None  # the partner's public id
    code: str | None = None


def source_for(channel: Channel, partner_id: str | None = None, code: str | None = None) -> str:
    """The value stored in `Signature.source`; `code` must already match the SOURCE_CODE pattern."""
    value = f"{channel.value}:{partner_id}" if partner_id else channel.value
    return f"{value}/{code}" if code else value


def parse_source(value: str) -> Source:
    head, _, code = value.partition("/")
    name, _, partner_id = head.partition(":")
    try:
        channel = Channel(name)
    except ValueError:
        return Source(None)
    has_partner = channel in {Channel.WIDGET, Channel.API}
    if has_partner != bool(partner_id):
        return Source(None)
    return Source(channel, partner_id or None, code or None)


@dataclass
class Tally:
    pending: int = 0
    confirmed: int = 0
    flagged: int = 0

    @property
    def signatures(self) -> int:
        """Pending and confirmed: what people signed, whether or not they have confirmed yet."""
        return self.pending + self.confirmed

    @property
    def confirmation_rate(self) -> float | None:
        return self.confirmed / self.signatures if self.signatures else None

    def add(self, status: SignatureStatus, n: int) -> None:
        setattr(self, status.value, getattr(self, status.value) + n)


@dataclass
class SourceTally:
    source: str
    parsed: Source
    partner_name: str | None
    tally: Tally = field(default_factory=Tally)


@dataclass
class PartnerTally:
    partner: Partner
    widget: Tally = field(default_factory=Tally)
    api: Tally = field(default_factory=Tally)

    @property
    def total(self) -> Tally:
        return Tally(
            self.widget.pending + self.api.pending,
            self.widget.confirmed + self.api.confirmed,
            self.widget.flagged + self.api.flagged,
        )


def _partner_names(session: Session, public_ids: set[str]) -> dict[str, Partner]:
    if not public_ids:
        return {}
    return {p.public_id: p for p in session.scalars(select(Partner).where(Partner.public_id.in_(public_ids)))}


def by_source(session: Session, petition_id: int) -> list[SourceTally]:
    """One row per distinct source value of a petition, most signatures first."""
    rows = session.execute(
        select(Signature.source, Signature.status, func.count())
        .where(Signature.petition_id == petition_id)
        .group_by(Signature.source, Signature.status)
    ).all()
    tallies: dict[str, SourceTally] = {}
    for source, status, n in rows:
        if source not in tallies:
            tallies[source] = SourceTally(source, parse_source(source), None)
        tallies[source].tally.add(SignatureStatus(status), n)
    partners = _partner_names(session, {t.parsed.partner_id for t in tallies.values() if t.parsed.partner_id})
    for item in tallies.values():
        partner = partners.get(item.parsed.partner_id or "")
        item.partner_name = partner.name if partner else None
    return sorted(tallies.values(), key=lambda t: (-t.tally.signatures, t.source))


def by_partner(session: Session, petition_id: int) -> list[PartnerTally]:
    """One row per partner of a petition (including partners with nothing yet, and partners no longer
    linked who brought signatures before), widget and API apart, most signatures first."""
    tallies: dict[str, PartnerTally] = {}
    linked = session.scalars(
        select(Partner).join(PartnerPetition).where(PartnerPetition.petition_id == petition_id)
    ).all()
    for partner in linked:
        tallies[partner.public_id] = PartnerTally(partner)
    sources = by_source(session, petition_id)
    missing = {s.parsed.partner_id for s in sources if s.parsed.partner_id and s.parsed.partner_id not in tallies}
    for public_id, partner in _partner_names(session, missing).items():
        tallies[public_id] = PartnerTally(partner)
    for item in sources:
        target = tallies.get(item.parsed.partner_id or "")
        if target is None:
            continue
        tally = target.widget if item.parsed.channel == Channel.WIDGET else target.api
        for status in SignatureStatus:
            tally.add(status, getattr(item.tally, status.value))
    return sorted(tallies.values(), key=lambda t: (-t.total.signatures, t.partner.name))


@dataclass(frozen=True)
class PetitionTally:
    petition: Petition
    submitted: int  # forms and API calls accepted, whatever the address's state (a repeat counts again)
    confirmed: int

    @property
    def pending(self) -> int:
        """Submitted and not (yet) confirmed."""
        return max(0, self.submitted - self.confirmed)


def partner_counts(session: Session, partner: Partner) -> list[PetitionTally]:
    """A partner's own figures per petition: the petitions it collects for (even with none yet) and
    any it brought signatures to before. Nothing about anyone else's signatures.

    Read from the hourly sign-up figures, where every accepted submission counts alike: a figure
    that moved only for an address never seen before would tell a partner who has signed."""
    rows = session.execute(
        select(SignatureActivity.petition_id, func.sum(SignatureActivity.signed), func.sum(SignatureActivity.confirmed))
        .where(_partner_activity_filter(partner.public_id))
        .group_by(SignatureActivity.petition_id)
    ).all()
    counts: dict[int, tuple[int, int]] = {link.petition_id: (0, 0) for link in partner.petition_links}
    for petition_id, submitted, confirmed in rows:
        counts[petition_id] = (int(submitted or 0), int(confirmed or 0))
    petitions = session.scalars(select(Petition).where(Petition.id.in_(counts)).order_by(Petition.slug)).all()
    return [PetitionTally(p, *counts[p.id]) for p in petitions]


def _partner_activity_filter(public_id: str):
    return or_(
        *(
            condition
            for channel in (Channel.WIDGET, Channel.API)
            for condition in (
                SignatureActivity.source == f"{channel.value}:{public_id}",
                SignatureActivity.source.startswith(f"{channel.value}:{public_id}/", autoescape=True),
            )
        )
    )

"""What organisers see of flagged signatures: counts grouped by reason, email domain, source, country
and hour. No names and no addresses: a domain is the most an organiser needs to tell a script's
burst from a school class signing together.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from petition.models import FlagReason, Signature, SignatureStatus
from petition.services import personal
from petition.services.sql import is_postgresql

GROUP_LIMIT = 25
NOT_RECORDED = "reason not recorded (flagged before reasons were kept)"


@dataclass(frozen=True)
class Group:
    label: str
    count: int
    value: str | None = None  # what selecting the group puts in the form, when it is not the label

    @property
    def selects(self) -> str:
        return self.label if self.value is None else self.value


@dataclass(frozen=True)
class FlaggedSummary:
    total: int
    by_reason: list[Group]
    by_domain: list[Group]
    by_source: list[Group]
    by_country: list[Group]
    by_hour: list[Group]


def _flagged(petition_id: int):
    return (Signature.petition_id == petition_id, Signature.status == SignatureStatus.FLAGGED)


def _grouped(session: Session, petition_id: int, column, limit: int = GROUP_LIMIT) -> list[tuple]:
    count = func.count().label("n")
    return session.execute(
        select(column, count).where(*_flagged(petition_id)).group_by(column).order_by(count.desc(), column).limit(limit)
    ).all()


def _by_domain(session: Session, petition_id: int) -> list[Group]:
    """Grouped by the domain's keyed hash in SQL; each group's name is read from one of its
    signatures' sealed address, so only GROUP_LIMIT addresses are opened, not every flagged one."""
    count = func.count().label("n")
    rows = session.execute(
        select(Signature.email_domain_hash, count, func.min(Signature.id))
        .where(*_flagged(petition_id))
        .group_by(Signature.email_domain_hash)
        .order_by(count.desc())
        .limit(GROUP_LIMIT)
    ).all()
    sealed = dict(
        session.execute(
            select(Signature.id, Signature.email_sealed).where(Signature.id.in_([r[2] for r in rows]))
        ).all()
    )
    return [Group(_domain_in(bytes(sealed.get(sample_id) or b"")), int(n)) for _hash, n, sample_id in rows]


def _domain_in(sealed: bytes) -> str:
    if not sealed:
        return "(unknown)"  # personal data already purged
    try:
        return personal.unseal(sealed).rpartition("@")[2].lower()
    except (LookupError, InvalidTag):
        return "(unknown)"  # sealed with a key no longer in DATA_KEYS


def _hour_column(session: Session):
    if is_postgresql(session):
        # In UTC whatever the server's time zone, like every time organisers see.
        utc = func.timezone("UTC", Signature.created_at)
        return func.to_char(func.date_trunc("hour", utc), "YYYY-MM-DD HH24:00")
    return func.strftime("%Y-%m-%d %H:00", Signature.created_at)


def summary(session: Session, petition_id: int) -> FlaggedSummary:
    total = session.scalar(select(func.count()).select_from(Signature).where(*_flagged(petition_id))) or 0
    hour = _hour_column(session).label("hour")
    by_hour = session.execute(
        select(hour, func.count()).where(*_flagged(petition_id)).group_by(hour).order_by(hour.desc()).limit(48)
    ).all()
    return FlaggedSummary(
        total=int(total),
        by_reason=[
            Group(FlagReason(reason).description, int(n), FlagReason(reason).value)
            if reason
            else Group(NOT_RECORDED, int(n), "")
            for reason, n in _grouped(session, petition_id, Signature.flag_reason)
        ],
        by_domain=_by_domain(session, petition_id) if total else [],
        by_source=[Group(source, int(n)) for source, n in _grouped(session, petition_id, Signature.source)],
        by_country=[Group(country, int(n)) for country, n in _grouped(session, petition_id, Signature.country)],
        by_hour=[Group(f"{label} UTC", int(n)) for label, n in by_hour],
    )


def hour_window(label: str) -> tuple[str, str]:
    """`2026-11-26 14:00 UTC` -> the from/to fields selecting that hour."""
    start = datetime.strptime(label.removesuffix(" UTC"), "%Y-%m-%d %H:%M")
    return start.strftime("%Y-%m-%d %H:%M"), (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")

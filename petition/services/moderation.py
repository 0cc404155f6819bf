"""Organisers fighting abuse after the fact: release flagged signatures that were real people, and
invalidate signatures (of any state) that were not, chosen by email domain, source and time window.

Both act through one conditional statement (UPDATE ... WHERE status = 'flagged', DELETE ...)
with RETURNING, so what is changed is exactly what the statement saw and locked, whatever commits
meanwhile. An invalidation racing with a confirmation either deletes the row after the confirmation
committed, sees it confirmed in RETURNING and uncounts it, or deletes it first, and the confirmation
finds nothing to confirm: never lost, never counted twice.

Invalidated signatures are deleted, not kept marked: most are addresses a script typed in for
people who never signed, and nobody may keep those people's data. The moderation log keeps who
invalidated what, when, and how many; keeping someone out is the blocklist's job.

Paper statements (source `paper`) are not touched here: they are corrected on the paper page, with
the tallies they came with.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from petition.models import FlagReason, MailKind, Organiser, Signature, SignatureStatus
from petition.services import activity, blocklist, counting, moderation_log, outbox, personal

PAPER_SOURCE = "paper"
SOURCE_MAX = 100


class Action(StrEnum):
    RELEASE = "release"
    INVALIDATE = "invalidate"


class CriteriaInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class CountChanged(Exception):
    """The signatures matching changed between the preview and the confirmation: nothing was done."""

    def __init__(self, now_matching: int):
        super().__init__(f"{now_matching} signatures match now")
        self.now_matching = now_matching


@dataclass(frozen=True)
class Criteria:
    """Which signatures an action applies to. `since` is inclusive, `until` exclusive, both UTC and
    compared with when the signature was made. `status` narrows an invalidation; `reason` a release."""

    domain: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    status: SignatureStatus | None = None
    reason: FlagReason | None = None

    def describe(self) -> str:
        parts = []
        if self.domain:
            parts.append(f"domain {self.domain}")
        if self.source:
            parts.append(f"source {self.source}")
        if self.since:
            parts.append(f"from {_fmt(self.since)}")
        if self.until:
            parts.append(f"before {_fmt(self.until)}")
        if self.reason:
            parts.append(f"flagged as {self.reason.description}")
        if self.status:
            parts.append(f"{self.status.value} only")
        return ", ".join(parts)

    def as_form(self) -> dict[str, str]:
        """The criteria as the form fields that give them back, for the confirmation step."""
        return {
            "domain": self.domain or "",
            "source": self.source or "",
            "since": _fmt(self.since) if self.since else "",
            "until": _fmt(self.until) if self.until else "",
            "status": self.status.value if self.status else "",
            "reason": self.reason.value if self.reason else "",
        }


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str) -> datetime:
    """`2026-11-26`, `2026-11-26 10:00`, `2026-11-26T10:00:00`, read as UTC unless a zone is given."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_criteria(form: dict[str, str], action: Action) -> Criteria:
    """Criteria from what the organiser typed. At least one of domain, source and time window (or, to
    release, a flag reason) is required: an empty filter would match every signature."""
    errors: dict[str, str] = {}
    text = {key: " ".join(str(form.get(key) or "").split()) for key in Criteria().as_form()}
    domain = source = since = until = status = reason = None
    if text["domain"]:
        try:
            domain = blocklist.normalise_domain(text["domain"])
        except blocklist.BlockInvalid as error:
            errors["domain"] = str(error)
    if text["source"]:
        source = text["source"]
        if len(source) > SOURCE_MAX:
            errors["source"] = f"A source has at most {SOURCE_MAX} characters."
        elif source == PAPER_SOURCE or source.startswith(PAPER_SOURCE + "/"):
            errors["source"] = "Paper signatures are corrected on the paper page."
    for key in ("since", "until"):
        if text[key]:
            try:
                moment = parse_time(text[key])
            except ValueError:
                errors[key] = "Give a date and time such as 2026-11-26 14:00 (UTC)."
            else:
                since, until = (moment, until) if key == "since" else (since, moment)
    if since and until and since >= until:
        errors["until"] = "The end of the window must come after its start."
    if text["status"] and action == Action.INVALIDATE:
        try:
            status = SignatureStatus(text["status"])
        except ValueError:
            errors["status"] = "Choose pending, confirmed or flagged."
    if text["reason"] and action == Action.RELEASE:
        try:
            reason = FlagReason(text["reason"])
        except ValueError:
            errors["reason"] = "Choose one of the reasons listed."
    if not errors and not (domain or source or since or until or reason):
        errors["criteria"] = (
            "Give at least one criterion (a domain, a source or a time window): "
            "an empty filter would match every signature."
        )
    if errors:
        raise CriteriaInvalid(errors)
    return Criteria(domain, source, since, until, status, reason)


def _conditions(petition_id: int, criteria: Criteria, action: Action) -> list:
    conditions = [Signature.petition_id == petition_id, Signature.source != PAPER_SOURCE]
    if criteria.domain:
        conditions.append(Signature.email_domain_hash == personal.domain_hash(petition_id, criteria.domain))
    if criteria.source:
        # A partner's id covers its campaign codes too: `widget:abc` matches `widget:abc/newsletter`.
        with_code = Signature.source.startswith(criteria.source + "/", autoescape=True)
        conditions.append(or_(Signature.source == criteria.source, with_code))
    if criteria.since:
        conditions.append(Signature.created_at >= criteria.since)
    if criteria.until:
        conditions.append(Signature.created_at < criteria.until)
    if action == Action.RELEASE:
        conditions.append(Signature.status == SignatureStatus.FLAGGED)
        if criteria.reason:
            conditions.append(Signature.flag_reason == criteria.reason)
    elif criteria.status:
        conditions.append(Signature.status == criteria.status)
    return conditions


@dataclass(frozen=True)
class Preview:
    total: int
    by_status: dict[str, int]


def preview(session: Session, petition_id: int, criteria: Criteria, action: Action) -> Preview:
    rows = session.execute(
        select(Signature.status, func.count())
        .where(*_conditions(petition_id, criteria, action))
        .group_by(Signature.status)
    ).all()
    by_status = {status.value: int(n) for status, n in rows}
    return Preview(sum(by_status.values()), by_status)


def release(
    session: Session,
    petition_id: int,
    criteria: Criteria,
    organiser: Organiser,
    now: datetime,
    expected: int | None = None,
) -> int:
    """Flagged -> pending, and each gets its confirmation email (within the per-signature mail limit);
    they count once their owners confirm, like anyone's. The caller commits, or rolls back on
    CountChanged."""
    rows = session.execute(
        update(Signature)
        .where(*_conditions(petition_id, criteria, Action.RELEASE))
        .values(status=SignatureStatus.PENDING, flag_reason=None)
        .returning(Signature.id, Signature.source)
        .execution_options(synchronize_session=False)
    ).all()
    if expected is not None and len(rows) != expected:
        raise CountChanged(len(rows))
    outbox.mail_signers(session, [row.id for row in rows], petition_id, MailKind.CONFIRM, now)
    # Flagged signatures were never in the sign-up figures: they enter them now, as a re-sign does.
    for source, n in Counter(row.source for row in rows).items():
        activity.record(session, petition_id, source, now, signed=n)
    moderation_log.record(session, petition_id, organiser, Action.RELEASE, criteria.describe(), len(rows), now)
    return len(rows)


@dataclass(frozen=True)
class Invalidated:
    rows: int
    uncounted_by_country: dict[str, int]

    @property
    def uncounted(self) -> int:
        return sum(self.uncounted_by_country.values())


def invalidate(
    session: Session,
    petition_id: int,
    criteria: Criteria,
    organiser: Organiser,
    now: datetime,
    expected: int | None = None,
) -> Invalidated:
    """Delete the matching signatures (their queued emails go with them) and take the confirmed ones
    off the counters in the same transaction. The caller commits, or rolls back on CountChanged."""
    rows = session.execute(
        delete(Signature)
        .where(*_conditions(petition_id, criteria, Action.INVALIDATE))
        .returning(Signature.country, Signature.status, Signature.source, Signature.created_at, Signature.confirmed_at)
        .execution_options(synchronize_session=False)
    ).all()
    if expected is not None and len(rows) != expected:
        raise CountChanged(len(rows))
    uncounted = Counter(row.country for row in rows if row.status == SignatureStatus.CONFIRMED)
    for country, n in sorted(uncounted.items()):
        counting.add(session, petition_id, country, -n, now)
    _take_off_activity(session, petition_id, rows)
    moderation_log.record(
        session, petition_id, organiser, Action.INVALIDATE, criteria.describe(), len(rows), now, sum(uncounted.values())
    )
    return Invalidated(len(rows), dict(uncounted))


def _take_off_activity(session: Session, petition_id: int, rows) -> None:
    """The dashboard's charts and per-source rates should not keep a burst that was invalidated. Each
    sign-up is taken off the hour it was made in and each confirmation off the hour it was confirmed
    in (a sign-up released or re-signed later was recorded at that later hour: its hour may differ,
    its source's totals do not)."""
    signed: Counter = Counter()
    confirmed: Counter = Counter()
    for row in rows:
        if row.status == SignatureStatus.FLAGGED:
            continue  # never recorded
        signed[(row.source, activity.hour_of(row.created_at))] += 1
        if row.status == SignatureStatus.CONFIRMED and row.confirmed_at is not None:
            confirmed[(row.source, activity.hour_of(row.confirmed_at))] += 1
    for (source, hour), n in signed.items():
        activity.record(session, petition_id, source, hour, signed=-n)
    for (source, hour), n in confirmed.items():
        activity.record(session, petition_id, source, hour, confirmed=-n)

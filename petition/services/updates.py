"""Campaign updates: drafts and their translations, who they reach, and starting, pausing and
resuming their sending. The mail workers do the sending (petition.mail.update_worker).

Who an update reaches (`audience_filter`) is decided here, once, for the count organisers see, the
number the command line prints and the walk the workers make: confirmed signatures of the petition,
signed online (paper statements gave an address for the count, not for our emails), not
unsubscribed, with their personal data still held, and for the default audience only those who
ticked "Keep me informed". Signers confirmed after sending started are not part of it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from petition.i18n import SUPPORTED_LOCALES, match_locale
from petition.models import (
    Audience,
    CampaignUpdate,
    MailKind,
    Organiser,
    Petition,
    Signature,
    SignatureStatus,
    UpdateEvent,
    UpdateProgress,
    UpdateStatus,
    UpdateTranslation,
)
from petition.services import outbox
from petition.services.paper import SOURCE as PAPER_SOURCE

SUBJECT_MAX = 200
BODY_MAX = 20_000
COMMAND_LINE = "command line"


class UpdateInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class UpdateText:
    subject: str
    body_markdown: str
    locale: str  # the language this text is in


@dataclass(frozen=True)
class LanguageCount:
    locale: str
    opted_in: int
    everyone: int

    def for_audience(self, audience: Audience) -> int:
        return self.opted_in if audience == Audience.OPTED_IN else self.everyone


@dataclass(frozen=True)
class Progress:
    recipients: int
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0
    skipped: int = 0
    unsubscribed: int = 0

    @property
    def queued(self) -> int:
        """Still to go (an estimate while sending: some will turn out to be skipped)."""
        return max(0, self.recipients - self.sent - self.failed - self.in_doubt - self.skipped)


def audience_filter(petition_id: int, audience: Audience, started_at: datetime | None = None) -> list[ColumnElement]:
    conditions = [
        Signature.petition_id == petition_id,
        Signature.status == SignatureStatus.CONFIRMED,
        Signature.source != PAPER_SOURCE,
        Signature.unsubscribed_at.is_(None),
        func.length(Signature.email_sealed) > 0,  # emptied by `purge` past the retention date
    ]
    if audience == Audience.OPTED_IN:
        conditions.append(Signature.keep_informed.is_(True))
    if started_at is not None:
        conditions.append(Signature.confirmed_at <= started_at)
    return conditions


def parse_audience(value: str | None) -> Audience:
    """`opted-in` (the command line's word), `opted_in` or `all`; anything else is the default."""
    return Audience.ALL if (value or "").strip() == "all" else Audience.OPTED_IN


def _check_text(subject: str, body: str, errors: dict[str, str]) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not 1 <= len(subject) <= SUBJECT_MAX:
        errors["subject"] = f"The subject must be 1 to {SUBJECT_MAX} characters."
    if not 1 <= len(body) <= BODY_MAX:
        errors["body"] = f"The text must be 1 to {BODY_MAX:,} characters."
    return subject, body


def draft(
    session: Session,
    petition: Petition,
    *,
    subject: str,
    body: str,
    audience: Audience,
    now: datetime,
    organiser: Organiser | None = None,
    locale: str | None = None,
) -> CampaignUpdate:
    """A new update, not sent; the caller commits. Raises UpdateInvalid."""
    errors: dict[str, str] = {}
    subject, body = _check_text(subject, body, errors)
    code = match_locale(locale) if locale else petition.locale
    if code is None:
        errors["lang"] = f"'{locale}' is not one of the supported languages."
    if errors:
        raise UpdateInvalid(errors)
    created = CampaignUpdate(
        petition_id=petition.id,
        organiser_id=organiser.id if organiser else None,
        organiser_email=organiser.email if organiser else COMMAND_LINE,
        locale=code,
        subject=subject,
        body_markdown=body,
        audience=audience,
        status=UpdateStatus.DRAFT,
        created_at=now,
    )
    session.add(created)
    session.flush()
    return created


def revise(session: Session, draft_update: CampaignUpdate, *, subject: str, body: str, audience: Audience) -> None:
    """Change a draft (a sent update stays as it went out). Raises UpdateInvalid."""
    if draft_update.status != UpdateStatus.DRAFT:
        raise UpdateInvalid({"status": "This update has been sent: it can no longer be changed."})
    errors: dict[str, str] = {}
    subject, body = _check_text(subject, body, errors)
    if errors:
        raise UpdateInvalid(errors)
    draft_update.subject, draft_update.body_markdown, draft_update.audience = subject, body, audience


def translate(session: Session, draft_update: CampaignUpdate, *, locale: str, subject: str, body: str) -> None:
    """Add, replace or (with an empty subject and text) remove the update's text in one language."""
    if draft_update.status != UpdateStatus.DRAFT:
        raise UpdateInvalid({"status": "This update has been sent: it can no longer be changed."})
    code = match_locale(locale)
    if code is None or code == draft_update.locale:
        raise UpdateInvalid({"lang": "Choose another language than the update's own."})
    row = session.get(UpdateTranslation, (draft_update.id, code))
    if not (subject or "").strip() and not (body or "").strip():
        if row is not None:
            session.delete(row)
        return
    errors: dict[str, str] = {}
    subject, body = _check_text(subject, body, errors)
    if errors:
        raise UpdateInvalid(errors)
    if row is None:
        row = UpdateTranslation(update_id=draft_update.id, locale=code, subject=subject, body_markdown=body)
        session.add(row)
    row.subject, row.body_markdown = subject, body


def text_of(session: Session, campaign_update: CampaignUpdate, locale: str) -> UpdateText:
    """What a signer of `locale` reads: the translation when there is one, else the update's own text."""
    if locale != campaign_update.locale:
        row = session.get(UpdateTranslation, (campaign_update.id, locale))
        if row is not None:
            return UpdateText(row.subject, row.body_markdown, locale)
    return UpdateText(campaign_update.subject, campaign_update.body_markdown, campaign_update.locale)


def audience_by_language(session: Session, petition_id: int) -> list[LanguageCount]:
    """Recipients per language they signed in, for both audiences, most first. One pass over the
    petition's confirmed signatures: shown before sending, not on every page."""
    opted_in = func.sum(case((Signature.keep_informed.is_(True), 1), else_=0))
    rows = session.execute(
        select(Signature.locale, opted_in, func.count())
        .where(*audience_filter(petition_id, Audience.ALL))
        .group_by(Signature.locale)
    ).all()
    merged: dict[str, list[int]] = {}
    for locale, wanting, everyone in rows:
        code = match_locale(locale) or locale or "?"  # a language no longer offered: listed as it is
        counts = merged.setdefault(code, [0, 0])
        counts[0] += int(wanting or 0)
        counts[1] += int(everyone)
    found = [LanguageCount(code, a, b) for code, (a, b) in merged.items()]
    return sorted(found, key=lambda c: (-c.everyone, c.locale))


def count_recipients(session: Session, petition_id: int, audience: Audience, started_at: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(Signature).where(*audience_filter(petition_id, audience, started_at))
    )


def start(session: Session, campaign_update: CampaignUpdate, *, now: datetime, organiser: Organiser | None) -> int:
    """Send a draft: fix its audience (the signers confirmed by now), hand it to the workers and log
    it. Returns the number of recipients. The caller commits; the workers wake at the commit."""
    recipients = count_recipients(session, campaign_update.petition_id, campaign_update.audience, now)
    started = session.execute(
        update(CampaignUpdate)
        .where(CampaignUpdate.id == campaign_update.id, CampaignUpdate.status == UpdateStatus.DRAFT)
        .values(status=UpdateStatus.SENDING, started_at=now, recipients=recipients, walked_at=None, walked_id=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not started:
        raise UpdateInvalid({"status": "This update has already been sent."})
    session.refresh(campaign_update)
    audience = "everyone who confirmed" if campaign_update.audience == Audience.ALL else "signers who opted in"
    log(session, campaign_update.id, organiser, "sending", f"{recipients:,} recipients ({audience})", now)
    outbox.wake_workers(session)
    return recipients


def _switch(session, campaign_update, organiser, now, *, from_: UpdateStatus, to: UpdateStatus, action: str) -> bool:
    changed = session.execute(
        update(CampaignUpdate)
        .where(CampaignUpdate.id == campaign_update.id, CampaignUpdate.status == from_)
        .values(status=to)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        log(session, campaign_update.id, organiser, action, "", now)
        session.refresh(campaign_update)
    return bool(changed)


def pause(session: Session, campaign_update: CampaignUpdate, *, now: datetime, organiser: Organiser | None) -> bool:
    """Workers send no more of it (the message each is sending finishes). False if it was not sending."""
    return _switch(session, campaign_update, organiser, now, from_=UpdateStatus.SENDING, to=UpdateStatus.PAUSED,
                   action="paused")  # fmt: skip


def resume(session: Session, campaign_update: CampaignUpdate, *, now: datetime, organiser: Organiser | None) -> bool:
    resumed = _switch(session, campaign_update, organiser, now, from_=UpdateStatus.PAUSED, to=UpdateStatus.SENDING,
                      action="resumed")  # fmt: skip
    if resumed:
        outbox.wake_workers(session)
    return resumed


def queue_test(session: Session, campaign_update: CampaignUpdate, organiser: Organiser, locale: str, now) -> str:
    """Queue the update, as signers of `locale` will read it, to the organiser alone. Returns the
    language used. The caller commits."""
    code = match_locale(locale) or campaign_update.locale
    outbox.queue(session, MailKind.UPDATE_TEST, petition_id=campaign_update.petition_id, now=now,
                 organiser_id=organiser.id, detail=f"{campaign_update.id}:{code}")  # fmt: skip
    log(session, campaign_update.id, organiser, "tested", f"to {organiser.email} in {code}", now)
    return code


def progress_of(session: Session, campaign_update: CampaignUpdate) -> Progress:
    totals = session.execute(
        select(
            func.coalesce(func.sum(UpdateProgress.sent), 0),
            func.coalesce(func.sum(UpdateProgress.failed), 0),
            func.coalesce(func.sum(UpdateProgress.in_doubt), 0),
            func.coalesce(func.sum(UpdateProgress.skipped), 0),
            func.coalesce(func.sum(UpdateProgress.unsubscribed), 0),
        ).where(UpdateProgress.update_id == campaign_update.id)
    ).one()
    return Progress(campaign_update.recipients, *(int(n) for n in totals))


def log(session: Session, update_id: int, organiser: Organiser | None, action: str, detail: str, now) -> None:
    """An entry in the updates' audit log, in the caller's transaction."""
    session.add(
        UpdateEvent(
            update_id=update_id,
            organiser_id=organiser.id if organiser else None,
            organiser_email=organiser.email if organiser else COMMAND_LINE,
            action=action,
            detail=detail[:500],
            created_at=now,
        )
    )


def events_of(session: Session, update_id: int) -> list[UpdateEvent]:
    return list(
        session.scalars(
            select(UpdateEvent)
            .where(UpdateEvent.update_id == update_id)
            .order_by(UpdateEvent.created_at, UpdateEvent.id)
        )
    )


def updates_of(session: Session, petition_id: int) -> list[CampaignUpdate]:
    return list(
        session.scalars(
            select(CampaignUpdate)
            .where(CampaignUpdate.petition_id == petition_id)
            .order_by(CampaignUpdate.created_at.desc(), CampaignUpdate.id.desc())
        )
    )


def get_update(session: Session, petition_id: int, update_id: int) -> CampaignUpdate | None:
    found = session.get(CampaignUpdate, update_id)
    return found if found is not None and found.petition_id == petition_id else None


def translatable_locales(campaign_update: CampaignUpdate) -> list[str]:
    return [code for code in SUPPORTED_LOCALES if code != campaign_update.locale]

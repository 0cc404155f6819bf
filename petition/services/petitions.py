"""Creating and changing petitions with the rules they follow; one set of checks for the CLI and the browser."""

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.i18n import match_locale
from petition.models import CountryTarget, Petition, PetitionRevision, PetitionStatus, RuleSet
from petition.rules import eci
from petition.rules.countries import iso_countries, normalise_country
from petition.services.campaign import check_campaign

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
BODY_MAX_CHARACTERS = 100_000
MAX_RETENTION_MONTHS = 120
# Regulation (EU) 2019/788 applies from this day; the service follows no earlier rules.
ECI_RULES_FROM = date(2020, 1, 1)


class PetitionInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def latest_eci_closing(opens_on: date) -> date:
    """Collection lasts at most 12 months, ending on the same date a year later: opening 26 Nov 2026,
    the last day is 26 Nov 2027 (as the Commission's register dates collections). Opening on 29 February,
    the last day is 28 February."""
    return add_months(opens_on, eci.MAX_COLLECTION_MONTHS)


def allowed_countries(petition: Petition) -> frozenset[str]:
    if petition.rules == RuleSet.ECI:
        return frozenset(eci.member_states())
    return iso_countries()


@dataclass
class PetitionFields:
    """What a person may set on a petition, as typed; `check_fields` cleans it or says what is wrong."""

    title: str
    summary: str = ""
    body: str = ""
    rules: str = "eci"
    goal: int | None = None
    closes_on: date | None = None
    registered_on: date | None = None
    country_targets: dict[str, int] | None = None
    retention_months: int | None = None
    submitted_on: date | None = None
    organiser_name: str = ""
    organiser_contact: str = ""
    eci_registration_number: str = ""
    eci_signing_url: str = ""


def _line_ends(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")  # browsers send text areas with CRLF line ends


def _unshowable(text: str) -> bool:
    """Control characters other than line breaks and tabs (NUL among them: PostgreSQL refuses it in
    text while SQLite keeps it) and lone surrogates: nothing a person meant to write."""
    return any(
        unicodedata.category(ch) == "Cs" or (unicodedata.category(ch) == "Cc" and ch not in "\n\t") for ch in text
    )


def _check_registration(registered_on: date | None, today: date, errors: dict[str, str]) -> None:
    if registered_on is None:
        return
    if registered_on > today:
        errors["registered"] = "The registration date is in the future."
    elif registered_on < ECI_RULES_FROM:
        errors["registered"] = (
            "The registration date is before 2020: this service follows Regulation (EU) 2019/788, "
            "which applies to initiatives registered from 1 January 2020."
        )


def check_fields(
    fields: PetitionFields, today: date, opens_on: date, *, registration_changes: bool = True
) -> tuple[PetitionFields, dict[str, int], dict]:
    """Returns the cleaned fields, the per-country thresholds they imply, and the errors found.
    `registration_changes` is False once the ECI registration date is fixed (an open petition keeps it)."""
    errors: dict[str, str] = {}
    title = unicodedata.normalize("NFC", " ".join(fields.title.split()))
    summary = unicodedata.normalize("NFC", _line_ends(fields.summary).strip())
    body = unicodedata.normalize("NFC", _line_ends(fields.body))
    if not 1 <= len(title) <= 200:
        errors["title"] = "The title must be 1 to 200 characters."
    if len(summary) > 1000:
        errors["summary"] = "The summary must be at most 1,000 characters."
    if len(body) > BODY_MAX_CHARACTERS:
        errors["body"] = "The text must be at most 100,000 characters."
    for name, text in (("title", title), ("summary", summary), ("body", body)):
        if _unshowable(text):
            errors[name] = "This text contains control characters; please remove them."
    rules = fields.rules
    if rules not in {r.value for r in RuleSet}:
        errors["rules"] = "Rules are either 'eci' or 'simple'."
    if fields.goal is not None and fields.goal <= 0:
        errors["goal"] = "The goal must be a positive number."
    elif fields.goal is not None and fields.goal > 1_000_000_000:
        errors["goal"] = "The goal must be at most 1,000,000,000."
    closes_on = fields.closes_on
    if closes_on is not None and closes_on < today:
        errors["closes"] = "The closing date is in the past."
    if fields.retention_months is not None and not 1 <= fields.retention_months <= MAX_RETENTION_MONTHS:
        errors["retention"] = f"Keep personal data between 1 and {MAX_RETENTION_MONTHS} months after closing."
    if fields.submitted_on is not None and fields.submitted_on > today:
        errors["submitted"] = "The submission date is in the future."

    targets: dict[str, int] = {}
    if rules == RuleSet.ECI:
        if fields.goal is not None and fields.goal != eci.GOAL_TOTAL:
            errors["goal"] = f"ECI rules fix the goal at {eci.GOAL_TOTAL:,} signatures."
        if fields.country_targets:
            errors["targets"] = "ECI rules fix the per-country minimums."
        latest = latest_eci_closing(opens_on)
        if closes_on is not None and closes_on > latest:
            errors["closes"] = (
                f"An ECI collection lasts at most 12 months: close on {latest.isoformat()} at the latest."
            )
        closes_on = closes_on or latest
        if registration_changes:
            _check_registration(fields.registered_on, today, errors)
        targets = eci.thresholds_for(fields.registered_on or today)
    else:
        for code, target in (fields.country_targets or {}).items():
            code = normalise_country(code)
            if code not in iso_countries() or target <= 0:
                errors["targets"] = f"'{code}' needs an ISO country code and a positive target."
            targets[code] = target
    campaign = check_campaign(fields.organiser_name, fields.organiser_contact, fields.eci_registration_number,
                              fields.eci_signing_url, is_eci=rules == RuleSet.ECI, errors=errors)  # fmt: skip
    cleaned = PetitionFields(
        title=title,
        summary=summary,
        body=body,
        rules=rules,
        goal=eci.GOAL_TOTAL if rules == RuleSet.ECI else fields.goal,
        closes_on=closes_on,
        registered_on=(fields.registered_on or today) if rules == RuleSet.ECI else fields.registered_on,
        country_targets=targets,
        retention_months=None if rules == RuleSet.ECI else fields.retention_months,
        submitted_on=fields.submitted_on if rules == RuleSet.ECI else None,
        organiser_name=campaign["organiser_name"] or "",
        organiser_contact=campaign["organiser_contact"] or "",
        eci_registration_number=campaign["eci_registration_number"] or "",
        eci_signing_url=campaign["eci_signing_url"] or "",
    )
    return cleaned, targets, errors


def create_petition(
    session: Session,
    *,
    slug: str,
    title: str,
    now: datetime,
    summary: str = "",
    body: str = "",
    rules: str = "eci",
    goal: int | None = None,
    closes_on: date | None = None,
    registered_on: date | None = None,
    country_targets: dict[str, int] | None = None,
    retention_months: int | None = None,
    draft: bool = False,
    locale: str = "en",
    organiser_name: str = "",
    organiser_contact: str = "",
    eci_registration_number: str = "",
    eci_signing_url: str = "",
) -> Petition:
    """Validate and add a petition to the session (the caller commits). Raises PetitionInvalid.
    `locale` is the language the petition's own text is written in."""
    slug = slug.strip().lower()
    today = now.astimezone(UTC).date()
    fields, targets, errors = check_fields(
        PetitionFields(
            title=title,
            summary=summary,
            body=body,
            rules=rules,
            goal=goal,
            closes_on=closes_on,
            registered_on=registered_on,
            country_targets=country_targets,
            retention_months=retention_months,
            organiser_name=organiser_name,
            organiser_contact=organiser_contact,
            eci_registration_number=eci_registration_number,
            eci_signing_url=eci_signing_url,
        ),
        today,
        opens_on=today,
    )
    if not SLUG_PATTERN.match(slug):
        errors = {
            "slug": "Use 1-64 lower-case letters, digits and hyphens, not starting or ending with a hyphen."
        } | errors
    elif session.scalar(select(Petition.id).where(Petition.slug == slug)) is not None:
        errors = {"slug": f"A petition with the address '{slug}' already exists."} | errors
    text_locale = match_locale(locale)
    if text_locale is None:
        errors["lang"] = f"'{locale}' is not one of the supported languages."
    if errors:
        raise PetitionInvalid(errors)

    is_eci = fields.rules == RuleSet.ECI
    petition = Petition(
        slug=slug,
        title=fields.title,
        summary=fields.summary,
        body_markdown=fields.body,
        locale=text_locale,
        status=PetitionStatus.DRAFT if draft else PetitionStatus.OPEN,
        rules=RuleSet(fields.rules),
        goal_total=fields.goal,
        min_countries=eci.MIN_COUNTRIES if is_eci else None,
        registered_on=fields.registered_on,
        opens_at=start_of(today),
        closes_at=end_of(fields.closes_on) if fields.closes_on else None,
        retention_months=fields.retention_months,
        **_campaign_columns(fields),
        created_at=now,
        updated_at=now,
        country_targets=[CountryTarget(country=code, threshold=n) for code, n in sorted(targets.items())],
    )
    session.add(petition)
    return petition


def _campaign_columns(fields: PetitionFields) -> dict[str, str | None]:
    """The cleaned campaign fields as the columns store them: NULL when empty."""
    names = ("organiser_name", "organiser_contact", "eci_registration_number", "eci_signing_url")
    return {name: getattr(fields, name) or None for name in names}


def fields_of(petition: Petition) -> PetitionFields:
    return PetitionFields(
        title=petition.title,
        summary=petition.summary,
        body=petition.body_markdown,
        rules=petition.rules.value,
        goal=petition.goal_total,
        closes_on=petition.closes_at.date() if petition.closes_at else None,
        registered_on=petition.registered_on,
        country_targets=None if petition.rules == RuleSet.ECI else petition.thresholds(),
        retention_months=petition.retention_months,
        submitted_on=petition.submitted_on,
        organiser_name=petition.organiser_name or "",
        organiser_contact=petition.organiser_contact or "",
        eci_registration_number=petition.eci_registration_number or "",
        eci_signing_url=petition.eci_signing_url or "",
    )


def update_petition(
    session: Session, petition: Petition, changes: PetitionFields, *, now: datetime, editor_id: int | None
) -> None:
    """Apply an organiser's edit (the caller commits). Raises PetitionInvalid.

    Rules and the ECI registration date fix the thresholds, so they change only while a draft. Once a
    petition is open its text may still be corrected, but every version people may have signed is kept
    in its revisions; once closed, only the submission and retention settings change."""
    today = now.astimezone(UTC).date()
    status = petition.status_at(now)
    current = fields_of(petition)
    errors: dict[str, str] = {}
    if status != PetitionStatus.DRAFT:
        if changes.rules != current.rules:
            errors["rules"] = "The rules cannot change once the petition has opened."
        if changes.rules == RuleSet.ECI and changes.registered_on not in (None, current.registered_on):
            errors["registered"] = "The registration date cannot change once the petition has opened."
        changes.registered_on = current.registered_on
    opens_on = petition.opens_at.date() if petition.opens_at and status != PetitionStatus.DRAFT else today
    # A closing date already in the past stays acceptable as long as it is not changed.
    check_today = (
        min(today, current.closes_on) if changes.closes_on == current.closes_on and current.closes_on else today
    )
    fields, targets, more_errors = check_fields(
        changes, check_today, opens_on, registration_changes=status == PetitionStatus.DRAFT
    )
    errors = {**more_errors, **errors}
    if status == PetitionStatus.CLOSED:
        signed_under = ("title", "summary", "body", "goal", "closes_on")
        if any(getattr(fields, name) != getattr(current, name) for name in signed_under):
            errors["closed"] = "A closed petition keeps the text, goal and dates people signed under."
    if errors:
        raise PetitionInvalid(errors)

    if status == PetitionStatus.OPEN and (fields.title, fields.summary, fields.body) != (
        current.title,
        current.summary,
        current.body,
    ):
        record_revision(session, petition, fields, now, editor_id)
    petition.title, petition.summary, petition.body_markdown = fields.title, fields.summary, fields.body
    petition.goal_total = fields.goal
    petition.closes_at = end_of(fields.closes_on) if fields.closes_on else None
    petition.retention_months = fields.retention_months
    petition.submitted_on = fields.submitted_on
    # Who runs it and where to sign officially may be corrected at any time: they are not what people signed.
    for name, value in _campaign_columns(fields).items():
        setattr(petition, name, value)
    if status == PetitionStatus.DRAFT:
        petition.rules = RuleSet(fields.rules)
        petition.min_countries = eci.MIN_COUNTRIES if fields.rules == RuleSet.ECI else None
        petition.registered_on = fields.registered_on
    if status == PetitionStatus.DRAFT or fields.rules == RuleSet.SIMPLE:
        _replace_targets(session, petition, targets)
    petition.updated_at = now


def _replace_targets(session: Session, petition: Petition, targets: dict[str, int]) -> None:
    if petition.thresholds() == targets:
        return
    petition.country_targets.clear()
    session.flush()
    petition.country_targets.extend(CountryTarget(country=c, threshold=n) for c, n in sorted(targets.items()))


def record_revision(
    session: Session, petition: Petition, new: PetitionFields, now: datetime, editor_id: int | None
) -> None:
    """Keep the text as it was (the first time, dated from the opening) and the text as it now reads."""
    has_history = session.scalar(select(PetitionRevision.id).where(PetitionRevision.petition_id == petition.id))
    if has_history is None:
        session.add(
            PetitionRevision(
                petition_id=petition.id,
                title=petition.title,
                summary=petition.summary,
                body_markdown=petition.body_markdown,
                created_at=petition.opens_at or petition.created_at,
            )
        )
    session.add(
        PetitionRevision(
            petition_id=petition.id,
            title=new.title,
            summary=new.summary,
            body_markdown=new.body,
            created_at=now,
            organiser_id=editor_id,
        )
    )


def revisions_of(session: Session, petition_id: int) -> list[PetitionRevision]:
    return list(
        session.scalars(
            select(PetitionRevision)
            .where(PetitionRevision.petition_id == petition_id)
            .order_by(PetitionRevision.created_at.desc(), PetitionRevision.id.desc())
        )
    )


def open_petition(session: Session, petition: Petition, now: datetime) -> None:
    """Start collecting now. For ECI rules the 12 months count from today, so the closing date is
    checked again."""
    if petition.status != PetitionStatus.DRAFT:
        raise PetitionInvalid({"status": "Only a draft can be opened."})
    today = now.astimezone(UTC).date()
    if petition.closes_at is not None and petition.closes_at <= now:
        raise PetitionInvalid({"closes": "The closing date has passed: choose a later one first."})
    if petition.rules == RuleSet.ECI and petition.closes_at and petition.closes_at.date() > latest_eci_closing(today):
        raise PetitionInvalid({"closes": "An ECI collection lasts at most 12 months from its opening."})
    petition.status = PetitionStatus.OPEN
    petition.opens_at = now
    petition.updated_at = now


def get_by_slug(session: Session, slug: str) -> Petition | None:
    return session.scalar(select(Petition).where(Petition.slug == slug))

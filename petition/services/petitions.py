"""Creating petitions with the rules they follow; one set of checks for the CLI and the browser."""

import re
from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.i18n import match_locale
from petition.models import CountryTarget, Petition, PetitionStatus, RuleSet
from petition.rules import eci
from petition.rules.countries import iso_countries, normalise_country

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


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
    """Collection lasts at most 12 months: opening 26 Nov 2026, the last day is 25 Nov 2027."""
    return add_months(opens_on, eci.MAX_COLLECTION_MONTHS) - timedelta(days=1)


def allowed_countries(petition: Petition) -> frozenset[str]:
    if petition.rules == RuleSet.ECI:
        return frozenset(eci.member_states())
    return iso_countries()


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
    draft: bool = False,
    locale: str = "en",
) -> Petition:
    """Validate and add a petition to the session (the caller commits). Raises PetitionInvalid."""
    errors: dict[str, str] = {}
    slug = slug.strip().lower()
    title = " ".join(title.split())
    today = now.astimezone(UTC).date()
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = "Use 1-64 lower-case letters, digits and hyphens, not starting or ending with a hyphen."
    elif session.scalar(select(Petition.id).where(Petition.slug == slug)) is not None:
        errors["slug"] = f"A petition with the address '{slug}' already exists."
    if not 1 <= len(title) <= 200:
        errors["title"] = "The title must be 1 to 200 characters."
    if len(summary) > 1000:
        errors["summary"] = "The summary must be at most 1,000 characters."
    text_locale = match_locale(locale)
    if text_locale is None:
        errors["lang"] = f"'{locale}' is not one of the supported languages."
    if rules not in {r.value for r in RuleSet}:
        errors["rules"] = "Rules are either 'eci' or 'simple'."
    if goal is not None and goal <= 0:
        errors["goal"] = "The goal must be a positive number."
    if closes_on is not None and closes_on < today:
        errors["closes"] = "The closing date is in the past."

    targets: dict[str, int] = {}
    if rules == RuleSet.ECI:
        if goal is not None and goal != eci.GOAL_TOTAL:
            errors["goal"] = f"ECI rules fix the goal at {eci.GOAL_TOTAL:,} signatures."
        if country_targets:
            errors["targets"] = "ECI rules fix the per-country minimums."
        latest = latest_eci_closing(today)
        if closes_on is not None and closes_on > latest:
            errors["closes"] = (
                f"An ECI collection lasts at most 12 months: close on {latest.isoformat()} at the latest."
            )
        closes_on = closes_on or latest
        targets = eci.thresholds_for(registered_on or today)
    else:
        for code, target in (country_targets or {}).items():
            code = normalise_country(code)
            if code not in iso_countries() or target <= 0:
                errors["targets"] = f"'{code}' needs an ISO country code and a positive target."
            targets[code] = target
    if errors:
        raise PetitionInvalid(errors)

    is_eci = rules == RuleSet.ECI
    petition = Petition(
        slug=slug,
        title=title,
        summary=summary.strip(),
        body_markdown=body,
        locale=text_locale,
        status=PetitionStatus.DRAFT if draft else PetitionStatus.OPEN,
        rules=RuleSet(rules),
        goal_total=eci.GOAL_TOTAL if is_eci else goal,
        min_countries=eci.MIN_COUNTRIES if is_eci else None,
        registered_on=(registered_on or today) if is_eci else registered_on,
        opens_at=start_of(today),
        closes_at=end_of(closes_on) if closes_on else None,
        created_at=now,
        updated_at=now,
        country_targets=[CountryTarget(country=code, threshold=n) for code, n in sorted(targets.items())],
    )
    session.add(petition)
    return petition


def get_by_slug(session: Session, slug: str) -> Petition | None:
    return session.scalar(select(Petition).where(Petition.slug == slug))

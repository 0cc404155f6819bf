"""The API's JSON shapes, built from models and counts; no personal data ever reaches them."""

from datetime import datetime

from petition.models import Petition
from petition.services.counting import Counts, progress_of
from petition.timeutil import iso_z


def petition_summary(petition: Petition, total: int, now: datetime) -> dict:
    return {"slug": petition.slug, "title": petition.title, "status": petition.status_at(now).value, "total": total}


def petition_detail(petition: Petition, counts: Counts, now: datetime) -> dict:
    progress = progress_of(petition, counts)
    goal = None
    if progress.has_goal:
        goal = {"total": petition.goal_total, "min_countries": petition.min_countries}
    updated = max(filter(None, [petition.updated_at, counts.updated_at]))
    return {
        "slug": petition.slug,
        "title": petition.title,
        "status": petition.status_at(now).value,
        "opens_at": iso_z(petition.opens_at),
        "closes_at": iso_z(petition.closes_at),
        "total": progress.total,
        "goal": goal,
        "countries": [
            {"code": c.code, "count": c.count, "threshold": c.threshold, "reached": c.reached}
            for c in progress.countries
        ],
        "countries_reached": progress.countries_reached,
        "goal_reached": progress.goal_reached,
        "updated_at": iso_z(updated),
    }

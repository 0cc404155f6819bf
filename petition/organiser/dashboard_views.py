"""The live dashboard: a page, and the fragment of figures it refreshes every second (ETag: unchanged
figures cost a 304 and no transfer)."""

import hashlib

from flask import current_app, make_response, render_template, request

from petition import charts
from petition.extensions import db
from petition.links import external_url
from petition.models import Petition, Role
from petition.organiser.access import petition_for
from petition.policy import passive
from petition.services import dashboard as figures_service
from petition.services import lifecycle
from petition.timeutil import utcnow


def _render_figures(petition: Petition, role: Role) -> tuple[str, str]:
    now = utcnow()
    cache = current_app.extensions.setdefault("organiser_activity_cache", {})
    figures = figures_service.figures(db.session, petition, now, cache)
    html = render_template(
        "organiser/_figures.html",
        petition=petition,
        role=role,
        f=figures,
        charts=charts,
        status=petition.status_at(now),
    )
    return html, hashlib.sha256(html.encode()).hexdigest()[:32]


def dashboard(slug: str):
    petition, role = petition_for(slug)
    html, etag = _render_figures(petition, role)
    return render_template(
        "organiser/dashboard.html",
        petition=petition,
        role=role,
        figures_html=html,
        etag=etag,
        status=petition.status_at(utcnow()),
        retention_date=lifecycle.retention_date(petition),
        public_url=external_url("public.petition_page", slug=petition.slug),
    )


@passive
def figures(slug: str):
    petition, role = petition_for(slug)
    html, etag = _render_figures(petition, role)
    response = make_response(html)
    response.set_etag(etag)
    return response.make_conditional(request)

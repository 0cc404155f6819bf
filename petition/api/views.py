"""Read endpoints of the public API, and the health check."""

from dataclasses import dataclass
from hashlib import sha1

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from petition.api import openapi
from petition.api.serialise import petition_detail, petition_summary
from petition.extensions import db
from petition.models import Petition, PetitionStatus, SignatureCount
from petition.policy import for_blueprint
from petition.public_cache import public_cache
from petition.services import counting
from petition.services.petitions import get_by_slug
from petition.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)
# For scripts: errors in JSON, and a `?lang=` is not remembered (a cookie means nothing to an API client).
for_blueprint(bp, json_errors=True, language_cookie=False)
for_blueprint(health_bp, json_errors=True, language_cookie=False)


def _public_headers(response: Response) -> Response:
    """Cacheable for a second (totals must show within two), revalidated cheaply by ETag."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=1, stale-while-revalidate=1"
    return response


def public_json(payload: dict):
    response = _public_headers(jsonify(payload))
    response.add_etag()
    return response.make_conditional(request)


@dataclass(frozen=True)
class CachedJson:
    body: bytes
    etag: str


def _petition_json(slug: str) -> CachedJson | None:
    now = utcnow()
    petition = get_by_slug(db.session, slug)
    if petition is None or petition.status_at(now) == PetitionStatus.DRAFT:
        return None
    payload = petition_detail(petition, counting.read_counts(db.session, petition.id), now)
    body = (current_app.json.dumps(payload) + "\n").encode()
    return CachedJson(body, sha1(body, usedforsecurity=False).hexdigest())


@bp.get("/petitions")
def list_petitions():
    now = utcnow()
    petitions = db.session.scalars(
        select(Petition).where(Petition.status != PetitionStatus.DRAFT).order_by(Petition.id)
    ).all()
    totals = dict(
        db.session.execute(
            select(SignatureCount.petition_id, func.sum(SignatureCount.count)).group_by(SignatureCount.petition_id)
        ).all()
    )
    visible = [p for p in petitions if p.status_at(now) != PetitionStatus.DRAFT]
    return public_json({"petitions": [petition_summary(p, int(totals.get(p.id) or 0), now) for p in visible]})


@bp.get("/petitions/<slug>")
def get_petition(slug: str):
    cached = public_cache().get_or_make(("api", slug), lambda: _petition_json(slug))
    if cached is None:
        return {"error": "not_found", "message": "No such petition."}, 404
    response = _public_headers(Response(cached.body, mimetype="application/json"))
    response.set_etag(cached.etag)
    return response.make_conditional(request)


@bp.get("/openapi.json")
def openapi_document():
    return public_json(openapi.document(current_app.config["BASE_URL"]))


@health_bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable"}, 503
    return {"status": "ok"}

"""The partner API: submit signatures with an API key, and read one's own counts.

Signatures go through the very form and `sign()` our page uses, so validation, deduplication and
the confirmation email are the same, and the answer never tells whether an address had signed."""

import functools

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import TooManyRequests

from petition import intake, rate_limits
from petition.extensions import client_address, db
from petition.intake import Door, Verdict
from petition.models import Partner, PetitionStatus
from petition.public.forms import SOURCE_CODE
from petition.services import attribution, partners, personal
from petition.services.attribution import Channel
from petition.services.petition_facts import facts_cache
from petition.timeutil import iso_z, utcnow

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1")

TEXT_FIELDS = ("first_name", "last_name", "email", "country")
FLAG_FIELDS = ("consent", "keep_informed", "eligible")


def current_partner() -> Partner | None:
    """The active partner whose key is in `Authorization: Bearer <key>`, looked up once per request."""
    if "partner" not in g:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else None
        g.partner = partners.authenticate(db.session, key)
    return g.partner


def rate_limit_key() -> str:
    """Per key for partners; per address for requests without a valid key, which the rate-limit
    storage (Redis) holds only as the same keyed hash the database uses, never in clear."""
    partner = current_partner()
    return f"partner:{partner.public_id}" if partner else f"ip:{personal.ip_hash(client_address())}"


def rate_limited(view):
    """`PARTNER_API_RATE_LIMIT` per key (or per address without one): past it, 429 with Retry-After,
    and `retry_after` in the JSON body (petition/errors.py)."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        verdict = rate_limits.hit_for("partner-api", current_app.config["PARTNER_API_RATE_LIMIT"], who=rate_limit_key())
        if verdict.over:
            raise TooManyRequests(retry_after=verdict.retry_after)
        return view(*args, **kwargs)

    return limited


def _error(status: int, error: str, message: str):
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="petition-api"'
    return response


def _unauthorised():
    return _error(401, "unauthorized", "Send your partner API key as `Authorization: Bearer <key>`.")


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_data(body: dict) -> tuple[MultiDict, dict[str, list[str]]]:
    """The JSON body as the form would receive it, plus errors for values of the wrong JSON type."""
    errors: dict[str, list[str]] = {}
    data = MultiDict()
    for name in TEXT_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = ["Must be a string."]
        data[name] = value if isinstance(value, str) else ""
    for name in FLAG_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            errors[name] = ["Must be true or false."]
        if value is True:
            data[name] = "y"
    if body.get("eligible") is None:
        # An ECI's statement of nationality and age: the partner's own form carries it, so leaving it
        # out means it was given there. Only an explicit `false` (the signer said no) refuses.
        data["eligible"] = "y"
    source = body.get("source")
    if source is not None and not (isinstance(source, str) and SOURCE_CODE.match(source)):
        errors["source"] = ["Use 1 to 40 letters, digits, '-' or '_'."]
    elif source:
        data["source"] = source
    return data, errors


@bp.post("/petitions/<slug>/signatures")
@rate_limited
def submit_signature(slug: str):
    partner = current_partner()
    if partner is None:
        return _unauthorised()
    now = utcnow()
    facts = facts_cache().by_slug(db.session, slug)
    if facts is None or facts.status_at(now) == PetitionStatus.DRAFT:
        return _error(404, "not_found", "No such petition.")
    if not partners.may_collect(db.session, partner, facts):
        return _error(403, "forbidden", "This key may not collect signatures for this petition.")
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # `[[[[…` a thousand deep: the parser gives up before it says "invalid"
        return _error(400, "bad_request", "The body is not a JSON object we can read.")
    if not isinstance(body, dict):
        if not facts.is_accepting_signatures(now):
            return _not_open()
        return {"errors": {"body": ["Send a JSON object with the signer's fields."]}}, 422
    formdata, type_errors = _form_data(body)
    door = Door(Channel.API, partner.public_id)
    result = intake.submit(db.session, facts, door, formdata, now=now, raw_errors=type_errors)
    if result.verdict == Verdict.CLOSED:
        return _not_open()
    if result.verdict != Verdict.TAKEN:
        errors = {name: [str(m) for m in messages] for name, messages in result.errors.items()}
        errors.update(type_errors)
        return {"errors": errors}, 422
    # The same answer for a new, pending, confirmed or refused address: the email tells the owner.
    return _private(jsonify({"status": "pending"})), 202


def _not_open():
    return _error(409, "not_open", "This petition does not accept signatures now.")


@bp.get("/partner/stats")
@rate_limited
def stats():
    partner = current_partner()
    if partner is None:
        return _unauthorised()
    rows = attribution.partner_counts(db.session, partner)
    return _private(
        jsonify(
            {
                "partner": {"id": partner.public_id, "name": partner.name},
                "petitions": [
                    {
                        "slug": r.petition.slug,
                        "title": r.petition.title,
                        "submitted": r.submitted,
                        "pending": r.pending,
                        "confirmed": r.confirmed,
                    }
                    for r in rows
                ],
                "generated_at": iso_z(utcnow()),
            }
        )
    )

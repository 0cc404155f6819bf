"""The partner API: submit signatures with an API key, and read one's own counts.

Signatures go through the very form and `sign()` our page uses, so validation, deduplication and
the confirmation email are the same, and the answer never tells whether an address had signed."""

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.datastructures import MultiDict

from petition.extensions import client_address, db, limiter
from petition.models import Partner, PetitionStatus
from petition.public.forms import SOURCE_CODE, SignForm
from petition.public.views import signer_from_form
from petition.services import attribution, lifecycle, partners, signing
from petition.services.attribution import Channel, source_for
from petition.services.petitions import allowed_countries, get_by_slug
from petition.timeutil import iso_z, utcnow

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1")

TEXT_FIELDS = ("first_name", "last_name", "email", "country")
FLAG_FIELDS = ("consent", "keep_informed")


def current_partner() -> Partner | None:
    """The active partner whose key is in `Authorization: Bearer <key>`, looked up once per request."""
    if "partner" not in g:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else None
        g.partner = partners.authenticate(db.session, key)
    return g.partner


def rate_limit_key() -> str:
    """Per key for partners; per address for requests without a valid key."""
    partner = current_partner()
    return f"partner:{partner.public_id}" if partner else f"ip:{client_address()}"


def partner_rate_limit() -> str:
    return current_app.config["PARTNER_API_RATE_LIMIT"]


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
    source = body.get("source")
    if source is not None and not (isinstance(source, str) and SOURCE_CODE.match(source)):
        errors["source"] = ["Use 1 to 40 letters, digits, '-' or '_'."]
    elif source:
        data["source"] = source
    return data, errors


@bp.post("/petitions/<slug>/signatures")
@limiter.limit(partner_rate_limit, key_func=rate_limit_key)
def submit_signature(slug: str):
    partner = current_partner()
    if partner is None:
        return _unauthorised()
    now = utcnow()
    petition = get_by_slug(db.session, slug)
    if petition is None or petition.status_at(now) == PetitionStatus.DRAFT:
        return _error(404, "not_found", "No such petition.")
    if not partners.may_collect(db.session, partner, petition):
        return _error(403, "forbidden", "This key may not collect signatures for this petition.")
    if not lifecycle.accepts_signatures(db.session, petition, now):
        return _error(409, "not_open", "This petition does not accept signatures now.")

    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return {"errors": {"body": ["Send a JSON object with the signer's fields."]}}, 422
    formdata, type_errors = _form_data(body)
    form = SignForm(
        formdata=formdata,
        allowed_countries=allowed_countries(petition),
        check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
    )
    valid = form.validate()
    if type_errors or not valid:
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        errors.update(type_errors)
        return {"errors": errors}, 422

    signing.sign(
        db.session,
        petition,
        signer_from_form(form),
        now=now,
        source=source_for(Channel.API, partner.public_id, form.source_code),
        # The address calling is the partner's server, not the signer: recording it would mislead.
        ip=None,
    )
    db.session.commit()
    # The same answer for a new, pending, confirmed or refused address: the email tells the owner.
    return _private(jsonify({"status": "pending"})), 202


@bp.get("/partner/stats")
@limiter.limit(partner_rate_limit, key_func=rate_limit_key)
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
                    {"slug": r.petition.slug, "title": r.petition.title, "pending": r.pending, "confirmed": r.confirmed}
                    for r in rows
                ],
                "generated_at": iso_z(utcnow()),
            }
        )
    )

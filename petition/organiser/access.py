"""Which petitions the logged-in organiser may see or change: 404 for anything not theirs."""

from flask import abort
from flask_login import current_user

from petition.extensions import db
from petition.models import Membership, Petition, Role
from petition.services.petitions import get_by_slug


def petition_for(slug: str, owner: bool = False) -> tuple[Petition, Role]:
    """The petition and the organiser's role on it. A petition that is not theirs does not exist as
    far as they can tell (404); a viewer asking to change something gets 403."""
    petition = get_by_slug(db.session, slug)
    membership = db.session.get(Membership, (current_user.id, petition.id)) if petition else None
    if petition is None or membership is None:
        abort(404)
    if owner and membership.role != Role.OWNER:
        abort(403)
    return petition, membership.role

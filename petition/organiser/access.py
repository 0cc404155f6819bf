"""Which petitions the logged-in organiser may see or change: 404 for anything not theirs."""

from collections.abc import Collection

from flask import abort
from flask_login import current_user

from petition.extensions import db
from petition.models import Membership, Petition, Role
from petition.services.petitions import get_by_slug

# Who may write and send updates to signers.
UPDATE_WRITERS = frozenset({Role.OWNER, Role.EDITOR})


def petition_for(slug: str, owner: bool = False, roles: Collection[Role] | None = None) -> tuple[Petition, Role]:
    """The petition and the organiser's role on it. A petition that is not theirs does not exist as
    far as they can tell (404); someone whose role does not allow what they ask (not the owner, or
    not among `roles`) gets 403."""
    petition = get_by_slug(db.session, slug)
    membership = db.session.get(Membership, (current_user.id, petition.id)) if petition else None
    if petition is None or membership is None:
        abort(404)
    if (owner and membership.role != Role.OWNER) or (roles is not None and membership.role not in roles):
        abort(403)
    return petition, membership.role

"""What the commands share: refusing with a message, and finding the petition an option names."""

from typing import NoReturn

import click

from petition.extensions import db
from petition.models import Petition
from petition.services.petitions import get_by_slug


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def petition_or_fail(slug: str) -> Petition:
    return get_by_slug(db.session, slug) or fail(f"No petition '{slug}'.")

"""`flask --app wsgi recount`: recompute the counters from the signatures and say what drifted."""

import click
from flask import Flask
from sqlalchemy import select

from petition.cli.common import fail
from petition.db_engine import write_intent
from petition.extensions import db
from petition.models import Petition
from petition.services import counting
from petition.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.command("recount")
    @click.option("--petition", "slug", help="Only this petition.")
    def recount(slug):
        """Recompute every counter from the signatures; print any drift corrected."""
        query = select(Petition).order_by(Petition.id)
        if slug:
            query = query.where(Petition.slug == slug)
        petitions = db.session.scalars(query).all()
        if slug and not petitions:
            fail(f"No petition '{slug}'.")
        drifted = 0
        for petition in petitions:
            with write_intent():
                drifts = counting.recount(db.session, petition, utcnow())
            for drift in drifts:
                drifted += 1
                click.echo(
                    f"{petition.slug} {drift.country}: counted {drift.counted}, actual {drift.actual} (corrected)"
                )
        click.echo(f"recount: {len(petitions)} petition(s), {drifted} counter(s) corrected")

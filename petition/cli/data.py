"""`flask --app wsgi rotate-keys` and `generate-signatures`: work on the signatures in bulk (re-encrypt, fill)."""

import time

import click
from flask import Flask

from petition.cli.common import petition_or_fail
from petition.db_engine import write_intent
from petition.extensions import db
from petition.services import counting
from petition.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.command("rotate-keys")
    def rotate_keys():
        """Re-encrypt names and emails with the first key in DATA_KEYS (after adding a new key in front)."""
        from petition.services.personal import reseal_all

        with write_intent():
            changed = reseal_all(db.session)
        click.echo(f"rotate-keys: {changed} signature(s) re-encrypted with the newest key")

    @app.cli.command("generate-signatures")
    @click.option("--petition", "slug", required=True, help="Petition to fill.")
    @click.option("--count", type=click.IntRange(min=1), required=True, help="How many signatures to add.")
    @click.option("--confirmed-ratio", type=click.FloatRange(0, 1), default=1.0, show_default=True)
    @click.option("--seed", type=int, help="Repeatable spread over countries and time.")
    def generate_signatures(slug, count, confirmed_ratio, seed):
        """Add synthetic signatures (for load tests), spread over countries by population, then recount."""
        from petition.services import synthetic

        started = time.monotonic()
        with write_intent():
            petition = petition_or_fail(slug)
            synthetic.fill(db.session, petition, count, confirmed_ratio, utcnow(), seed=seed)
            db.session.commit()
            counting.recount(db.session, petition, utcnow())
        click.echo(f"generate-signatures: {count} added to '{slug}' in {time.monotonic() - started:.1f} s")

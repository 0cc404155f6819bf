"""`flask --app wsgi organiser create`: an organiser account, optionally owner of a petition."""

import os

import click
from flask import Flask
from flask.cli import AppGroup

from petition.cli.common import fail, petition_or_fail
from petition.db_engine import write_intent
from petition.extensions import db
from petition.models import Role
from petition.services import accounts


def register(app: Flask) -> None:
    group = AppGroup("organiser", help="Manage organiser accounts.")
    app.cli.add_command(group)

    @group.command("create")
    @click.argument("email")
    @click.option("--petition", "slug", help="Make the organiser owner of this petition.")
    def organiser_create(email, slug):
        """Create an organiser; the password comes from ORGANISER_PASSWORD or a prompt."""
        password = os.environ.get("ORGANISER_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        with write_intent():
            petition = petition_or_fail(slug) if slug else None
            if accounts.find_organiser(db.session, email):
                fail(f"An organiser {email.strip().lower()} already exists.")
            try:
                organiser = accounts.create_organiser(db.session, email, password)
            except ValueError as error:
                fail(str(error))
            db.session.flush()
            if petition is not None:
                accounts.grant(db.session, organiser, petition, Role.OWNER)
            db.session.commit()
        click.echo(f"Created organiser {organiser.email}" + (f", owner of '{slug}'" if slug else ""))

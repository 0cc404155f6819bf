"""`flask --app wsgi demo`: the demo petition and its organiser that `make run` serves."""

import secrets
from pathlib import Path

import click
from flask import Flask, current_app

from petition.db_engine import write_intent
from petition.demo_translations import DEMO_TRANSLATIONS
from petition.extensions import db
from petition.models import Role
from petition.services import accounts
from petition.services.petitions import create_petition, get_by_slug
from petition.services.translations import set_translation, translated_locales
from petition.timeutil import utcnow

DEMO_ORGANISER = "organiser@example.org"
DEMO_BODY = """Cameras that recognise faces turn every street into a checkpoint.

We call on the European Commission to **ban biometric mass surveillance** in publicly accessible
spaces, and on our governments to stop buying and deploying it.

*This is a demonstration petition. Legally valid online signatures for a European Citizens'
Initiative can only be collected through the Commission's own collection system; this service
tracks campaign support against the same rules.*
"""


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Seed the demo petition (slug `demo`, ECI rules) and an organiser; safe to run again."""
        with write_intent():
            petition = get_by_slug(db.session, "demo")
            if petition is None:
                petition = create_petition(
                    db.session,
                    slug="demo",
                    title="Ban biometric mass surveillance",
                    summary="Stop facial recognition and other biometric surveillance in our public spaces.",
                    body=DEMO_BODY,
                    rules="eci",
                    now=utcnow(),
                )
                db.session.flush()
            for locale, (title, summary) in DEMO_TRANSLATIONS.items():
                if locale not in translated_locales(db.session, petition):
                    set_translation(db.session, petition, locale=locale, title=title, summary=summary)
            password_file = Path(current_app.instance_path) / "demo_organiser.txt"
            organiser = accounts.find_organiser(db.session, DEMO_ORGANISER)
            if organiser is None:
                password = secrets.token_urlsafe(12)
                organiser = accounts.create_organiser(db.session, DEMO_ORGANISER, password)
                db.session.flush()
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
            accounts.grant(db.session, organiser, petition, Role.OWNER)
            db.session.commit()
        password = password_file.read_text().strip() if password_file.exists() else "(see instance/demo_organiser.txt)"
        click.echo(f"Demo petition: {current_app.config['BASE_URL']}/p/demo")
        click.echo(f"Organiser login: {current_app.config['BASE_URL']}/organiser/login")
        click.echo(f"  email:    {DEMO_ORGANISER}")
        click.echo(f"  password: {password}")

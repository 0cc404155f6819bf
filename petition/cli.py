"""`flask --app wsgi ...` commands: demo data, petitions (and their updates), organisers, the mail worker, recount."""

import os
import secrets
import signal
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from petition import cli_partners, cli_updates
from petition.db_engine import write_intent
from petition.demo_translations import DEMO_TRANSLATIONS
from petition.extensions import db
from petition.models import Petition, Role
from petition.services import accounts, counting
from petition.services.petitions import PetitionInvalid, create_petition, get_by_slug
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


def _fail(message: str):
    raise click.ClickException(message)


def register(app: Flask) -> None:
    from petition import cli_lifecycle

    cli_partners.register(app)
    cli_lifecycle.register(app)

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

    petition_group = AppGroup("petition", help="Manage petitions.")
    app.cli.add_command(petition_group)
    cli_updates.register(petition_group)

    @petition_group.command("create")
    @click.option("--slug", required=True, help="Address of the petition: /p/<slug>.")
    @click.option("--title", required=True)
    @click.option("--summary", default="", help="One or two sentences shown under the title.")
    @click.option("--body-file", type=click.File("r", encoding="utf-8"), help="Markdown file with the full text.")
    @click.option("--rules", type=click.Choice(["eci", "simple"]), default="eci", show_default=True)
    @click.option("--goal", type=int, help="Total goal (simple rules; ECI is fixed at 1,000,000).")
    @click.option("--closes", type=click.DateTime(["%Y-%m-%d"]), help="Last day of collection (UTC).")
    @click.option("--registered", type=click.DateTime(["%Y-%m-%d"]), help="ECI registration date (default today).")
    @click.option("--target", "targets", multiple=True, metavar="CC=N", help="Per-country target (simple rules).")
    @click.option("--draft", is_flag=True, help="Create as a draft instead of open.")
    @click.option("--lang", default="en", show_default=True, help="Language of the text (add others: translate).")
    def petition_create(slug, title, summary, body_file, rules, goal, closes, registered, targets, draft, lang):
        """Create a petition, open unless --draft."""
        country_targets = {}
        for item in targets:
            code, _, number = item.partition("=")
            if not number.isdigit():
                _fail(f"--target takes CC=N, not '{item}'")
            country_targets[code] = int(number)
        with write_intent():
            try:
                petition = create_petition(
                    db.session,
                    slug=slug,
                    title=title,
                    summary=summary,
                    body=body_file.read() if body_file else "",
                    rules=rules,
                    goal=goal,
                    closes_on=closes.date() if closes else None,
                    registered_on=registered.date() if registered else None,
                    country_targets=country_targets,
                    draft=draft,
                    locale=lang,
                    now=utcnow(),
                )
                db.session.commit()
            except PetitionInvalid as error:
                db.session.rollback()
                _fail(str(error))
        url = f"{current_app.config['BASE_URL']}/p/{petition.slug}"
        click.echo(f"Created {petition.status.value} petition '{petition.slug}': {url}")

    @petition_group.command("translate")
    @click.option("--slug", required=True, help="The petition to translate.")
    @click.option("--lang", required=True, help="Language code, e.g. de, pl, el, sr-Cyrl, sr-Latn.")
    @click.option("--title", required=True)
    @click.option("--summary", default="", help="One or two sentences shown under the title.")
    @click.option("--body-file", type=click.File("r", encoding="utf-8"), help="Markdown file with the full text.")
    def petition_translate(slug, lang, title, summary, body_file):
        """Add (or replace) the petition's text in one language; readers of it see this text."""
        with write_intent():
            petition = get_by_slug(db.session, slug) or _fail(f"No petition '{slug}'.")
            try:
                row = set_translation(
                    db.session,
                    petition,
                    locale=lang,
                    title=title,
                    summary=summary,
                    body=body_file.read() if body_file else "",
                )
                db.session.commit()
            except PetitionInvalid as error:
                db.session.rollback()
                _fail(str(error))
        url = f"{current_app.config['BASE_URL']}/p/{petition.slug}?lang={row.locale.replace('_', '-')}"
        click.echo(f"Saved the {row.locale} text of '{petition.slug}': {url}")

    organiser_group = AppGroup("organiser", help="Manage organiser accounts.")
    app.cli.add_command(organiser_group)

    @organiser_group.command("create")
    @click.argument("email")
    @click.option("--petition", "slug", help="Make the organiser owner of this petition.")
    def organiser_create(email, slug):
        """Create an organiser; the password comes from ORGANISER_PASSWORD or a prompt."""
        password = os.environ.get("ORGANISER_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        with write_intent():
            petition = None
            if slug:
                petition = get_by_slug(db.session, slug) or _fail(f"No petition '{slug}'.")
            if accounts.find_organiser(db.session, email):
                _fail(f"An organiser {email.strip().lower()} already exists.")
            try:
                organiser = accounts.create_organiser(db.session, email, password)
            except ValueError as error:
                _fail(str(error))
            db.session.flush()
            if petition is not None:
                accounts.grant(db.session, organiser, petition, Role.OWNER)
            db.session.commit()
        click.echo(f"Created organiser {organiser.email}" + (f", owner of '{slug}'" if slug else ""))

    @app.cli.command("mail-worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
    @click.option("--interval", default=0.5, show_default=True, help="Seconds between looks at an empty outbox.")
    def mail_worker(once, interval):
        """Deliver queued mail until stopped (Ctrl-C or SIGTERM finish the current batch first)."""
        from petition.mail.worker import serve

        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        totals = serve(db.session, once=once, interval=interval, stopping=lambda: bool(stopping))
        click.echo(f"mail-worker: sent {totals['sent']}, will retry {totals['retried']}, failed {totals['failed']}")

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
            petition = get_by_slug(db.session, slug) or _fail(f"No petition '{slug}'.")
            synthetic.fill(db.session, petition, count, confirmed_ratio, utcnow(), seed=seed)
            db.session.commit()
            counting.recount(db.session, petition, utcnow())
        click.echo(f"generate-signatures: {count} added to '{slug}' in {time.monotonic() - started:.1f} s")

    @app.cli.command("recount")
    @click.option("--petition", "slug", help="Only this petition.")
    def recount(slug):
        """Recompute every counter from the signatures; print any drift corrected."""
        query = select(Petition).order_by(Petition.id)
        if slug:
            query = query.where(Petition.slug == slug)
        petitions = db.session.scalars(query).all()
        if slug and not petitions:
            _fail(f"No petition '{slug}'.")
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

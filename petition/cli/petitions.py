"""`flask --app wsgi petition ...`: create a petition and add its text in other languages."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from petition.cli import updates
from petition.cli.common import fail, petition_or_fail
from petition.db_engine import write_intent
from petition.extensions import db
from petition.services.petitions import PetitionInvalid, create_petition
from petition.services.translations import set_translation
from petition.timeutil import utcnow


def register(app: Flask) -> None:
    group = AppGroup("petition", help="Manage petitions.")
    app.cli.add_command(group)
    updates.register(group)

    @group.command("create")
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
    @click.option("--organiser-name", default="", help="Who runs the campaign, shown on its page.")
    @click.option("--organiser-contact", default="", help="An email or web address to reach the organisers.")
    @click.option("--eci-number", default="", help="ECI: the Commission's registration number, e.g. ECI(2024)000004.")
    @click.option("--eci-url", default="", help="ECI: the initiative's page on the Commission's signing system.")
    def petition_create(
        slug,
        title,
        summary,
        body_file,
        rules,
        goal,
        closes,
        registered,
        targets,
        draft,
        lang,
        organiser_name,
        organiser_contact,
        eci_number,
        eci_url,
    ):
        """Create a petition, open unless --draft."""
        country_targets = {}
        for item in targets:
            code, _, number = item.partition("=")
            if not number.isdigit():
                fail(f"--target takes CC=N, not '{item}'")
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
                    organiser_name=organiser_name,
                    organiser_contact=organiser_contact,
                    eci_registration_number=eci_number,
                    eci_signing_url=eci_url,
                    now=utcnow(),
                )
                db.session.commit()
            except PetitionInvalid as error:
                db.session.rollback()
                fail(str(error))
        url = f"{current_app.config['BASE_URL']}/p/{petition.slug}"
        click.echo(f"Created {petition.status.value} petition '{petition.slug}': {url}")

    @group.command("translate")
    @click.option("--slug", required=True, help="The petition to translate.")
    @click.option("--lang", required=True, help="Language code, e.g. de, pl, el, sr-Cyrl, sr-Latn.")
    @click.option("--title", required=True)
    @click.option("--summary", default="", help="One or two sentences shown under the title.")
    @click.option("--body-file", type=click.File("r", encoding="utf-8"), help="Markdown file with the full text.")
    def petition_translate(slug, lang, title, summary, body_file):
        """Add (or replace) the petition's text in one language; readers of it see this text."""
        with write_intent():
            petition = petition_or_fail(slug)
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
                fail(str(error))
        url = f"{current_app.config['BASE_URL']}/p/{petition.slug}?lang={row.locale.replace('_', '-')}"
        click.echo(f"Saved the {row.locale} text of '{petition.slug}': {url}")

"""`flask --app wsgi partner ...`: register partner sites, manage their keys, origins and petitions."""

import click
from flask import Flask
from flask.cli import AppGroup

from petition.cli.common import fail, petition_or_fail
from petition.db_engine import write_intent
from petition.extensions import db
from petition.models import Partner
from petition.services import attribution, partners
from petition.timeutil import utcnow


def _partner(public_id: str) -> Partner:
    return partners.get_by_public_id(db.session, public_id) or fail(f"No partner '{public_id}'.")


def _origin(url: str) -> str:
    try:
        return partners.normalise_origin(url)
    except ValueError as error:
        fail(str(error))


def register(app: Flask) -> None:
    # AppGroup (not click.Group) runs each command in an app context, under `flask` and test runners alike.
    group = AppGroup("partner", help="Manage partner sites that collect signatures by widget or API.")
    app.cli.add_command(group)

    @group.command("create")
    @click.option("--name", required=True, help="The partner's name, as organisers will see it.")
    @click.option("--origin", "origins", multiple=True, required=True, help="Site allowed to show the widget.")
    @click.option("--petition", "slugs", multiple=True, help="Petition the partner may collect for.")
    def create(name, origins, slugs):
        """Register a partner; prints its id and its API key (shown this once)."""
        with write_intent():
            petitions = [petition_or_fail(slug) for slug in slugs]
            try:
                new = partners.create_partner(
                    db.session, name=name, origins=list(origins), petitions=petitions, now=utcnow()
                )
                db.session.commit()
            except partners.PartnerInvalid as error:
                db.session.rollback()
                fail(str(error))
        click.echo(f"id: {new.partner.public_id}")
        click.echo(f"key: {new.key}")

    @group.command("rotate-key")
    @click.argument("partner_id")
    def rotate_key(partner_id):
        """Issue a new API key; the old one stops working at once. Prints the new key."""
        with write_intent():
            partner = _partner(partner_id)
            if not partner.is_active:
                fail(f"Partner '{partner_id}' is revoked.")
            new = partners.rotate_key(db.session, partner, utcnow())
            db.session.commit()
        click.echo(f"key: {new.key}")

    @group.command("revoke")
    @click.argument("partner_id")
    def revoke(partner_id):
        """Stop the partner's key and widget; its signatures stay counted and credited."""
        with write_intent():
            partners.revoke(db.session, _partner(partner_id), utcnow())
            db.session.commit()
        click.echo(f"Revoked partner {partner_id}.")

    @group.command("add-origin")
    @click.argument("partner_id")
    @click.argument("url")
    def add_origin(partner_id, url):
        """Allow another site of the partner to show the widget."""
        _origin(url)
        with write_intent():
            origin = partners.add_origin(db.session, _partner(partner_id), url)
            db.session.commit()
        click.echo(f"Partner {partner_id} may show the widget on {origin}.")

    @group.command("remove-origin")
    @click.argument("partner_id")
    @click.argument("url")
    def remove_origin(partner_id, url):
        """Stop a site from showing the widget."""
        origin = _origin(url)
        with write_intent():
            if not partners.remove_origin(db.session, _partner(partner_id), url):
                fail(f"Partner {partner_id} has no origin {origin}.")
            db.session.commit()
        click.echo(f"Partner {partner_id} may no longer show the widget on {origin}.")

    @group.command("allow")
    @click.argument("partner_id")
    @click.option("--petition", "slug", required=True)
    def allow(partner_id, slug):
        """Let the partner collect for another petition."""
        with write_intent():
            partners.allow_petition(db.session, _partner(partner_id), petition_or_fail(slug), utcnow())
            db.session.commit()
        click.echo(f"Partner {partner_id} may collect for '{slug}'.")

    @group.command("disallow")
    @click.argument("partner_id")
    @click.option("--petition", "slug", required=True)
    def disallow(partner_id, slug):
        """Stop the partner collecting for a petition (what it collected stays credited)."""
        with write_intent():
            if not partners.disallow_petition(db.session, _partner(partner_id), petition_or_fail(slug)):
                fail(f"Partner {partner_id} does not collect for '{slug}'.")
            db.session.commit()
        click.echo(f"Partner {partner_id} no longer collects for '{slug}'.")

    @group.command("list")
    @click.option("--petition", "slug", help="Only this petition's partners, with what each brought in.")
    def list_partners(slug):
        """Partners, their sites and petitions (with counts when --petition is given)."""
        if slug:
            for row in attribution.by_partner(db.session, petition_or_fail(slug).id):
                total = row.total
                rate = f"{total.confirmation_rate:.0%}" if total.confirmation_rate is not None else "-"
                click.echo(
                    f"{row.partner.public_id}  {row.partner.name}{'' if row.partner.is_active else ' (revoked)'}: "
                    f"{total.confirmed} confirmed, {total.pending} pending, confirmation rate {rate} "
                    f"(widget {row.widget.signatures}, api {row.api.signatures})"
                )
            return
        for partner in db.session.scalars(db.select(Partner).order_by(Partner.name)):
            slugs = sorted(link.petition.slug for link in partner.petition_links)
            state = "active" if partner.is_active else "revoked"
            click.echo(
                f"{partner.public_id}  {partner.name} [{state}, key {partner.key_hint}…] "
                f"origins: {', '.join(o.origin for o in partner.origins) or '-'}; petitions: {', '.join(slugs) or '-'}"
            )

"""`flask --app wsgi petition update …`: campaign updates from the command line, for scripting.

`update` writes and sends one at once (no draft, no preview: use the organisers' area for those);
the mail workers do the sending. `updates`, `pause-update` and `resume-update` follow and steer them.
"""

import click
from flask.cli import AppGroup

from petition.db_engine import write_intent
from petition.extensions import db
from petition.models import CampaignUpdate
from petition.services import updates
from petition.services.petitions import get_by_slug
from petition.timeutil import utcnow


def register(petition_group: AppGroup) -> None:
    @petition_group.command("update")
    @click.option("--slug", required=True, help="The petition whose signers get it.")
    @click.option("--subject", required=True)
    @click.option("--body-file", required=True, type=click.File("r", encoding="utf-8"), help="Markdown text.")
    @click.option(
        "--audience",
        type=click.Choice(["opted-in", "all"]),
        default="opted-in",
        show_default=True,
        help="opted-in: confirmed signers who asked to be kept informed; all: every confirmed signer "
        "(news about the petition itself).",
    )
    @click.option("--lang", help="Language of the text (default: the petition's).")
    def petition_update(slug, subject, body_file, audience, lang):
        """Queue an update email to the petition's confirmed signers; prints the number queued."""
        with write_intent():
            petition = get_by_slug(db.session, slug)
            if petition is None:
                raise click.ClickException(f"No petition '{slug}'.")
            now = utcnow()
            try:
                created = updates.draft(
                    db.session,
                    petition,
                    subject=subject,
                    body=body_file.read(),
                    audience=updates.parse_audience(audience),
                    locale=lang,
                    now=now,
                )
                queued = updates.start(db.session, created, now=now, organiser=None)
            except updates.UpdateInvalid as invalid:
                db.session.rollback()
                raise click.ClickException(str(invalid)) from invalid
            db.session.commit()
        click.echo(f"update: {created.id}")
        click.echo(f"queued: {queued}")

    @petition_group.command("updates")
    @click.option("--slug", required=True)
    def petition_updates(slug):
        """List the petition's updates with their progress."""
        petition = get_by_slug(db.session, slug)
        if petition is None:
            raise click.ClickException(f"No petition '{slug}'.")
        for found in updates.updates_of(db.session, petition.id):
            p = updates.progress_of(db.session, found)
            click.echo(
                f"{found.id}\t{found.status.value}\trecipients {p.recipients}\tqueued {p.queued}\tsent {p.sent}"
                f"\tfailed {p.failed}\tin doubt {p.in_doubt}\tskipped {p.skipped}\tunsubscribed {p.unsubscribed}"
                f"\t{found.subject}"
            )

    def steer(update_id: int, change, done: str) -> None:
        with write_intent():
            found = db.session.get(CampaignUpdate, update_id)
            if found is None:
                raise click.ClickException(f"No update {update_id}.")
            changed = change(db.session, found, now=utcnow(), organiser=None)
            db.session.commit()
        click.echo(f"update {update_id}: " + (done if changed else f"unchanged ({found.status.value})"))

    @petition_group.command("pause-update")
    @click.argument("update_id", type=int)
    def pause_update(update_id):
        """Stop sending an update (the message each worker has in hand finishes)."""
        steer(update_id, updates.pause, "paused")

    @petition_group.command("resume-update")
    @click.argument("update_id", type=int)
    def resume_update(update_id):
        """Go on sending a paused update."""
        steer(update_id, updates.resume, "resumed")

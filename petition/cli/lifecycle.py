"""`flask --app wsgi close-expired` and `purge`: the scheduled housekeeping.

Run them from cron or a systemd timer, e.g. every few minutes and daily."""

from datetime import timedelta

import click
from flask import Flask, current_app

from petition.db_engine import write_intent
from petition.extensions import db
from petition.services import activity, lifecycle, login_throttle, organiser_sessions, privacy
from petition.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.command("close-expired")
    def close_expired():
        """Close every open petition whose closing time has passed (and tell its organisers)."""
        with write_intent():
            closed = lifecycle.close_expired(db.session, utcnow())
        for slug in closed:
            click.echo(f"closed {slug}")
        click.echo(f"close-expired: {len(closed)} petition(s) closed")

    @app.cli.command("purge")
    def purge():
        """Delete unconfirmed signatures whose links expired, and personal data past each petition's
        retention date (counts stay); also IP hashes past IP_HASH_DAYS and old login records. Run it daily."""
        config = current_app.config
        now = utcnow()
        with write_intent():
            lifecycle.close_expired(db.session, now)
            unconfirmed = lifecycle.purge_unconfirmed(
                db.session, now, timedelta(seconds=config["CONFIRM_TOKEN_MAX_AGE"])
            )
            reports = lifecycle.purge_due(db.session, now)
            compacted = activity.compact(db.session, now)
            forgotten = privacy.forget_ip_hashes(db.session, now, config["IP_HASH_DAYS"])
            login_throttle.delete_stale(db.session, timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]), now)
            organiser_sessions.delete_expired(
                db.session,
                now,
                timedelta(minutes=config["ORGANISER_IDLE_MINUTES"]),
                timedelta(hours=config["ORGANISER_SESSION_HOURS"]),
            )
            db.session.commit()
        click.echo(f"purge: {unconfirmed} unconfirmed signature(s) past their link's expiry deleted")
        click.echo(f"purge: {compacted} settled activity row(s) folded into one per hour and source")
        click.echo(f"purge: {forgotten} IP address hash(es) older than {config['IP_HASH_DAYS']} days forgotten")
        for report in reports:
            click.echo(
                f"purge: {report.slug}: personal data removed from {report.anonymised} signature(s), "
                f"{report.deleted} unconfirmed deleted; counts kept"
            )

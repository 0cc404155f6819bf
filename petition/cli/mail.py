"""`flask --app wsgi mail-worker`: deliver the queued mail, until stopped or (--once) until none is due."""

import signal
import time

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from petition.extensions import db
from petition.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.command("mail-worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
    @click.option("--interval", default=0.5, show_default=True, help="Seconds between looks at an empty outbox.")
    def mail_worker(once, interval):
        """Deliver queued mail until stopped (Ctrl-C or SIGTERM finish the current message first)."""
        from petition.mail.worker import deliver_due

        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        totals = {"sent": 0, "retried": 0, "failed": 0}
        try:
            while not stopping:
                try:
                    report = deliver_due(db.session, utcnow())
                except OperationalError as error:
                    # The database is away: wait for it rather than die; nothing was marked sent.
                    db.session.remove()
                    click.echo(f"mail-worker: database unavailable ({type(error.orig).__name__}), retrying", err=True)
                    time.sleep(max(interval, 2))
                    continue
                db.session.remove()
                for key in totals:
                    totals[key] += getattr(report, key)
                if not report.claimed:
                    if once:
                        break
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
        click.echo(f"mail-worker: sent {totals['sent']}, will retry {totals['retried']}, failed {totals['failed']}")

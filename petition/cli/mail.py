"""`flask --app wsgi mail-worker`: deliver the queued mail, until stopped or (--once) until none is due."""

import signal

import click
from flask import Flask

from petition.extensions import db


def register(app: Flask) -> None:
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

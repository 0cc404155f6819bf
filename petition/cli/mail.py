"""`flask --app wsgi mail-worker`: deliver the queued mail, until stopped or (--once) until none is due."""

import faulthandler
import signal
import sys

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

        # As in gunicorn.conf.py: a crash in native code leaves each thread's Python stack in the log.
        # To the process's own stderr (click's test runner swaps sys.stderr for a buffer).
        if not faulthandler.is_enabled():
            faulthandler.enable(file=sys.__stderr__, all_threads=True)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        totals = serve(db.session, once=once, interval=interval, stopping=lambda: bool(stopping))
        click.echo(f"mail-worker: sent {totals['sent']}, will retry {totals['retried']}, failed {totals['failed']}")

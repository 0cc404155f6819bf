"""Live totals for the public: one watcher per process, fanned out to every open event stream."""

from flask import Flask, current_app

from petition.live.hub import Live


def init_app(app: Flask) -> None:
    """Nothing starts here: the hub's threads start in the serving process on the first stream, so a
    forking server never copies a running thread."""
    app.extensions["live"] = Live(app)


def announce(petition_id: int) -> None:
    """Call after a transaction that changed a petition's figures has committed."""
    current_app.extensions["live"].announce(petition_id)

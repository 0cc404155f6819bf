"""`flask --app wsgi ...`: the operator's commands, one module per group; `register` adds them all to an app."""

from flask import Flask

from petition.cli import counts, data, demo, lifecycle, mail, organisers, partners, petitions


def register(app: Flask) -> None:
    for commands in (partners, lifecycle, demo, petitions, organisers, mail, data, counts):
        commands.register(app)

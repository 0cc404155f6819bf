"""The organisers' area: logging in, running petitions, live figures, paper signatures and exports."""

from flask import Flask


def register(app: Flask) -> None:
    from petition.organiser.blueprint import bp
    from petition.organiser.login import init_login

    init_login(app)
    app.register_blueprint(bp)

"""Petition service: sign, confirm by email, count honestly."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from petition import routing
from petition.config import build_config
from petition.form_decoding import PetitionRequest
from petition.request_gate import RequestGate
from petition.routing import PetitionFlask


def create_app(config: dict | None = None, instance_path: Path | None = None) -> Flask:
    """`instance_path` (absolute) replaces the top-level instance/ folder: tests give each app its own."""
    app = PetitionFlask(
        __name__,
        template_folder="../templates",
        instance_relative_config=True,
        instance_path=str(instance_path) if instance_path else None,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(build_config(Path(app.instance_path), config))
    app.request_class = PetitionRequest  # bad UTF-8 in a form becomes U+FFFD, refused by validation
    app.json.sort_keys = False  # keep the documented field order of the JSON API
    routing.register(app)  # first: its check runs before every other request hook
    register_extensions(app)
    register_blueprints(app)

    from petition import cli, errors, headers, i18n, policy

    policy.install(app)
    i18n.register(app)
    errors.register(app)
    headers.register(app)
    cli.register(app)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the configured number of proxies are believed; a client's own X-Forwarded-For is not.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.wsgi_app = RequestGate(app.wsgi_app, app.config["REQUEST_THREADS"])
    return app


def register_extensions(app: Flask) -> None:
    from petition import live, public_cache, rate_limits
    from petition.db_engine import configure_engine, end_session_quietly
    from petition.extensions import babel, csrf, db, migrate
    from petition.i18n import select_locale
    from petition.services import petition_facts

    db.init_app(app)
    app.teardown_appcontext(lambda _error: end_session_quietly(db.session))
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    live.init_app(app)
    public_cache.init_app(app)
    petition_facts.init_app(app)
    rate_limits.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def register_blueprints(app: Flask) -> None:
    from petition import organiser
    from petition.api.partner_views import bp as partner_api_bp
    from petition.api.views import bp as api_bp
    from petition.api.views import health_bp
    from petition.embed.views import bp as embed_bp
    from petition.extensions import csrf
    from petition.live.views import bp as live_bp
    from petition.policy import for_blueprint
    from petition.privacy.views import bp as privacy_bp
    from petition.public.views import bp as public_bp

    # Public forms carry their own cookie-free token; the API authenticates by key, not cookie.
    csrf.exempt(public_bp)
    csrf.exempt(privacy_bp)
    csrf.exempt(api_bp)
    csrf.exempt(partner_api_bp)
    csrf.exempt(embed_bp)
    # The partner API is part of the JSON API (its views declare nothing of their own).
    for_blueprint(partner_api_bp, json_errors=True, language_cookie=False)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(partner_api_bp)
    app.register_blueprint(embed_bp)
    organiser.register(app)
    app.register_blueprint(live_bp)

"""Flask extensions, created once and unbound; `create_app` binds them."""

import functools

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from petition import policy
from petition.models.base import Base


def client_address() -> str:
    """The default rate-limit key: the client's address (ProxyFix has already applied TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
# Settings are given here, not in app.config: Flask-Limiter latches them on the first init_app, so per-app
# config would silently keep the first app's values. Only the storage (RATELIMIT_STORAGE_URI) is per app.
# Limits are declared where they apply (`@limiter.limit(...)`); a failing Redis never turns into a 500.
limiter = Limiter(
    key_func=client_address,
    headers_enabled=True,
    swallow_errors=True,
    in_memory_fallback_enabled=True,
    strategy="fixed-window",
)
login_manager = LoginManager()


def spare_unlimited_routes(app) -> None:
    """Routes declared `@unlimited` (public reads and the signing path, which a burst hammers and which
    have no Flask-Limiter limit of their own) skip the limiter's three hooks altogether. Flask-Limiter
    hooks every request of the app, and even behind a request filter it resolves limits and keeps a
    context per request: about 0.1 ms of a 0.5 ms cached page, four times per signature. Call right
    after `limiter.init_app(app)`; the limited routes (the partner API) keep every hook unchanged."""

    def owned_by_limiter(hook) -> bool:
        owner = getattr(hook, "__self__", None)  # bound methods; the after-hook is a partial
        return owner is limiter or (isinstance(hook, functools.partial) and limiter in hook.args)

    def gated(hook, spared):
        @functools.wraps(hook)
        def run(*args):
            return spared(*args) if policy.current().unlimited else hook(*args)

        return run

    def nothing(*_args):
        return None

    def same_response(response):
        return response

    for hooks, spared in (
        (app.before_request_funcs[None], nothing),
        (app.after_request_funcs[None], same_response),
        (app.teardown_request_funcs[None], nothing),
    ):
        hooks[:] = [gated(hook, spared) if owned_by_limiter(hook) else hook for hook in hooks]

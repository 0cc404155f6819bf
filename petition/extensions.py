"""Flask extensions, created once and unbound; `create_app` binds them."""

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


@limiter.request_filter
def _unlimited_route() -> bool:
    """Routes declared `@unlimited` (public reads a burst hammers, with no limit of their own) are spared
    the limiter's per-request bookkeeping, which sorts out limits even for routes that have none: about a
    quarter of a cached read's time."""
    return policy.current().unlimited

"""Flask extensions, created once and unbound; `create_app` binds them."""

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from petition.models.base import Base


def client_address() -> str:
    """The client's address (ProxyFix has already applied TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()

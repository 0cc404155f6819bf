"""Security headers on every response, chosen by the route's declared policy (petition.policy), which is
known from the URL rule even when an error was raised before the view ran, or routing itself failed."""

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from petition import policy
from petition.extensions import db
from petition.services.partners import frame_origins

_POLICY = [
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
]
_CSP = "; ".join([*_POLICY, "frame-ancestors 'none'"])


def _widget_frame_ancestors() -> str:
    """Our own pages (the share page's preview) and the sites of the partner named in the URL, if it
    is active and collects for this petition: read from the database on each request, so adding or
    removing an origin or revoking a partner takes effect without a restart."""
    slug = (request.view_args or {}).get("slug", "")
    try:
        origins = frame_origins(db.session, slug, request.args.get("partner"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("could not read partner origins; the widget refuses framing")
        origins = []
    return " ".join(["'self'", *origins])


def register(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        route = policy.current()
        headers = response.headers
        if route.frameable:
            # Framing is decided by CSP alone: X-Frame-Options cannot name other sites.
            headers["Content-Security-Policy"] = "; ".join([*_POLICY, f"frame-ancestors {_widget_frame_ancestors()}"])
            headers.pop("X-Frame-Options", None)
        else:
            headers.setdefault("Content-Security-Policy", _CSP)
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if route.token_in_url:
            headers["Referrer-Policy"] = "no-referrer"
        else:
            headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # A framed page carries a fresh form token and a framing policy read per request.
        if route.token_in_url or route.private or route.frameable:
            headers["Cache-Control"] = "no-store"
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

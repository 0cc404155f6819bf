"""Security headers on every response, chosen by the kind of route (decided from the endpoint, so
that errors raised before a view ran get the same headers as the view would have)."""

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from petition.embed.views import WIDGET_ENDPOINTS
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
# Pages whose URL holds a secret (a confirmation, withdrawal, unsubscribe or invitation token) must not leak it
# through Referer.
_TOKEN_ENDPOINTS = {
    "public.confirm_page",
    "public.confirm",
    "privacy.withdraw_page",
    "privacy.withdraw",
    "privacy.unsubscribe_page",
    "privacy.unsubscribe",
    "organiser.accept_invite",
}
# When routing itself fails (405), no endpoint is known: the URL alone tells a token page.
_TOKEN_PATHS = ("/confirm/", "/withdraw/", "/unsubscribe/", "/organiser/invite/")


def _is_token_page() -> bool:
    return request.endpoint in _TOKEN_ENDPOINTS or request.path.startswith(_TOKEN_PATHS)


def _is_private_page() -> bool:
    """Organisers' pages and exports hold personal data; the widget's pages carry a fresh form token
    and a framing policy read from the database: none of them may be kept by a browser or proxy cache."""
    endpoint = request.endpoint or ""
    return endpoint.startswith("organiser.") or request.path.startswith("/organiser/") or endpoint in WIDGET_ENDPOINTS


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
        headers = response.headers
        if request.endpoint in WIDGET_ENDPOINTS:
            # Framing is decided by CSP alone: X-Frame-Options cannot name other sites.
            headers["Content-Security-Policy"] = "; ".join([*_POLICY, f"frame-ancestors {_widget_frame_ancestors()}"])
            headers.pop("X-Frame-Options", None)
        else:
            headers.setdefault("Content-Security-Policy", _CSP)
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if _is_token_page():
            headers["Referrer-Policy"] = "no-referrer"
        else:
            headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if _is_token_page() or _is_private_page():
            headers["Cache-Control"] = "no-store"
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

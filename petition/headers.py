"""Security headers on every response, chosen by the kind of route (decided from the endpoint, so
that errors raised before a view ran get the same headers as the view would have)."""

from flask import Flask, request

_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Pages whose URL holds a secret (a confirmation or invitation token) must not leak it through Referer.
_TOKEN_ENDPOINTS = {"public.confirm_page", "public.confirm", "organiser.accept_invite"}


def register(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint in _TOKEN_ENDPOINTS:
            headers["Referrer-Policy"] = "no-referrer"
            headers["Cache-Control"] = "no-store"
        else:
            headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if (request.endpoint or "").startswith("organiser."):
            # Organisers' pages and exports hold personal data: never kept by a browser or proxy cache.
            headers["Cache-Control"] = "no-store"
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

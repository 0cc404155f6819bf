"""Links that leave the site (emails, embed code) are built from the URL map, like `url_for`, but
against BASE_URL rather than the request's own host: the mail worker has no request, and a request
that reached us through an internal name must not put that name in an email."""

from urllib.parse import urlsplit

from flask import Flask, current_app
from werkzeug.routing import MapAdapter


def _adapter(app: Flask) -> MapAdapter:
    adapter = app.extensions.get("external_links")
    if adapter is None:
        base = urlsplit(app.config["BASE_URL"])
        adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
        app.extensions["external_links"] = adapter
    return adapter


def external_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint` under BASE_URL; values the rule does not take become the query."""
    values = {key: value for key, value in values.items() if value is not None}
    return _adapter(current_app).build(endpoint, values, force_external=True)

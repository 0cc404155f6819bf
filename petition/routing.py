"""Requests refused before any view reads them: a control character in a path argument, a NUL in the
query, a body larger than the route accepts.

No slug, token or id we issue holds a control character, and PostgreSQL refuses a NUL in any text,
even as a query parameter: such a value used to reach a query and answer 500 (on PostgreSQL only).
So the URL map's converters do not match control characters (the route is simply not found), and
a query string holding a NUL is answered 404 before a view or hook looks at its arguments. A body
whose Content-Length is over the route's limit (petition.form_decoding) is answered 413 at once,
whether or not the view would have read it; a body without a length is cut off when read.
"""

from typing import ClassVar

from flask import Flask, abort, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Map, PathConverter, UnicodeConverter

_CONTROL = r"\x00-\x1f\x7f"


class PrintableConverter(UnicodeConverter):
    """The default converter (`<slug>`, `<token>`): any characters but `/` and control characters."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None, length: int | None = None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", f"[^/{_CONTROL}]", 1)


class PrintablePathConverter(PathConverter):
    regex = f"[^/{_CONTROL}][^{_CONTROL}]*?"


class PrintableMap(Map):
    default_converters: ClassVar = {
        **Map.default_converters,
        "default": PrintableConverter,
        "string": PrintableConverter,
        "path": PrintablePathConverter,
    }


class PetitionFlask(Flask):
    """Flask with the map above, as a class attribute: Flask adds its static route while it is being
    constructed, before create_app could change the map's converters."""

    url_map_class = PrintableMap


def _refuse_before_reading() -> None:
    query = request.query_string
    if b"%00" in query or b"\x00" in query:
        abort(404)
    if request.environ.get("CONTENT_LENGTH"):
        length, limit = request.content_length, request.max_content_length
        if length is not None and limit is not None and length > limit:
            raise RequestEntityTooLarge()


def register(app: Flask) -> None:
    # First of all request hooks, so that neither another hook nor a view sees the argument or the body.
    app.before_request(_refuse_before_reading)

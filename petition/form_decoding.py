"""Form bodies whose bytes are not UTF-8 decode to U+FFFD, which the field cleaners refuse.

Werkzeug re-quotes such bytes in URL-encoded bodies (`%ED%A0%80` arrives as the literal text
"%ED%A0%80", which passes as a name), while multipart bodies already get U+FFFD. Only scripts send
bad UTF-8; this makes their input fail validation the same way whichever encoding they used."""

from urllib.parse import parse_qsl

from flask import Request
from werkzeug.formparser import FormDataParser


class _FormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        # Same as Werkzeug 3.1's, with "replace" where it re-quotes (or, for raw bytes, fails).
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class PetitionRequest(Request):
    form_data_parser_class = _FormDataParser

"""Request bodies: how large each route accepts them, and form bodies whose bytes are not UTF-8.

Size: every route accepts a body of at most `MAX_CONTENT_LENGTH` bytes unless its view declares more
(`@body_limit`, petition.policy); a larger `Content-Length` is refused with 413 before anything is read.
Werkzeug 3.1 applies `MAX_FORM_MEMORY_SIZE` to multipart text fields only, and reads a URL-encoded
body whole; here a URL-encoded body is held to it too, so no form can make a worker hold more.

Encoding: Werkzeug re-quotes bad UTF-8 in URL-encoded bodies (`%ED%A0%80` arrives as the literal text
"%ED%A0%80", which passes as a name), while multipart bodies already get U+FFFD. Only scripts send
bad UTF-8; decoding it to U+FFFD makes their input fail validation the same way whichever encoding
they used.
"""

from urllib.parse import parse_qsl

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from petition import policy


class _FormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        limit = self.max_form_memory_size
        if limit is not None and content_length is not None and content_length > limit:
            raise RequestEntityTooLarge()
        # Without a length (a chunked body), read up to the limit and then once more: a further byte
        # means the limit was passed. (The stream Werkzeug gives may itself stop at MAX_CONTENT_LENGTH,
        # and it raises 413 on that further read.)
        data = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and (len(data) > limit or stream.read(1)):
            raise RequestEntityTooLarge()
        # Otherwise as Werkzeug 3.1's, with "replace" where it re-quotes (or, for raw bytes, fails).
        items = parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class PetitionRequest(Request):
    form_data_parser_class = _FormDataParser

    @property
    def max_content_length(self) -> int | None:
        """The route's declared `body_limit`, else the app's MAX_CONTENT_LENGTH."""
        if self._max_content_length is not None:
            return self._max_content_length
        return policy.current(self).body_limit or super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

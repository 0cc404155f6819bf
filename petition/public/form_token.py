"""The signing form's own token: proves the form came from our page, and when it was served.

Session-based CSRF cannot work here: browsers drop our cookies inside a partner's iframe. A signed,
time-stamped token in the form needs no cookie, and its age tells a human from a script that posts
the instant it has the page (MIN_FILL_SECONDS)."""

import time
from enum import StrEnum

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

_SALT = "sign-form"


class TokenCheck(StrEnum):
    OK = "ok"
    TOO_FAST = "too_fast"
    INVALID = "invalid"  # missing, tampered, for another petition, or older than SIGN_FORM_MAX_AGE


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue(petition_id: int) -> str:
    return _serializer().dumps({"p": petition_id})


# Stands for the token in a page rendered once for many visitors (see petition.public_cache); each
# visitor's own token is put in on the way out.
SLOT = "form-token-slot-0c4f1e"


def fill_slot(html: str, petition_id: int) -> str:
    return html.replace(SLOT, issue(petition_id))


def check(token: str | None, petition_id: int) -> TokenCheck:
    if not token:
        return TokenCheck.INVALID
    try:
        payload, issued = _serializer().loads(
            token, max_age=current_app.config["SIGN_FORM_MAX_AGE"], return_timestamp=True
        )
    except BadData:
        return TokenCheck.INVALID
    if not isinstance(payload, dict) or payload.get("p") != petition_id:
        return TokenCheck.INVALID
    if time.time() - issued.timestamp() < current_app.config["MIN_FILL_SECONDS"]:
        return TokenCheck.TOO_FAST
    return TokenCheck.OK

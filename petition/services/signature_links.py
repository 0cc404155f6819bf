"""Signed links about one signature (confirm, withdraw, unsubscribe): each purpose has its own salt,
so a link made for one purpose never works for another. The payload is the signature's number; a
confirmation link adds the digest of the details it confirms (never the details themselves), an
unsubscribe link the number of the update it came with (to count it there)."""

import re
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

# What itsdangerous's URL-safe tokens are made of. It would also accept a token with other characters
# after the signature's padding; such a token is refused here, so that every token a page repeats
# is exactly the one its link carried, with nothing in it that HTML or a URL would need to escape.
TOKEN_FORM = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class Link:
    signature_id: int
    # The details the link was sent for (personal.details_digest); None in links made before digests
    # existed, which only confirm a signature whose details have not been submitted again since.
    digest: str | None = None
    update_id: int | None = None


@dataclass(frozen=True)
class SignatureLink:
    purpose: str
    salt: str
    max_age_setting: str | None  # config key holding the lifetime in seconds; None: valid while data exists

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def make(self, signature_id: int, digest: str | None = None, update_id: int | None = None) -> str:
        payload: dict = {"s": signature_id}
        if digest is not None:
            payload["d"] = digest
        if update_id is not None:
            payload["u"] = update_id
        return self._serializer().dumps(payload)

    def read_link(self, token: str) -> Link | None:
        """What the link names, or None for a tampered, expired or wrong-purpose token (or a payload
        of the wrong shape, which only a holder of SECRET_KEY could have signed)."""
        if not TOKEN_FORM.fullmatch(token):
            return None
        max_age = current_app.config[self.max_age_setting] if self.max_age_setting else None
        try:
            payload = self._serializer().loads(token, max_age=max_age)
        except BadData:
            return None
        if not isinstance(payload, dict):
            return None
        signature_id, digest, update_id = payload.get("s"), payload.get("d"), payload.get("u")
        # `type`, not isinstance: a JSON `true` is a bool, which isinstance would take for the number 1.
        if type(signature_id) is not int:
            return None
        if not (digest is None or (type(digest) is str and len(digest) <= 32)):
            return None
        return Link(signature_id, digest, update_id if type(update_id) is int else None)

    def read(self, token: str) -> int | None:
        """The signature id alone (withdrawal links, and pages that need nothing more)."""
        link = self.read_link(token)
        return link.signature_id if link is not None else None


CONFIRM = SignatureLink("confirm", "signature-confirm", "CONFIRM_TOKEN_MAX_AGE")
WITHDRAW = SignatureLink("withdraw", "signature-withdraw", None)
UNSUBSCRIBE = SignatureLink("unsubscribe", "signature-unsubscribe", None)

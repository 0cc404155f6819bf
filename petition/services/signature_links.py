"""Signed links about one signature (confirm, withdraw): each purpose has its own salt, so a link made
for one purpose never works for another, and the payload is the signature's number only."""

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer


@dataclass(frozen=True)
class SignatureLink:
    purpose: str
    salt: str
    max_age_setting: str | None  # config key holding the lifetime in seconds; None: valid while data exists

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def make(self, signature_id: int) -> str:
        return self._serializer().dumps({"s": signature_id})

    def read(self, token: str) -> int | None:
        """The signature id, or None for a tampered, expired or wrong-purpose token."""
        max_age = current_app.config[self.max_age_setting] if self.max_age_setting else None
        try:
            payload = self._serializer().loads(token, max_age=max_age)
        except BadData:
            return None
        signature_id = payload.get("s") if isinstance(payload, dict) else None
        return signature_id if isinstance(signature_id, int) else None


CONFIRM = SignatureLink("confirm", "signature-confirm", "CONFIRM_TOKEN_MAX_AGE")
WITHDRAW = SignatureLink("withdraw", "signature-withdraw", None)

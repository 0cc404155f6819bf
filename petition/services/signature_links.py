"""Signed links about one signature (confirm, withdraw, unsubscribe): each purpose has its own salt,
so a link made for one purpose never works for another, and the payload is the signature's number
(and, for unsubscribing, the number of the update it came with, to count it there)."""

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

    def make(self, signature_id: int, update_id: int | None = None) -> str:
        payload = {"s": signature_id} if update_id is None else {"s": signature_id, "u": update_id}
        return self._serializer().dumps(payload)

    def read(self, token: str) -> int | None:
        """The signature id, or None for a tampered, expired or wrong-purpose token."""
        found = self.read_with_update(token)
        return found[0] if found else None

    def read_with_update(self, token: str) -> tuple[int, int | None] | None:
        """(signature id, update id or None), or None for a tampered, expired or wrong-purpose token."""
        max_age = current_app.config[self.max_age_setting] if self.max_age_setting else None
        try:
            payload = self._serializer().loads(token, max_age=max_age)
        except BadData:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
            return None
        update_id = payload.get("u")
        return payload["s"], update_id if isinstance(update_id, int) else None


CONFIRM = SignatureLink("confirm", "signature-confirm", "CONFIRM_TOKEN_MAX_AGE")
WITHDRAW = SignatureLink("withdraw", "signature-withdraw", None)
UNSUBSCRIBE = SignatureLink("unsubscribe", "signature-unsubscribe", None)

"""Telling people from scripts and floods, quietly: a suspicious signature is stored as flagged (never
counted, never mailed, kept for organisers to review) and the signer sees exactly what anyone sees,
so probing cannot tell which rule it tripped.

Signals: the form came back faster than a person can type (MIN_FILL_SECONDS), the hidden honeypot
field was filled, or the client address signed this petition more often than SIGN_RATE_LIMIT allows.
The rate counts live in the limiter's storage: Redis when REDIS_URL is set, so every worker and
machine shares them."""

from flask import current_app
from limits import parse_many

from petition.extensions import limiter
from petition.models import FlagReason
from petition.public import form_token
from petition.public.forms import SignForm


def over_sign_limit(petition_id: int, ip: str | None) -> bool:
    if not ip:
        return False
    strategy = limiter.limiter
    # Several deployments may share one Redis: RATELIMIT_KEY_PREFIX keeps their counts apart.
    namespace = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    over = False
    for item in parse_many(current_app.config["SIGN_RATE_LIMIT"]):
        try:
            if not strategy.hit(item, "sign", namespace, str(petition_id), ip):
                over = True
        except Exception:
            current_app.logger.warning("sign rate limit storage unavailable", exc_info=True)
            return False
    return over


def looks_automated(
    form: SignForm, token_check: form_token.TokenCheck, petition_id: int, ip: str | None
) -> FlagReason | None:
    """Why this attempt looks automated, or None. The reason is only for organisers' review."""
    if form.website.data:
        return FlagReason.HONEYPOT
    if token_check == form_token.TokenCheck.TOO_FAST:
        return FlagReason.TOO_FAST
    return FlagReason.RATE if over_sign_limit(petition_id, ip) else None

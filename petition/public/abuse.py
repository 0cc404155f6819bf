"""Telling people from scripts and floods, quietly: a suspicious signature is stored as flagged (never
counted, never mailed, kept for organisers to review) and the signer sees exactly what anyone sees,
so probing cannot tell which rule it tripped.

Signals: the hidden honeypot field was filled, or the client address signed this petition more often
than SIGN_RATE_LIMIT allows. A form that came back faster than a person can type (MIN_FILL_SECONDS) is
not flagged any more: browsers fill forms in by themselves, so the intake asks for one more click
instead (petition.intake, Verdict.ONE_MORE_STEP); `too_fast` remains a reason for older flags.
The rate counts live in Redis when REDIS_URL is set, so every worker and machine shares them (see
petition.rate_limits)."""

from flask import current_app

from petition import rate_limits
from petition.models import FlagReason
from petition.public import form_token


def over_sign_limit(petition_id: int, ip: str | None) -> bool:
    return rate_limits.hit("sign", current_app.config["SIGN_RATE_LIMIT"], petition_id, ip=ip).over


def looks_automated(
    honeypot: str, token_check: form_token.TokenCheck, petition_id: int, ip: str | None
) -> FlagReason | None:
    """Why this attempt looks automated, or None. The reason is only for organisers' review."""
    if honeypot:
        return FlagReason.HONEYPOT
    if token_check == form_token.TokenCheck.TOO_FAST:
        return FlagReason.TOO_FAST
    return FlagReason.RATE if over_sign_limit(petition_id, ip) else None

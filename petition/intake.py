"""One way in for a signature, whichever door it comes through: our page, the widget on a partner's
site, or a partner's server with its API key.

Each door checks what only it can (a browser's form token and origin, a partner's key), then hands
the fields here: is the petition open (closing it on the spot if its time is up), are the fields
valid, does the attempt look automated, then the signature is taken and committed. The view turns
the verdict into its own kind of answer (a page, the widget's page, JSON).
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy.orm import Session

from petition.public import form_token
from petition.public.abuse import looks_automated
from petition.public.forms import Reading, SignForm, read_signature
from petition.services import lifecycle, signing
from petition.services.attribution import Channel, source_for
from petition.services.personal import canonical_email
from petition.services.petition_facts import PetitionFacts, facts_cache


class Verdict(StrEnum):
    TAKEN = "taken"  # stored (whatever the address's state; the answer never tells)
    CLOSED = "closed"  # the petition does not accept signatures now
    FOREIGN = "foreign"  # a browser posted from another site
    FORM_EXPIRED = "form_expired"  # the page's form token is missing, forged or too old
    INVALID = "invalid"  # the fields need correcting: `form.errors` says how
    # Sent sooner than MIN_FILL_SECONDS after the form was served: a script, or a browser that filled
    # the form in by itself. Nothing is stored; the person is asked for one more click on a page with a
    # fresh token (`reading` holds what to send again), which a script only passes by waiting too.
    ONE_MORE_STEP = "one_more_step"


@dataclass(frozen=True)
class Door:
    channel: Channel
    partner_id: str | None = None  # the partner's public id (widget on its site, or its API key)

    @property
    def from_browser(self) -> bool:
        """Browsers bring our form token (and give away bots); a partner's server has its key instead."""
        return self.channel != Channel.API


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    # To show the form again (with what was typed, and the errors by each field), when not TAKEN.
    form: SignForm | None = None
    errors: dict[str, list] = field(default_factory=dict)
    reading: Reading | None = None


def form_to_show(facts: PetitionFacts, formdata, locale: str, errors: dict | None = None) -> SignForm:
    form = SignForm(formdata=formdata, allowed_countries=facts.allowed_countries, locale=locale, eci=facts.is_eci)
    form.show_errors(errors or {})
    return form


def submit(
    session: Session,
    facts: PetitionFacts,
    door: Door,
    formdata,
    *,
    now: datetime,
    locale: str = "en",
    ip: str | None = None,
    same_origin: bool = True,
    raw_errors: dict[str, list[str]] | None = None,
) -> Result:
    """Take a signature through `door`; commits when it is taken (or when it closed the petition).

    `raw_errors` are what the door found wrong before the form saw the input (a JSON value of the
    wrong type): the attempt is refused, after the form's own checks so that every error is told at once."""
    if not facts.is_accepting_signatures(now):
        if lifecycle.close_if_expired(session, facts.id, facts.closes_at, now):
            session.commit()
            facts_cache().forget(facts.id)
        return Result(Verdict.CLOSED)
    if not same_origin:
        return Result(Verdict.FOREIGN)
    reading = read_signature(
        formdata, facts.allowed_countries, current_app.config["EMAIL_CHECK_DELIVERABILITY"], eci=facts.is_eci
    )
    token_check = form_token.check(reading.form_token, facts.id) if door.from_browser else None
    if token_check == form_token.TokenCheck.INVALID:
        form = form_to_show(facts, formdata, locale)
        form.form_token.data = None  # the page shown again gets a fresh one
        return Result(Verdict.FORM_EXPIRED, form)
    if reading.errors or raw_errors:
        return Result(Verdict.INVALID, form_to_show(facts, formdata, locale, reading.errors), reading.errors)
    if token_check == form_token.TokenCheck.TOO_FAST and not reading.honeypot:
        # Decided before the address is looked at, so the extra step tells nothing about it.
        return Result(Verdict.ONE_MORE_STEP, reading=reading)
    signing.sign(
        session,
        facts,
        signer_from_reading(reading),
        now=now,
        source=source_for(door.channel, door.partner_id, reading.source_code),
        locale=locale,
        # From a partner's server the address calling is the partner's, not the signer's: recording it
        # would mislead, and the partner's key has its own limit.
        ip=ip if door.from_browser else None,
        flag=looks_automated(reading.honeypot, token_check, facts.id, ip) if door.from_browser else None,
        blocked=facts.blocked,
    )
    session.commit()
    return Result(Verdict.TAKEN)


def fields_to_resend(reading: Reading, petition_id: int) -> list[tuple[str, str]]:
    """The form's answer as hidden fields for the one-more-step page, with a fresh form token: the
    person presses one button and it is sent again, exactly as they filled it in."""
    fields = [
        ("first_name", reading.first_name),
        ("last_name", reading.last_name),
        ("email", reading.email),
        ("country", reading.country),
        ("consent", "y"),
    ]
    fields += [(name, "y") for name in ("eligible", "keep_informed") if getattr(reading, name)]
    if reading.source_code:
        fields.append(("source", reading.source_code))
    fields.append(("form_token", form_token.issue(petition_id)))
    return fields


def signer_from_reading(reading: Reading) -> signing.SignerInput:
    return signing.SignerInput(
        first_name=reading.first_name,
        last_name=reading.last_name,
        email=reading.email,
        email_canonical=canonical_email(reading.email_local_part, reading.email_ascii_domain),
        country=reading.country,
        keep_informed=reading.keep_informed,
    )

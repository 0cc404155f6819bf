"""Turning an outbox row into an email: rendered from templates when it is sent.

Header safety: only our own address, the signer's validated ASCII address and a subject built from
our words and the petition's title go into headers. The signer's name never does. Text that reaches a
header is folded to one line and loses any `=?` that could start an RFC 2047 encoded word, because
the standard library decodes such words when it parses a header value, so `=?UTF-8?Q?=0A?=Bcc:`
would become a real line break.
"""

import re
import unicodedata
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from petition.i18n import DEFAULT_LOCALE, bcp47, match_locale
from petition.models import MailKind, Organiser, OutboxMessage, Petition, Signature
from petition.rules.countries import country_name
from petition.services import accounts, counting, personal, signature_links
from petition.services.confirming import make_confirm_token
from petition.services.team import make_invite_token
from petition.services.translations import text_for

_SUBJECTS = {
    MailKind.CONFIRM: lambda title: _("Please confirm your signature: %(title)s", title=title),
    MailKind.ALREADY_SIGNED: lambda title: _("You have already signed: %(title)s", title=title),
    MailKind.DATA_REPORT: lambda title: _("What we hold about you: %(title)s", title=title),
}
# Organisers' emails: `detail` is ours (a country code, a percentage, a role), never typed by a signer.
# English, like the organisers' pages, so not marked for translation.
_ORGANISER_SUBJECTS = {
    MailKind.ORGANISER_ADDED: lambda title, detail: f"You can now follow “{title}”",
    MailKind.COUNTRY_REACHED: lambda title, detail: f"{country_name(detail or '')} reached its threshold: {title}",
    MailKind.GOAL_PROGRESS: lambda title, detail: f"{detail}% of the goal: {title}",
    MailKind.PETITION_CLOSED: lambda title, detail: f"Collection has closed: {title}",
}


class Undeliverable(Exception):
    """The message can no longer be built (its signature was deleted): drop it."""


def header_safe(text: str, limit: int = 150) -> str:
    """One line of printable text, with no encoded-word opener, at most `limit` characters."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip().replace("=?", "= ?")
    return cleaned[:limit]


def held_about(signature: Signature, title: str) -> list[tuple[str, str]]:
    """Everything stored with a signature, in words, for the person it belongs to."""
    return [
        (_("Petition"), title),
        (_("First name"), personal.unseal(signature.first_name_sealed)),
        (_("Last name"), personal.unseal(signature.last_name_sealed)),
        (_("Email"), personal.unseal(signature.email_sealed)),
        (_("Country"), country_name(signature.country, str(get_locale()))),
        (_("Status"), signature.status.value),
        (_("Signed at (UTC)"), signature.created_at.strftime("%Y-%m-%d %H:%M")),
        (_("Confirmed at (UTC)"), signature.confirmed_at.strftime("%Y-%m-%d %H:%M") if signature.confirmed_at else "-"),
        (_("Where you signed"), signature.source),
        (_("Keep me informed"), _("yes") if signature.keep_informed else _("no")),
        (_("IP address"), _("kept only as a scrambled code, deleted after a few days") if signature.ip_hash else "-"),
    ]


def compose(session: Session, message: OutboxMessage) -> EmailMessage:
    if message.organiser_id is not None:
        # Organisers' emails are in English, like their pages (issue 7 keeps them untranslated).
        with force_locale(DEFAULT_LOCALE):
            return _compose_for_organiser(session, message)
    signature = session.get(Signature, message.signature_id) if message.signature_id else None
    if signature is None:
        raise Undeliverable("the signature this message was for no longer exists")
    # Each signer reads their emails in the language they signed in, whoever runs the worker.
    locale = match_locale(signature.locale) or DEFAULT_LOCALE
    with force_locale(locale):
        return _compose(session, message, signature, locale)


def _compose(session: Session, message: OutboxMessage, signature: Signature, locale: str) -> EmailMessage:
    petition = signature.petition
    text = text_for(session, petition, locale)
    base_url = current_app.config["BASE_URL"]
    context = {
        "petition": petition,
        "text": text,
        "html_lang": bcp47(locale),
        "first_name": personal.unseal(signature.first_name_sealed),
        "petition_url": f"{base_url}/p/{petition.slug}?lang={bcp47(locale)}",
        "confirm_url": f"{base_url}/confirm/{make_confirm_token(signature.id)}",
        "withdraw_url": f"{base_url}/withdraw/{signature_links.WITHDRAW.make(signature.id)}?lang={bcp47(locale)}",
        "privacy_url": f"{base_url}/privacy?lang={bcp47(locale)}",
        "base_url": base_url,
    }
    if message.kind == MailKind.DATA_REPORT:
        context["held"] = held_about(signature, text.title)
    subject = _SUBJECTS[MailKind(message.kind)](header_safe(text.title))
    return _email(message.kind, subject, personal.unseal(signature.email_sealed), context, bcp47(locale))


def _compose_for_organiser(session: Session, message: OutboxMessage) -> EmailMessage:
    organiser = session.get(Organiser, message.organiser_id)
    petition = session.get(Petition, message.petition_id) if message.petition_id else None
    if organiser is None or petition is None:
        raise Undeliverable("the organiser or petition this message was for no longer exists")
    base_url = current_app.config["BASE_URL"]
    counts = counting.read_counts(session, petition.id)
    context = {
        "petition": petition,
        "detail": message.detail,
        "country": country_name(message.detail or "") if message.kind == MailKind.COUNTRY_REACHED else None,
        "progress": counting.progress_of(petition, counts),
        "petition_url": f"{base_url}/p/{petition.slug}",
        "dashboard_url": f"{base_url}/organiser/p/{petition.slug}",
        "login_url": f"{base_url}/organiser/login",
        # Only while the account has no password yet: the link to choose one.
        "invite_url": None
        if accounts.has_password(organiser)
        else f"{base_url}/organiser/invite/{make_invite_token(organiser)}",
        "base_url": base_url,
    }
    subject = _ORGANISER_SUBJECTS[MailKind(message.kind)](header_safe(petition.title), message.detail)
    return _email(message.kind, subject, organiser.email, context, bcp47(DEFAULT_LOCALE))


def _email(kind: str, subject: str, to: str, context: dict, language: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = header_safe(subject)
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = to
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"email/{kind}.txt", **context))
    email.add_alternative(render_template(f"email/{kind}.html", **context), subtype="html")
    # After the body: setting content clears every Content-* header.
    email["Content-Language"] = language
    return email

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
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from petition.i18n import DEFAULT_LOCALE, bcp47, match_locale
from petition.models import MailKind, OutboxMessage, Signature
from petition.services import personal
from petition.services.confirming import make_confirm_token
from petition.services.translations import text_for

_SUBJECTS = {
    MailKind.CONFIRM: lambda title: _("Please confirm your signature: %(title)s", title=title),
    MailKind.ALREADY_SIGNED: lambda title: _("You have already signed: %(title)s", title=title),
}


class Undeliverable(Exception):
    """The message can no longer be built (its signature was deleted): drop it."""


def header_safe(text: str, limit: int = 150) -> str:
    """One line of printable text, with no encoded-word opener, at most `limit` characters."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip().replace("=?", "= ?")
    return cleaned[:limit]


def compose(session: Session, message: OutboxMessage) -> EmailMessage:
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
        "base_url": base_url,
    }
    email = EmailMessage()
    email["Subject"] = header_safe(_SUBJECTS[MailKind(message.kind)](header_safe(text.title)))
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = personal.unseal(signature.email_sealed)
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"email/{message.kind}.txt", **context))
    email.add_alternative(render_template(f"email/{message.kind}.html", **context), subtype="html")
    # After the body: setting content clears every Content-* header.
    email["Content-Language"] = bcp47(locale)
    return email

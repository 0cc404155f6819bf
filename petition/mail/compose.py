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
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from petition.models import MailKind, OutboxMessage, Signature
from petition.services import personal, signature_links
from petition.services.confirming import make_confirm_token

_SUBJECTS = {
    MailKind.CONFIRM: lambda title: _("Please confirm your signature: %(title)s", title=title),
    MailKind.ALREADY_SIGNED: lambda title: _("You have already signed: %(title)s", title=title),
    MailKind.DATA_REPORT: lambda title: _("What we hold about you: %(title)s", title=title),
}


class Undeliverable(Exception):
    """The message can no longer be built (its signature was deleted): drop it."""


def header_safe(text: str, limit: int = 150) -> str:
    """One line of printable text, with no encoded-word opener, at most `limit` characters."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip().replace("=?", "= ?")
    return cleaned[:limit]


def held_about(signature: Signature) -> list[tuple[str, str]]:
    """Everything stored with a signature, in words, for the person it belongs to."""
    return [
        (_("Petition"), signature.petition.title),
        (_("First name"), personal.unseal(signature.first_name_sealed)),
        (_("Last name"), personal.unseal(signature.last_name_sealed)),
        (_("Email"), personal.unseal(signature.email_sealed)),
        (_("Country"), signature.country),
        (_("Status"), signature.status.value),
        (_("Signed at (UTC)"), signature.created_at.strftime("%Y-%m-%d %H:%M")),
        (_("Confirmed at (UTC)"), signature.confirmed_at.strftime("%Y-%m-%d %H:%M") if signature.confirmed_at else "-"),
        (_("Where you signed"), signature.source),
        (_("Keep me informed"), _("yes") if signature.keep_informed else _("no")),
        (_("IP address"), _("kept only as a scrambled code, deleted after a few days") if signature.ip_hash else "-"),
    ]


def compose(session: Session, message: OutboxMessage) -> EmailMessage:
    signature = session.get(Signature, message.signature_id) if message.signature_id else None
    if signature is None:
        raise Undeliverable("the signature this message was for no longer exists")
    petition = signature.petition
    base_url = current_app.config["BASE_URL"]
    context = {
        "petition": petition,
        "first_name": personal.unseal(signature.first_name_sealed),
        "petition_url": f"{base_url}/p/{petition.slug}",
        "confirm_url": f"{base_url}/confirm/{make_confirm_token(signature.id)}",
        "withdraw_url": f"{base_url}/withdraw/{signature_links.WITHDRAW.make(signature.id)}",
        "privacy_url": f"{base_url}/privacy",
        "base_url": base_url,
    }
    if message.kind == MailKind.DATA_REPORT:
        context["held"] = held_about(signature)
    email = EmailMessage()
    email["Subject"] = header_safe(_SUBJECTS[MailKind(message.kind)](header_safe(petition.title)))
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = personal.unseal(signature.email_sealed)
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"email/{message.kind}.txt", **context))
    email.add_alternative(render_template(f"email/{message.kind}.html", **context), subtype="html")
    return email

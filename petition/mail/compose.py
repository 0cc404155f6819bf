"""Turning an outbox row into an email, when it is sent.

Signers' emails (confirm, already signed) are most of the mail a campaign sends, and each differs
from the next only by a first name and two signed links. So their text and HTML are rendered once
per petition, kind and language with placeholders, kept for a minute, and filled in per message;
the MIME text is written out directly (see petition.mail.mime) rather than built through
`EmailMessage`, which cost more than everything else a message needs. Rarer mail (data reports,
organisers' notices) is rendered whole through the standard library.

Header safety: only our own address, the signer's validated ASCII address and a subject built from
our words and the petition's title go into headers. The signer's name never does. Text that reaches a
header is folded to one line and loses any `=?` that could start an RFC 2047 encoded word, because
the standard library decodes such words when it parses a header value, so `=?UTF-8?Q?=0A?=Bcc:`
would become a real line break.
"""

import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.orm import Session

from petition.i18n import DEFAULT_LOCALE, bcp47, match_locale
from petition.links import external_url
from petition.mail import mime
from petition.models import MailKind, Organiser, Petition, Signature
from petition.rules.countries import country_name
from petition.services import accounts, counting, personal, signature_links
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
# Signers' emails whose parts are cached and filled in (the others are rendered whole).
TEMPLATED_KINDS = frozenset({MailKind.CONFIRM, MailKind.ALREADY_SIGNED})
TEMPLATE_SECONDS = 60.0


class Undeliverable(Exception):
    """The message can no longer be built (its signature was deleted): drop it."""


def header_safe(text: str, limit: int = 150) -> str:
    """One line of printable text, with no encoded-word opener, at most `limit` characters."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip().replace("=?", "= ?")
    return cleaned[:limit]


@dataclass(frozen=True)
class Row:
    """An outbox row as the worker claimed it, with what its signer's email needs."""

    id: int
    kind: str
    attempts: int
    petition_id: int | None
    signature_id: int | None
    organiser_id: int | None
    detail: str | None
    signer_exists: bool = False
    email_sealed: bytes | None = None
    first_name_sealed: bytes | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    recipient: str
    data: bytes


@dataclass(frozen=True)
class _Prepared:
    subject_line: str  # the folded `Subject:` header line
    language: str
    text: mime.Template
    html: mime.Template
    expires: float


# Stand-ins rendered into cached templates; random per process, so no petition text can contain them.
_SLOT_ID = secrets.token_hex(6)
NAME, CONFIRM_TOKEN, WITHDRAW_TOKEN = (f"slot{_SLOT_ID}{n}" for n in ("name", "confirm", "withdraw"))


class Composer:
    """Builds the batch's messages for one worker; keeps signers' templates across batches."""

    def __init__(self):
        self._prepared: dict[tuple, _Prepared] = {}
        config = current_app.config
        self.sender = parseaddr(config["MAIL_FROM"])[1] or config["MAIL_FROM"]
        self.domain = self.sender.rpartition("@")[2] or "localhost"
        self.from_line = default_policy.fold("From", config["MAIL_FROM"])

    def message_id(self, outbox_id: int, nonce: str) -> str:
        """Unique per attempt: the outbox row's id, and a nonce per batch (what `mark_sent` stores)."""
        return f"<{outbox_id}.{nonce}@{self.domain}>"

    def compose(self, session: Session, row: Row, nonce: str) -> Outgoing:
        message_id = self.message_id(row.id, nonce)
        if row.organiser_id is not None:
            # Organisers' emails are in English, like their pages (issue 7 keeps them untranslated).
            with force_locale(DEFAULT_LOCALE):
                return self._whole(row, _compose_for_organiser(session, row), message_id)
        if row.signature_id is None or not row.signer_exists:
            raise Undeliverable("the signature this message was for no longer exists")
        # Each signer reads their emails in the language they signed in, whoever runs the worker.
        locale = match_locale(row.locale) or DEFAULT_LOCALE
        if row.kind not in TEMPLATED_KINDS:
            with force_locale(locale):
                return self._whole(row, _compose_whole(session, row, locale), message_id)
        prepared = self._prepared_for(session, row.kind, row.petition_id, locale)
        first_name = personal.unseal(row.first_name_sealed)
        values = {
            # The link confirms the details as they were when this email was queued (`detail`).
            CONFIRM_TOKEN: signature_links.CONFIRM.make(row.signature_id, row.detail),
            WITHDRAW_TOKEN: signature_links.WITHDRAW.make(row.signature_id),
        }
        text = prepared.text.fill({**values, NAME: first_name})
        html = prepared.html.fill({**values, NAME: str(escape(first_name))})
        recipient = personal.unseal(row.email_sealed)
        data = mime.message(
            header_lines=[
                prepared.subject_line,
                self.from_line,
                mime.address_line("To", recipient),
                f"Date: {formatdate(usegmt=True)}\n",
                f"Message-ID: {message_id}\n",
                "Auto-Submitted: auto-generated\n",
            ],
            language=prepared.language,
            text=text,
            html=html,
        )
        return Outgoing(row.id, recipient, data)

    def _whole(self, row: Row, email: EmailMessage, message_id: str) -> Outgoing:
        email["Message-ID"] = message_id
        return Outgoing(row.id, email["To"], email.as_bytes())

    def _prepared_for(self, session: Session, kind: str, petition_id: int, locale: str) -> _Prepared:
        key = (kind, petition_id, locale)
        prepared = self._prepared.get(key)
        if prepared is not None and prepared.expires > time.monotonic():
            return prepared
        petition = session.get(Petition, petition_id)
        if petition is None:
            raise Undeliverable("the petition this message was for no longer exists")
        with force_locale(locale):
            context = _signer_context(session, petition, locale, first_name=NAME)
            context["confirm_url"] = external_url("public.confirm_page", token=CONFIRM_TOKEN)
            context["withdraw_url"] = external_url("privacy.withdraw_page", token=WITHDRAW_TOKEN, lang=bcp47(locale))
            subject = _SUBJECTS[MailKind(kind)](header_safe(context["text"].title))
            slots = (NAME, CONFIRM_TOKEN, WITHDRAW_TOKEN)
            prepared = _Prepared(
                subject_line=default_policy.fold("Subject", header_safe(subject)),
                language=bcp47(locale),
                text=mime.Template(render_template(f"email/{kind}.txt", **context), slots),
                html=mime.Template(render_template(f"email/{kind}.html", **context), slots),
                expires=time.monotonic() + TEMPLATE_SECONDS,
            )
        if len(self._prepared) > 1000:
            self._prepared.clear()
        self._prepared[key] = prepared
        return prepared


def _signer_context(session: Session, petition: Petition, locale: str, first_name: str) -> dict:
    tag = bcp47(locale)
    return {
        "petition": petition,
        "text": text_for(session, petition, locale),
        "html_lang": tag,
        "first_name": first_name,
        "petition_url": external_url("public.petition_page", slug=petition.slug, lang=tag),
        "privacy_url": external_url("privacy.notice", lang=tag),
        "base_url": current_app.config["BASE_URL"],
    }


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


def _compose_whole(session: Session, row: Row, locale: str) -> EmailMessage:
    signature = session.get(Signature, row.signature_id)
    if signature is None:
        raise Undeliverable("the signature this message was for no longer exists")
    petition = session.get(Petition, signature.petition_id)
    context = _signer_context(session, petition, locale, personal.unseal(signature.first_name_sealed))
    tag = bcp47(locale)
    confirm_token = signature_links.CONFIRM.make(signature.id, signature.details_digest)
    context["confirm_url"] = external_url("public.confirm_page", token=confirm_token)
    context["withdraw_url"] = external_url(
        "privacy.withdraw_page", token=signature_links.WITHDRAW.make(signature.id), lang=tag
    )
    if row.kind == MailKind.DATA_REPORT:
        context["held"] = held_about(signature, context["text"].title)
    subject = _SUBJECTS[MailKind(row.kind)](header_safe(context["text"].title))
    return _email(row.kind, subject, personal.unseal(signature.email_sealed), context, tag)


def _compose_for_organiser(session: Session, row: Row) -> EmailMessage:
    organiser = session.get(Organiser, row.organiser_id)
    petition = session.get(Petition, row.petition_id) if row.petition_id else None
    if organiser is None or petition is None:
        raise Undeliverable("the organiser or petition this message was for no longer exists")
    counts = counting.read_counts(session, petition.id)
    invite_url = None
    if not accounts.has_password(organiser):
        # Only while the account has no password yet: the link to choose one.
        invite_url = external_url("organiser.accept_invite", token=make_invite_token(organiser))
    context = {
        "petition": petition,
        "detail": row.detail,
        "country": country_name(row.detail or "") if row.kind == MailKind.COUNTRY_REACHED else None,
        "progress": counting.progress_of(petition, counts),
        "petition_url": external_url("public.petition_page", slug=petition.slug),
        "dashboard_url": external_url("organiser.dashboard", slug=petition.slug),
        "login_url": external_url("organiser.login"),
        "invite_url": invite_url,
        "base_url": current_app.config["BASE_URL"],
    }
    subject = _ORGANISER_SUBJECTS[MailKind(row.kind)](header_safe(petition.title), row.detail)
    return _email(row.kind, subject, organiser.email, context, bcp47(DEFAULT_LOCALE))


def _email(kind: str, subject: str, to: str, context: dict, language: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = header_safe(subject)
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = to
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"email/{kind}.txt", **context))
    email.add_alternative(render_template(f"email/{kind}.html", **context), subtype="html")
    # After the body: setting content clears every Content-* header.
    email["Content-Language"] = language
    return email

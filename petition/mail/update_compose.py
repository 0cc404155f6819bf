"""Turning a campaign update into each signer's email.

An update is rendered once per language (text and HTML, with slots for the first name and the
signer's links) and filled in per message, like the confirmation email (petition.mail.compose). Each
message carries a one-click unsubscribe (RFC 8058): `List-Unsubscribe` with the signer's own link,
and `List-Unsubscribe-Post`, so that a mail client's "Unsubscribe" button works without a login.

The organiser's text is Markdown: the HTML part is its sanitised rendering (petition.services.markdown),
the text part the Markdown itself, which reads as plain text. Only the subject reaches a header, folded
to one line by `header_safe`.
"""

import secrets
import time
from dataclasses import dataclass
from email.policy import default as default_policy
from email.utils import formatdate

from flask import render_template
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy.orm import Session

from petition.i18n import DEFAULT_LOCALE, bcp47, match_locale
from petition.links import external_url
from petition.mail import mime
from petition.mail.compose import TEMPLATE_SECONDS, Composer, Outgoing, Row, Undeliverable, header_safe
from petition.models import Audience, CampaignUpdate, Organiser, Petition
from petition.services import personal, signature_links
from petition.services.markdown import render_markdown
from petition.services.translations import text_for
from petition.services.updates import text_of

_SLOT_ID = secrets.token_hex(6)
NAME, UNSUBSCRIBE_TOKEN, WITHDRAW_TOKEN = (f"slot{_SLOT_ID}{n}" for n in ("name", "unsubscribe", "withdraw"))
_SLOTS = (NAME, UNSUBSCRIBE_TOKEN, WITHDRAW_TOKEN)
ONE_CLICK = "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
# What a test email puts where a signer's own values go.
TEST_NAME = "[first name]"
TEST_TOKEN = "test-link-does-nothing"  # noqa: S105 (a placeholder, not a secret)


@dataclass(frozen=True)
class Recipient:
    """One signer of a sending update, as the worker claimed them."""

    signature_id: int
    email_sealed: bytes
    first_name_sealed: bytes
    locale: str | None


@dataclass(frozen=True)
class _Prepared:
    subject: str
    language: str
    text: mime.Template
    html: mime.Template
    unsubscribe: mime.Template  # the link, for the header
    list_id_line: str
    expires: float


def preview(session: Session, campaign_update: CampaignUpdate, locale: str) -> dict:
    """What signers of `locale` would get, for the organisers' preview: subject, text and HTML body."""
    prepared = _prepare(session, campaign_update, locale, domain="localhost")
    values = {NAME: TEST_NAME, UNSUBSCRIBE_TOKEN: TEST_TOKEN, WITHDRAW_TOKEN: TEST_TOKEN}
    return {
        "subject": prepared.subject,
        "language": prepared.language,
        "text": prepared.text.fill(values),
        "html": prepared.html.fill({**values, NAME: str(escape(TEST_NAME))}),
    }


class UpdateComposer:
    """Builds update emails for one worker, keeping each (update, language)'s rendering a minute."""

    def __init__(self, composer: Composer):
        self.composer = composer
        self._prepared: dict[tuple[int, str], _Prepared] = {}

    def compose(self, session: Session, update_id: int, recipient: Recipient) -> Outgoing:
        prepared = self._prepared_for(session, update_id, match_locale(recipient.locale) or DEFAULT_LOCALE)
        first_name = personal.unseal(recipient.first_name_sealed)
        values = {
            UNSUBSCRIBE_TOKEN: signature_links.UNSUBSCRIBE.make(recipient.signature_id, update_id=update_id),
            WITHDRAW_TOKEN: signature_links.WITHDRAW.make(recipient.signature_id),
        }
        address = personal.unseal(recipient.email_sealed)
        return self._message(prepared, address, f"<update-{update_id}.{recipient.signature_id}@{self.composer.domain}>",
                             {**values, NAME: first_name}, {**values, NAME: str(escape(first_name))})  # fmt: skip

    def compose_test(self, session: Session, row: Row, message_id: str) -> Outgoing:
        """An outbox row of kind `update_test`: the update as signers of one language will get it,
        to the organiser who asked, with links that do nothing."""
        update_id, _, locale = (row.detail or "").partition(":")
        organiser = session.get(Organiser, row.organiser_id)
        if organiser is None or not update_id.isdigit():
            raise Undeliverable("the organiser or update this test was for no longer exists")
        prepared = self._prepared_for(session, int(update_id), match_locale(locale) or DEFAULT_LOCALE, fresh=True)
        values = {NAME: TEST_NAME, UNSUBSCRIBE_TOKEN: TEST_TOKEN, WITHDRAW_TOKEN: TEST_TOKEN}
        try:
            return self._message(prepared, organiser.email, message_id, values, values, subject_prefix="[Test] ")
        except ValueError as error:
            raise Undeliverable("the organiser's address cannot be written in a header") from error

    def _message(self, prepared: _Prepared, address: str, message_id: str, text_values: dict, html_values: dict,
                 subject_prefix: str = "") -> Outgoing:  # fmt: skip
        data = mime.message(
            header_lines=[
                default_policy.fold("Subject", header_safe(subject_prefix + prepared.subject, 200)),
                self.composer.from_line,
                mime.address_line("To", address),
                f"Date: {formatdate(usegmt=True)}\n",
                f"Message-ID: {message_id}\n",
                f"List-Unsubscribe: <{prepared.unsubscribe.fill(text_values)}>\n",
                ONE_CLICK,
                prepared.list_id_line,
            ],
            language=prepared.language,
            text=prepared.text.fill(text_values),
            html=prepared.html.fill(html_values),
        )
        return Outgoing(0, address, data)

    def _prepared_for(self, session: Session, update_id: int, locale: str, fresh: bool = False) -> _Prepared:
        key = (update_id, locale)
        prepared = self._prepared.get(key)
        if prepared is not None and prepared.expires > time.monotonic() and not fresh:
            return prepared
        campaign_update = session.get(CampaignUpdate, update_id)
        if campaign_update is None:
            raise Undeliverable("the update this message was for no longer exists")
        prepared = _prepare(session, campaign_update, locale, domain=self.composer.domain)
        if len(self._prepared) > 1000:
            self._prepared.clear()
        self._prepared[key] = prepared
        return prepared


def _prepare(session: Session, campaign_update: CampaignUpdate, locale: str, *, domain: str) -> _Prepared:
    petition = session.get(Petition, campaign_update.petition_id)
    if petition is None:
        raise Undeliverable("the petition this update was for no longer exists")
    tag = bcp47(locale)
    content = text_of(session, campaign_update, locale)
    with force_locale(locale):
        context = {
            "petition": petition,
            "petition_text": text_for(session, petition, locale),
            "update_text": content,
            "body_html": render_markdown(content.body_markdown),
            "for_everyone": campaign_update.audience == Audience.ALL,
            "html_lang": tag,
            "first_name": NAME,
            "petition_url": external_url("public.petition_page", slug=petition.slug, lang=tag),
            "privacy_url": external_url("privacy.notice", lang=tag),
            "unsubscribe_url": external_url("privacy.unsubscribe_page", token=UNSUBSCRIBE_TOKEN, lang=tag),
            "withdraw_url": external_url("privacy.withdraw_page", token=WITHDRAW_TOKEN, lang=tag),
        }
        text = render_template("email/update.txt", **context)
        html = render_template("email/update.html", **context)
    return _Prepared(
        subject=header_safe(content.subject, 200),
        language=tag,
        text=mime.Template(text, _SLOTS),
        html=mime.Template(html, _SLOTS),
        unsubscribe=mime.Template(context["unsubscribe_url"], _SLOTS),
        list_id_line=f"List-Id: <{petition.slug}.updates.{domain}>\n",
        expires=time.monotonic() + TEMPLATE_SECONDS,
    )

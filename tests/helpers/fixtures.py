"""Factories and helpers shared by the tests: petitions, signatures by state, the outbox, the form."""

import email
import email.policy
import os
import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from petition.extensions import db
from petition.mail.worker import deliver_due
from petition.models import Signature
from petition.services import confirming, signing
from petition.services.personal import canonical_email
from petition.services.petitions import create_petition
from petition.timeutil import utcnow

# Any host: live-server tests point BASE_URL at their own port.
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/confirm/[A-Za-z0-9._-]+)")


@pytest.fixture
def make_petition(app):
    """make_petition(slug="demo", rules="eci", ...) -> the petition's id."""

    def make(slug="demo", title="Ban biometric mass surveillance", rules="eci", **kwargs) -> int:
        with app.app_context():
            petition = create_petition(db.session, slug=slug, title=title, rules=rules, now=utcnow(), **kwargs)
            db.session.commit()
            return petition.id

    return make


@pytest.fixture
def petition_id(make_petition) -> int:
    return make_petition(registered_on=date(2026, 11, 26))


def signer(email_address="ana@example.org", first="Ana", last="Kovač", country="DE") -> signing.SignerInput:
    local, _, domain = email_address.partition("@")
    return signing.SignerInput(first, last, email_address, canonical_email(local, domain.lower()), country)


@pytest.fixture
def pending_signature(app):
    """pending_signature(petition_id, email=..., country=...) -> signature id (its email is queued)."""

    def make(petition_id: int, email_address="ana@example.org", country="DE", **names) -> int:
        with app.app_context():
            from petition.models import Petition

            petition = db.session.get(Petition, petition_id)
            signing.sign(db.session, petition, signer(email_address, country=country, **names), now=utcnow())
            db.session.commit()
            return db.session.query(Signature.id).order_by(Signature.id.desc()).limit(1).scalar()

    return make


def confirm_token(signature_id: int) -> str:
    """The token of the confirmation link the signature's latest email carries (in an app context)."""
    from sqlalchemy import select

    digest = db.session.scalar(select(Signature.details_digest).where(Signature.id == signature_id))
    return confirming.make_confirm_token(signature_id, digest)


@pytest.fixture
def confirmed_signature(app, pending_signature):
    def make(petition_id: int, email_address="ana@example.org", country="DE") -> int:
        signature_id = pending_signature(petition_id, email_address, country)
        with app.app_context():
            confirming.confirm(db.session, signature_id, utcnow())
            db.session.commit()
        return signature_id

    return make


class Outbox:
    """The file outbox the app writes to in tests, and the worker that fills it."""

    def __init__(self, app):
        self.app = app
        self.folder = Path(urlsplit(app.config["MAIL_URL"]).path)

    def deliver(self) -> int:
        sent = 0
        with self.app.app_context():
            while True:
                report = deliver_due(db.session, utcnow())
                sent += report.sent
                if not report.claimed:
                    return sent

    def messages(self) -> list[EmailMessage]:
        files = sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if self.folder.exists() else []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def confirm_path(self, address: str) -> str:
        """The path of the newest confirmation link sent to `address`."""
        for message in reversed(self.to(address)):
            match = CONFIRM_LINK.search(self.text_of(message))
            if match:
                return match.group(1)
        raise AssertionError(f"no confirmation link was sent to {address}")


@pytest.fixture
def outbox(app) -> Outbox:
    return Outbox(app)


def html_lang(response) -> str:
    """The language a page says it is in (`<html lang>`)."""
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def form_fields(**overrides) -> dict:
    fields = {
        "first_name": "Ana",
        "last_name": "Kovač",
        "email": "ana@example.org",
        "country": "DE",
        "consent": "y",
        # The statement of nationality and age an ECI petition asks for (ignored by the others).
        "eligible": "y",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def sign_form(client):
    """Fill in and send the signing form as a browser would: the page first, then the post."""

    def send(slug="demo", **overrides):
        from tests.conftest import form_token_of

        page = client.get(f"/p/{slug}")
        assert page.status_code == 200
        data = form_fields(**overrides)
        data.setdefault("form_token", form_token_of(page.get_data(as_text=True)))
        return client.post(f"/p/{slug}/sign", data=data)

    return send


@pytest.fixture
def redis_url():
    """A Redis server for tests (TEST_REDIS_URL); skipped, or failed under REQUIRE_TEST_SERVICES=1, if absent."""
    from tests.conftest import missing_service

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        missing_service("Redis tests need TEST_REDIS_URL")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at {url} is unreachable: {error}")
    return url

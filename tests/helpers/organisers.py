"""Organisers for tests: accounts with a role on a petition, and browsers (test clients) logged in as them."""

import re

import pytest

from petition.extensions import db
from petition.models import Petition, Role
from petition.services import accounts

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def make_organiser(app):
    """make_organiser(email, petition_id=None, role="owner") -> the organiser's id."""

    def make(email="owner@example.org", petition_id: int | None = None, role="owner", password=PASSWORD) -> int:
        with app.app_context():
            organiser = accounts.find_organiser(db.session, email) or accounts.create_organiser(
                db.session, email, password
            )
            db.session.flush()
            if petition_id is not None:
                accounts.grant(db.session, organiser, db.session.get(Petition, petition_id), Role(role))
            db.session.commit()
            return organiser.id

    return make


class Browser:
    """A test client that fills in forms the way a browser does: with the page's CSRF token."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        if self._token is None:
            page = self.client.get("/organiser/login")
            if page.status_code != 200:  # logged in already: any page of ours has a form
                page = self.client.get("/organiser/")
            self._token = csrf_of(page.get_data(as_text=True))
        return self._token

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kwargs)

    def log_in(self, email, password=PASSWORD, **kwargs):
        self._token = None
        response = self.post("/organiser/login", {"email": email, "password": password}, **kwargs)
        self._token = None  # the login starts a fresh session, with a fresh token
        return response


@pytest.fixture
def web(app):
    """web() -> a new, logged-out Browser; web(email) -> one logged in as that organiser."""

    def make(email: str | None = None, password=PASSWORD) -> Browser:
        b = Browser(app.test_client())
        if email is not None:
            response = b.log_in(email, password)
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return b

    return make


@pytest.fixture
def owner(make_organiser, petition_id, web) -> Browser:
    """The demo petition's owner, logged in."""
    make_organiser("owner@example.org", petition_id, "owner")
    return web("owner@example.org")

"""Every form and JSON body, fuzzed, on SQLite and PostgreSQL side by side.

Each generated request is sent to two copies of the service, one on each database, set up alike.
Whatever arrives (Unicode in NFC and NFD, fullwidth forms, bidi controls, lone surrogates, NUL, very
long values, missing or repeated fields, JSON of the wrong type), the answer is never a 500, a refused
request writes no row, and both databases give the same status and the same row changes."""

import json
import re
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import func, select

from petition import create_app
from petition.extensions import db
from petition.models import Base, Role, Signature
from petition.public import form_token
from petition.services import accounts, partners, signature_links, signing
from petition.services.petitions import create_petition, get_by_slug
from petition.timeutil import utcnow
from tests.conftest import _empty_postgresql, base_config
from tests.helpers.fixtures import signer
from tests.helpers.organisers import PASSWORD, Browser
from tests.test_fuzz import NASTY, VALID, certainly_invalid, encode

EXTRA_NASTY = [
    unicodedata.normalize("NFD", "Zoë Ångström"),  # decomposed: must be stored as NFC or refused
    "Zoe\u0308",
    "ｚｏｅ@ｅｘａｍｐｌｅ.ｏｒｇ",  # fullwidth address
    "ＤＥ",
    "１２３",  # fullwidth digits
    "٣",  # Arabic-Indic digit
    "\u2067Ana\u2069",
    "\u061cAna",
    "An\u200da",
    "𝔄𝔫𝔞",
    "\U0001f600",
    "x" * 5000,
    "-1",
    "0",
    "99999999999999999999999",
    "1e9",
    "2026-02-30",
    "２０２７-０１-０１",
    "null",
    "[]",
    "%00",
]


def nasty_text():
    return st.one_of(
        st.sampled_from(NASTY + EXTRA_NASTY),
        st.text(st.characters(exclude_categories=()), max_size=30),  # lone surrogates included
        st.builds(lambda s: unicodedata.normalize("NFD", s), st.text(max_size=20)),
    )


@st.composite
def perturbed(draw, valid: dict[str, str]) -> list[tuple[str, str]]:
    """The valid fields with some nasty, missing or repeated (often just one, so that the others let the
    request reach deep), in any order."""
    names = list(valid)
    disturbed = draw(
        st.one_of(st.sets(st.sampled_from(names), min_size=1, max_size=1), st.sets(st.sampled_from(names)))
    )
    pairs = []
    for name in names:
        choice = draw(st.sampled_from(["nasty", "missing", "repeated"])) if name in disturbed else "valid"
        if choice == "valid":
            pairs.append((name, valid[name]))
        elif choice == "nasty":
            pairs.append((name, draw(nasty_text())))
        elif choice == "repeated":
            pairs.extend((name, draw(st.one_of(st.just(valid[name]), nasty_text()))) for _ in range(2))
    return list(draw(st.permutations(pairs)))


@dataclass
class Site:
    """One copy of the service: its app, a visitor, a logged-in owner and a partner's key."""

    name: str
    app: object
    client: object
    owner: Browser
    partner_id: str
    key: str
    petition_id: int
    confirm: str
    withdraw: str

    def rows(self) -> dict[str, int]:
        with self.app.app_context():
            return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}

    def sign_token(self) -> str:
        with self.app.app_context():
            return form_token.issue(self.petition_id)

    def send(self, method: str, url: str, **kwargs) -> tuple[int, dict[str, int]]:
        before = self.rows()
        client = self.owner.client if url.startswith("/organiser/") else self.client
        response = client.open(url.format(partner=self.partner_id), method=method, **kwargs)
        response.close()
        if url == "/organiser/login":
            self.owner._token = None  # a login starts a new session, with a new CSRF token
        after = self.rows()
        return response.status_code, {t: after[t] - before[t] for t in after if after[t] != before[t]}


def _build_site(name: str, database_url: str, tmp_path) -> Site:
    config = {
        **base_config(database_url, tmp_path / name),
        # Limits are tested elsewhere: here every request must reach the form's own checks.
        "PARTNER_API_RATE_LIMIT": "100000/minute",
        "LOGIN_FAILURES_PER_ACCOUNT": 100_000,
        "LOGIN_FAILURES_PER_ADDRESS": 100_000,
    }
    app = create_app(config)
    now = utcnow()
    with app.app_context():
        petition = create_petition(db.session, slug="demo", title="Ban it", now=now, registered_on=date(2026, 11, 26))
        db.session.flush()
        owner = accounts.create_organiser(db.session, "owner@example.org", PASSWORD)
        db.session.flush()
        accounts.grant(db.session, owner, petition, Role.OWNER)
        new = partners.create_partner(
            db.session, name="NGO", origins=["https://ngo.example"], petitions=[petition], now=now
        )
        signing.sign(db.session, petition, signer("held@example.org"), now=now)
        db.session.commit()
        signature_id = db.session.scalar(select(Signature.id))
        site = Site(
            name, app, app.test_client(), Browser(app.test_client()), new.partner.public_id, new.key, petition.id,
            signature_links.CONFIRM.make(signature_id), signature_links.WITHDRAW.make(signature_id),
        )  # fmt: skip
    assert site.owner.log_in("owner@example.org").status_code == 303
    return site


@pytest.fixture
def sites(request, tmp_path, sqlite_template) -> list[Site]:
    """The same service twice: on SQLite and on PostgreSQL."""
    postgresql = request.getfixturevalue("postgresql_url")
    _empty_postgresql(postgresql)
    sqlite = tmp_path / "twin.db"
    shutil.copy(sqlite_template, sqlite)
    built = [_build_site("sqlite", f"sqlite:///{sqlite}", tmp_path), _build_site("postgresql", postgresql, tmp_path)]
    yield built
    for site in built:
        with site.app.app_context():
            db.engine.dispose()


# Rows added on a random shard (a new one only when that shard had none yet): their number may differ.
SHARDED = {"signature_activity", "signature_counts"}


def same_everywhere(sites: list[Site], send) -> tuple[int, dict[str, int]]:
    """Send one request to each site; both must answer alike, never with a 500."""
    outcomes = {site.name: send(site) for site in sites}
    if currently_in_test_context():
        note(f"outcomes: {outcomes}")
    for name, (status, _delta) in outcomes.items():
        assert status < 500, f"{name} answered {status}"
    comparable = {
        name: (status, {t: n for t, n in delta.items() if t not in SHARDED})
        for name, (status, delta) in outcomes.items()
    }
    assert comparable["sqlite"] == comparable["postgresql"], f"the databases disagree: {outcomes}"
    return outcomes["sqlite"]


def urlencoded(site: Site, pairs: list[tuple[str, str]], raw: bool = False) -> dict:
    return {"data": encode(pairs, raw), "content_type": "application/x-www-form-urlencoded"}


FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

# Forms: (URL, valid fields, extra hidden fields filled in per site, tables a refusal may still touch).
FORMS = {
    "widget sign": ("/embed/demo/sign?partner={partner}", VALID, "form_token", set()),
    "privacy request": ("/privacy/request", {"email": "held@example.org"}, "form_token", set()),
    "organiser login": ("/organiser/login", {"email": "owner@example.org", "password": PASSWORD}, "csrf",
                        {"login_failures"}),
    "organiser new petition": ("/organiser/new", {
        "slug": "fuzzed", "title": "A title", "summary": "A summary", "body": "Some *text*.", "rules": "simple",
        "goal": "1000", "closes_on": "", "registered_on": "", "targets": "DE=10", "retention_months": "6",
        "organiser_name": "Campaign team", "organiser_contact": "team@example.org",
    }, "csrf", set()),
    "organiser edit": ("/organiser/p/demo/edit", {
        "title": "Ban it", "summary": "Now.", "body": "**Why**", "rules": "eci", "closes_on": "", "goal": "",
        "targets": "", "retention_months": "", "submitted_on": "", "organiser_name": "Reclaim Your Face",
        "organiser_contact": "https://reclaim.example/contact", "eci_registration_number": "ECI(2024)000004",
        "eci_signing_url": "https://eci.ec.europa.eu/045/public/",
    }, "csrf", set()),
    "paper tally": ("/organiser/p/demo/paper/tally", {"country": "DE", "count": "5", "note": "stall"}, "csrf", set()),
    "team add": ("/organiser/p/demo/team", {"email": "new@example.org", "role": "viewer"}, "csrf", set()),
}  # fmt: skip


def hidden_fields(site: Site, kind: str, url: str) -> list[tuple[str, str]]:
    if kind == "csrf":
        return [("csrf_token", site.owner.token())]
    if url.startswith("/privacy/"):
        page = site.client.get("/privacy/request").get_data(as_text=True)
        return [("form_token", re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1))]
    return [("form_token", site.sign_token())]


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_every_form_answers_any_input_alike_on_both_databases(sites, form):
    url, valid, hidden, may_touch = FORMS[form]

    @FUZZ
    @given(pairs=perturbed(valid), raw=st.booleans())
    @example(pairs=list(valid.items()), raw=False)
    def run(pairs, raw):
        def send(site: Site):
            body = urlencoded(site, hidden_fields(site, hidden, url) + pairs, raw)
            return site.send("POST", url, **body)

        status, changed = same_everywhere(sites, send)
        if status >= 400:
            assert set(changed) <= may_touch, f"a refused {form} wrote rows: {changed}"
        if form == "widget sign" and certainly_invalid(pairs):
            assert status != 303 and "signatures" not in changed

    run()


def test_the_valid_forms_do_write(sites):
    """Guards the test above: its valid examples reach the success path on both databases."""
    for form, (url, valid, hidden, _may_touch) in FORMS.items():

        def send(site: Site, url=url, valid=valid, hidden=hidden):
            return site.send("POST", url, **urlencoded(site, hidden_fields(site, hidden, url) + list(valid.items())))

        status, changed = same_everywhere(sites, send)
        assert status in {302, 303}, f"{form}: {status}"
        assert changed or form in {"organiser login", "organiser edit"}, f"{form} wrote nothing"


def token_variants(site_token_name: str):
    """A link's token as sent: the real one, one with a character changed or cut, or anything at all."""
    return st.one_of(
        st.just(("real", "")),
        st.tuples(st.just("cut"), st.integers(1, 40).map(str)),
        st.tuples(st.just("flip"), st.integers(0, 80).map(str)),
        st.tuples(st.just("any"), nasty_text()),
    )


def link_token(real: str, variant: tuple[str, str]) -> str:
    kind, value = variant
    if kind == "real":
        return real
    if kind == "cut":
        return real[: -int(value)]
    if kind == "flip":
        i = int(value) % len(real)
        return real[:i] + ("A" if real[i] != "A" else "B") + real[i + 1 :]
    return value


@pytest.mark.parametrize("link", ["confirm", "withdraw"])
def test_link_posts_answer_any_token_alike_on_both_databases(sites, link):
    @FUZZ
    @given(variant=token_variants(link), junk=perturbed({"x": "1"}))
    def run(variant, junk):
        def send(site: Site):
            token = link_token(getattr(site, link), variant)
            path = quote_from_bytes(token.encode("utf-8", "surrogatepass"), safe="")
            return site.send("POST", f"/{link}/{path}", **urlencoded(site, junk))

        status, changed = same_everywhere(sites, send)
        if status >= 400:
            assert changed == {}, f"a refused {link} link changed rows: {changed}"
        if variant[0] != "real":
            assert status >= 400 or not changed, "only the real token may act"

    run()


CSV_PIECES = ["first_name,last_name,country", "Ana,Kovač,DE", "Ben,Li,FR,ben@example.org", "email", ",,,", '"',
              "\x00", "\ud800", "=cmd|' /C calc'!A0", "\r\n", "\n", ";", "\ufeff", "Zoe\u0308,Ng,EL"]  # fmt: skip


@st.composite
def csv_files(draw) -> bytes:
    lines = draw(st.lists(st.one_of(st.sampled_from(CSV_PIECES), nasty_text()), max_size=6))
    text = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


def test_paper_uploads_answer_any_file_alike_on_both_databases(sites):
    import io

    @FUZZ
    @given(content=csv_files(), action=st.sampled_from(["import", "preview", "", "\x00"]))
    @example(content="first_name,last_name,country\nAna,Kovač,DE\n".encode(), action="import")
    def run(content, action):
        def send(site: Site):
            data = {"csrf_token": site.owner.token(), "action": action, "file": (io.BytesIO(content), "paper.csv")}
            return site.send("POST", "/organiser/p/demo/paper/upload", data=data, content_type="multipart/form-data")

        status, changed = same_everywhere(sites, send)
        if status >= 400 or action != "import":
            assert changed == {}, f"a refused or previewed upload wrote rows: {changed}"

    run()


JSON_FIELDS = {"first_name": "Ana", "last_name": "Kovač", "email": "ana@example.org", "country": "DE", "consent": True}


def json_values():
    return st.one_of(
        nasty_text(),
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    )  # fmt: skip


@st.composite
def json_bodies(draw) -> bytes:
    shape = draw(st.sampled_from(["fields", "fields", "fields", "other json", "not json"]))
    if shape == "other json":
        value = draw(st.one_of(json_values(), st.lists(st.just(JSON_FIELDS), max_size=2)))
        return json.dumps(value).encode()
    if shape == "not json":
        return draw(st.one_of(st.binary(max_size=40), st.just(b"\xff\xfe{}"), st.just(b'{"email": "\xc3"}')))
    body = dict(JSON_FIELDS)
    for name in draw(
        st.sets(st.sampled_from([*JSON_FIELDS, "source", "keep_informed", "eligible", "extra"]), max_size=3)
    ):
        if draw(st.booleans()):
            body.pop(name, None)
        else:
            body[name] = draw(json_values())
    # ensure_ascii turns lone surrogates into \ud800 escapes, valid JSON text that no UTF-8 can carry.
    return json.dumps(body, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")


def test_the_partner_api_answers_any_json_alike_on_both_databases(sites):
    @FUZZ
    @given(
        body=json_bodies(),
        content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"]),
    )
    @example(body=json.dumps(JSON_FIELDS).encode(), content_type="application/json")
    @example(
        body=b'{"first_name": "\\ud800", "last_name": "K", "email": "a@example.org", "country": "DE", "consent": true}',
        content_type="application/json",
    )
    @example(body=json.dumps({**JSON_FIELDS, "first_name": "A\u0000na"}).encode(), content_type="application/json")
    def run(body, content_type):
        def send(site: Site):
            headers = {"Authorization": f"Bearer {site.key}"}
            return site.send("POST", "/api/v1/petitions/demo/signatures", data=body, content_type=content_type,
                             headers=headers)  # fmt: skip

        status, changed = same_everywhere(sites, send)
        assert status in {202, 400, 413, 415, 422}, status
        if status != 202:
            assert changed == {}, f"a refused body wrote rows: {changed}"

    run()


def test_stored_names_from_the_fuzzers_are_clean(sites):
    """What the fuzzers may store is normalised: after a decomposed, fullwidth or bidi-laden name is sent
    to both databases, whatever was stored reads back as the same NFC text on each."""
    from petition.services.personal import unseal

    for first in [unicodedata.normalize("NFD", "Zoë"), "Ｚｏｅ", "\u2067Zoe\u2069"]:

        def send(site: Site, first=first):
            body = json.dumps({**JSON_FIELDS, "first_name": first, "email": f"{len(first)}z@example.org"})
            return site.send("POST", "/api/v1/petitions/demo/signatures", data=body, content_type="application/json",
                             headers={"Authorization": f"Bearer {site.key}"})  # fmt: skip

        same_everywhere(sites, send)
    stored = []
    for site in sites:
        with site.app.app_context():
            petition = get_by_slug(db.session, "demo")
            names = sorted(unseal(s.first_name_sealed) for s in db.session.scalars(select(Signature).where(
                Signature.petition_id == petition.id)))  # fmt: skip
            stored.append(names)
            assert all(unicodedata.is_normalized("NFC", n) for n in names)
            assert not any("\u2067" in n for n in names)
    assert stored[0] == stored[1]

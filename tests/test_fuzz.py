"""Whatever arrives in the signing form, the answer is never a 500, and bad input stores nothing."""

import unicodedata
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Signature
from petition.public import form_token
from petition.rules import eci
from petition.rules.countries import normalise_country
from petition.services.personal import unseal
from petition.services.signer_fields import NAME_MAX

FIELDS = ["first_name", "last_name", "email", "country", "consent", "eligible", "keep_informed", "website", "source"]
VALID = {
    "first_name": "Ana",
    "last_name": "Kovač",
    "email": "ana@example.org",
    "country": "DE",
    "consent": "y",
    "eligible": "y",  # the petition is an ECI: nationality and minimum age stated
    "keep_informed": "y",
    "website": "",
    "source": "newsletter",
}
NASTY = [
    "\x00",
    "Ana\x00",
    "\ud800",  # lone surrogates: invalid UTF-8 on the wire
    "Ana\udfff",
    "\u202eanA",  # bidi override
    "Ana\u2066x\u2069",
    "\u200f",
    "\ufeffAna",
    "Ａｎａ",  # fullwidth
    "A\u0301\u0301\u0301\u0301na",  # stacked combining marks
    "\u0301",
    "ana@ｅｘａｍｐｌｅ.org",
    "ana@example.org\r\nBcc: x@example.org",
    "=?UTF-8?Q?=0A?=Bcc: x@example.org",
    "zoë@example.org",
    "ana@-example.org",
    "EL",
    "el",
    " de ",
    "XX",
    "false",
    "",
    " ",
    "<script>alert(1)</script>",
    "A" * (NAME_MAX + 1),
]
FORBIDDEN_IN_NAMES = {"Cc", "Cs", "Co", "Cn"}


def text_values():
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(exclude_categories=()), max_size=40),  # includes lone surrogates
        st.integers(0, 200_000).map(lambda n: "ž" * n),
    )


@st.composite
def submissions(draw) -> list[tuple[str, str]]:
    """Form pairs: some fields nasty, missing or repeated (often just one, so that the others let the
    request reach deep), the rest valid; in any order, plus strangers."""
    disturbed = draw(
        st.one_of(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=1), st.sets(st.sampled_from(FIELDS)))
    )
    pairs = []
    for name in FIELDS:
        choice = draw(st.sampled_from(["nasty", "missing", "repeated"])) if name in disturbed else "valid"
        if choice == "valid":
            pairs.append((name, VALID[name]))
        elif choice == "nasty":
            pairs.append((name, draw(text_values())))
        elif choice == "repeated":
            pairs.extend((name, draw(st.one_of(st.just(VALID[name]), text_values()))) for _ in range(3))
    pairs = draw(st.permutations(pairs))
    strangers = draw(
        st.lists(st.tuples(st.sampled_from(["x", "form_token[]", "\x00", "é"]), text_values()), max_size=2)
    )
    return list(pairs) + strangers


def encode(pairs: list[tuple[str, str]], raw: bool = False) -> bytes:
    """URL-encoded as a browser (or a hostile script) would send it, lone surrogates and all; `raw`
    leaves bytes unescaped (apart from the separators), as a careless script might."""

    def part(text: str) -> bytes:
        data = text.encode("utf-8", "surrogatepass")
        if raw:
            return b"".join(b"%%%02X" % byte if byte in b"&=%+#" else bytes([byte]) for byte in data)
        return quote_from_bytes(data, safe="").encode("ascii")

    return b"&".join(part(k) + b"=" + part(v) for k, v in pairs)


def first(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k == name), None)


def certainly_invalid(pairs: list[tuple[str, str]]) -> bool:
    """Cases the form must refuse, judged independently of its code (WTForms reads the first value)."""
    names = [first(pairs, "first_name"), first(pairs, "last_name")]
    if any(n is None or not n.strip() for n in names) or not first(pairs, "email"):
        return True
    if first(pairs, "consent") in (None, "", "false") or first(pairs, "eligible") in (None, "", "false"):
        return True
    if normalise_country(first(pairs, "country") or "") not in eci.member_states():
        return True
    return any(unicodedata.category(ch) in {"Cc", "Cs"} or ch in "\u202e\u2066\u200f\ufeff" for n in names for ch in n)


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Signature))


def assert_stored_signatures_are_clean(app) -> None:
    with app.app_context():
        for signature in db.session.scalars(select(Signature)):
            assert signature.country in eci.member_states()
            for sealed in (signature.first_name_sealed, signature.last_name_sealed):
                name = unseal(sealed)
                assert 0 < len(name) <= NAME_MAX
                assert not any(unicodedata.category(ch) in FORBIDDEN_IN_NAMES for ch in name), repr(name)
                assert unicodedata.is_normalized("NFC", name)
            assert len(unseal(signature.email_sealed)) <= 254


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=submissions(), raw=st.booleans())
@example(pairs=[*{**VALID, "first_name": "\ud800"}.items()], raw=False)  # bad UTF-8, percent-encoded
@example(pairs=[*{**VALID, "last_name": "Ana\udfff"}.items()], raw=True)
def test_any_sign_form_input_gets_an_answer_and_bad_input_stores_nothing(app, client, petition_id, pairs, raw):
    with app.app_context():
        token = form_token.issue(petition_id)
    before = count(app)
    note(f"form: {pairs!r}")

    response = client.post(
        "/p/demo/sign",
        data=encode([("form_token", token), *pairs], raw),
        content_type="application/x-www-form-urlencoded",
    )

    event(f"HTTP {response.status_code}")
    assert response.status_code in {303, 400, 413, 422}, response.status_code
    after = count(app)
    if response.status_code == 303:
        assert after - before in {0, 1}
        assert_stored_signatures_are_clean(app)
    else:
        assert after == before, "refused input stored a signature"
    if certainly_invalid(pairs):
        assert response.status_code != 303 and after == before


def test_the_fuzzer_reaches_the_success_path(app, client, petition_id):
    """Guards the test above: a plain valid submission, encoded the same way, is accepted."""
    with app.app_context():
        token = form_token.issue(petition_id)
    response = client.post(
        "/p/demo/sign",
        data=encode([("form_token", token), *VALID.items()]),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303
    assert count(app) == 1

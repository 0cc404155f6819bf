"""The OpenAPI document: valid OpenAPI 3.1, complete, and honest (schemathesis replays it against the
app in-process and finds no server error and no response the document does not allow)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from petition.api.openapi import document


def test_the_document_is_valid_openapi_3_1(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    assert spec["servers"] == [{"url": "http://petitions.test"}]


def test_the_validator_would_notice_a_broken_document():
    broken = document("http://petitions.test")
    del broken["paths"]["/api/v1/petitions"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_api_route_is_described(app):
    described = {(path, method.upper()) for path, item in document("http://x").get("paths").items() for method in item}
    routes = {
        (rule.rule.replace("<slug>", "{slug}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == described


# The event stream is described but not replayed: each response stays open for minutes by design
# (tests/test_live.py checks it).
OPERATIONS = [
    (method.upper(), path)
    for path, item in document("http://x")["paths"].items()
    for method in item
    if path != "/api/v1/petitions/{slug}/events"
]
# Invalid input can only be built for a body: the other inputs are free-form strings.
CASES = [(*op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    ("POST", "/api/v1/petitions/{slug}/signatures", GenerationMode.NEGATIVE)
]


@pytest.fixture
def partner_key(app, make_petition, make_partner, confirmed_signature) -> str:
    """A petition with a count, and a partner key, so that generated requests reach every branch."""
    app.config["PARTNER_API_RATE_LIMIT"] = "100000/minute"
    petition_id = make_petition(slug="demo")
    confirmed_signature(petition_id)
    return make_partner(petitions=["demo"])[1]


# Every check runs but one: `positive_data_acceptance` expects any schema-valid body to be accepted,
# while the form's rules (a real address, a country of the petition's list, a name with letters) are
# more than JSON Schema can say. Those refusals are the documented 422, which the other checks verify.
#
# schemathesis' own pytest integration (`from_fixture`) breaks on pytest 9, so each operation's
# strategy is run through Hypothesis directly; the bound keeps the whole run to a few seconds.
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_keeps_to_its_document(app, partner_key, method, path, mode):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = {"Authorization": f"Bearer {partner_key}"}
    known = {"slug": "demo"} if "{slug}" in path else None
    if mode == GenerationMode.POSITIVE:
        # The documented example, on a petition that exists: the happy path must keep to the document too.
        example = document("http://x")["paths"][path][method.lower()].get("requestBody", {})
        body = example.get("content", {}).get("application/json", {}).get("example")
        case = operation.Case(path_parameters=known, **({"body": body} if body else {}))
        assert case.call_and_validate(headers=headers).status_code < 300
    strategies = [operation.as_strategy(generation_mode=mode)]
    if known:
        strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=known))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def replay(case):
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    replay()

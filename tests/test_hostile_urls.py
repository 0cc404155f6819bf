"""URLs with control characters: a NUL byte (or any control character) in a path argument, or a NUL in
the query string, is answered 404 on every route, for visitors and for a logged-in organiser alike.
PostgreSQL refuses NUL in any text, even as a query parameter: such a value reaching a query used to
answer 500 there (and only there)."""

import re

from petition.services import moderation
from tests.helpers.routes import all_rules, url_for_rule

RULES = all_rules()
# Every query argument a view reads, and one nobody reads: a NUL in any of them is refused alike.
QUERY_ARGS = [
    "partner", "lang", "source", "theme", "origin", "next", "expired", "country", "slug",
    "recorded", "done", "rows", "created", "saved", "added", *moderation.Criteria().as_form(), "unused",
]  # fmt: skip
CONTROL = ["%00", "%01", "%1F", "%7F", "a%00b"]


def argument_names(rule: str) -> list[str]:
    return re.findall(r"<(?:[^>:]+:)?([^>]+)>", rule)


def test_a_control_character_in_any_path_argument_is_not_found(app, route_args, owner):
    answered = []
    for method, rule, endpoint in RULES:
        for name in argument_names(rule):
            for value in CONTROL:
                url = url_for_rule(re.sub(rf"<(?:[^>:]+:)?{name}>", value, rule), endpoint, route_args)
                for client in (app.test_client(), owner.client):
                    response = client.open(url, method=method)
                    if response.status_code != 404:
                        answered.append(f"{method} {url} -> {response.status_code}")
                    response.close()
    assert not answered


def test_a_nul_in_any_query_argument_is_not_found(app, route_args, owner):
    queries = [f"{name}=%00" for name in QUERY_ARGS] + ["partner=ab%00cd", "%00=1", "source=ok&lang=de%00"]
    answered = []
    for method, rule, endpoint in RULES:
        url = url_for_rule(rule, endpoint, route_args)
        for query in queries:
            for client in (app.test_client(), owner.client):
                response = client.open(f"{url}?{query}", method=method)
                if response.status_code != 404:
                    answered.append(f"{method} {url}?{query} -> {response.status_code}")
                response.close()
    assert not answered


def test_the_widget_and_share_page_with_a_nul_partner_are_not_found(client, petition_id, make_partner):
    partner_id, _key = make_partner()
    for path in ("/p/demo/share", "/embed/demo", "/embed/demo/check-email"):
        assert client.get(f"{path}?partner={partner_id}").status_code == 200
        assert client.get(f"{path}?partner=%00").status_code == 404
        assert client.get(f"{path}?partner={partner_id}%00").status_code == 404


def test_a_percent_sign_written_out_is_not_a_nul(client, petition_id):
    assert client.get("/p/demo?source=%2500").status_code == 200
    assert client.get("/api/v1/petitions/demo?x=100%25").status_code == 200

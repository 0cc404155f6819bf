"""The petition page as a reader sees it: the ECI picture first (total, countries at their threshold,
the map and the table sorted by progress, with each country's share), the form within reach, and
a word in the reader's language when the petition's text is not in it."""

import re
from datetime import date

import pytest
from sqlalchemy import update

from petition.extensions import db
from petition.models import Petition
from petition.services import counting
from petition.timeutil import utcnow
from tests.helpers.catalogues import translator
from tests.test_i18n import translate

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def add_counts(app, petition_id: int, counts: dict[str, int]) -> None:
    with app.app_context():
        for code, n in counts.items():
            counting.add(db.session, petition_id, code, n, utcnow())
        db.session.commit()


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-country="([A-Z]{2})"', html)


def test_the_countries_are_sorted_by_progress_with_their_share(app, client, petition_id):
    # Malta's threshold is 4,320, Germany's 69,120, France's 58,320.
    add_counts(app, petition_id, {"DE": 69_119, "MT": 4_320, "FR": 30_000, "AT": 1})
    html = client.get("/p/demo").get_data(as_text=True)
    assert rows(html)[:4] == ["MT", "DE", "FR", "AT"]
    germany = re.search(r'<tr data-country="DE".*?</tr>', html, re.S).group(0)
    assert '<span class="figure" data-live="share">99.9%</span>' in germany, "one short is never 100 %"
    assert '<span class="badge" data-live="reached" hidden>' in germany
    malta = re.search(r'<tr data-country="MT".*?</tr>', html, re.S).group(0)
    assert "100.0%" in malta and '<span class="badge" data-live="reached">' in malta
    # The rest, with nothing yet, in the reader's alphabetical order.
    czech = rows(client.get("/p/demo?lang=cs").get_data(as_text=True))
    assert czech[:4] == ["MT", "DE", "FR", "AT"]
    assert czech.index("BG") < czech.index("CZ") < czech.index("DK")  # Bulharsko, Česko, Dánsko


def test_the_ecipicture_leads_the_page_and_the_map_shows_every_member_state(app, client, petition_id):
    add_counts(app, petition_id, {"DE": 69_120, "FR": 100})
    html = client.get("/p/demo?lang=de").get_data(as_text=True)
    article = html[html.index("<article") : html.index("</article>")]
    headline = article.index('class="headline"')
    assert headline < article.index('<svg class="tiles"') < article.index('<details class="countries">')
    assert article.index('<details class="countries">') < article.index('<div class="body"')
    assert 'Länder über ihrer Mindestzahl: <strong data-live="countries-reached">1</strong> von 7' in html
    tiles = re.findall(r'<g data-country="([A-Z]{2})" class="([a-z0-9]+)">', html)
    assert len(tiles) == 27
    assert dict(tiles)["DE"] == "reached" and dict(tiles)["FR"] == "s1" and dict(tiles)["IT"] == "s0"
    assert "<title>Deutschland</title>" in html, "tooltips name the country in the reader's language"
    assert '<details class="countries">' in html, "the country list is closed at first"
    # The form follows the text, and a link near the top leads to it.
    assert html.index('href="#sign"') < html.index('class="headline"') < html.index('id="sign"')


def test_the_widget_shows_the_countries_reached_but_no_map(client, petition_id, make_partner):
    partner_id, _ = make_partner()
    html = client.get(f"/embed/demo?partner={partner_id}").get_data(as_text=True)
    assert 'data-live="countries-reached"' in html
    assert '<svg class="tiles"' not in html and "<details" not in html


def test_a_simple_petition_has_no_map_and_lists_countries_by_count(app, client, make_petition):
    petition_id = make_petition(slug="simple", rules="simple", goal=1000)
    add_counts(app, petition_id, {"BE": 3, "NL": 12, "FR": 7})
    html = client.get("/p/simple").get_data(as_text=True)
    assert '<svg class="tiles"' not in html and "countries-reached" not in html
    assert rows(html) == ["NL", "FR", "BE"]


def test_an_untranslated_petition_says_so_in_the_readers_language(app, client, petition_id):
    with app.app_context():
        db.session.execute(update(Petition).values(body_markdown="Cameras that recognise faces."))
        db.session.commit()
    italian = client.get("/p/demo?lang=it").get_data(as_text=True)
    message = (
        "This petition has not been translated into your language yet; it is shown in its original language "
        "(%(language)s)."
    )
    assert translator("it").gettext(message) % {"language": "inglese"} in italian
    assert "Questa petizione non è ancora stata tradotta" in italian
    assert "has not been translated" not in client.get("/p/demo").get_data(as_text=True)

    # A translated title without the full text: the note stands above the text.
    translate(app, petition_id, "pl", "Zakażmy biometrycznej inwigilacji")
    polish = client.get("/p/demo?lang=pl").get_data(as_text=True)
    note = "Pełny tekst nie został jeszcze przetłumaczony na Twój język; jest wyświetlany w języku oryginału"
    note += " (angielski)."
    assert note in polish
    assert polish.index(note) < polish.index('<div class="body" lang="en">')
    assert "Ta petycja nie została" not in polish


def test_portuguese_pages_write_numbers_and_countries_as_in_portugal(app, client, make_petition):
    petition_id = make_petition(registered_on=date(2026, 11, 26))
    add_counts(app, petition_id, {"CZ": 1234, "PL": 12345})
    html = client.get("/p/demo?lang=pt").get_data(as_text=True)
    assert 'data-locale="pt-PT"' in html
    assert '<th scope="row" id="country-CZ">Chéquia</th>' in html and ">Polónia<" in html
    assert '<span class="figure" data-live="count">1234</span>' in html
    assert '<span class="figure" data-live="count">12\u00a0345</span>' in html

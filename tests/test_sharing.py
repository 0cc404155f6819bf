"""Passing a petition on: the share step after confirming, link previews (OpenGraph), the embed code on
the share page, and what a refused widget falls back to. Nothing makes a request to another site."""

import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Signature
from tests.conftest import form_token_of
from tests.helpers.catalogues import translator
from tests.helpers.fixtures import form_fields

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def thanks_page(client, sign_form, outbox, lang=None) -> str:
    sign_form(email="ana@example.org")
    outbox.deliver()
    path = outbox.confirm_path("ana@example.org")
    client.post(path)
    return client.get(path, query_string={"lang": lang} if lang else None).get_data(as_text=True)


def share_links(page: str) -> dict[str, str]:
    section = re.search(r'<section class="share-step".*?</section>', page, re.S).group(0)
    return {
        html.unescape(name): html.unescape(href)
        for href, name in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', section)
    }


def test_after_confirming_the_signer_gets_plain_links_to_pass_it_on(app, petition_id, client, sign_form, outbox):
    page = thanks_page(client, sign_form, outbox)
    links = share_links(page)
    assert set(links) == {"Send by email", "WhatsApp", "Telegram", "Facebook", "Bluesky", "X", "LinkedIn", "Reddit"}
    assert 'id="share-url" value="http://petitions.test/p/demo?source=share-link" readonly' in page
    assert 'data-copy="share-url"' in page and "Copy link" in page

    mail = urlsplit(links["Send by email"])
    assert mail.scheme == "mailto" and not mail.path, "no address: the signer chooses whom to write to"
    query = parse_qs(mail.query)
    assert query["subject"] == ["Ban biometric mass surveillance"]
    assert query["body"] == [
        "I signed “Ban biometric mass surveillance”. Will you sign too?\n\n"
        "http://petitions.test/p/demo?source=share-email"
    ]
    assert links["WhatsApp"].startswith("https://wa.me/?text=")
    assert "http://petitions.test/p/demo?source=share-whatsapp" in unquote(links["WhatsApp"])
    assert (
        unquote(links["Facebook"])
        == "https://www.facebook.com/sharer/sharer.php?u=http://petitions.test/p/demo?source=share-facebook"
    )
    # Only links: no network's script, image, frame or counter is on the page.
    section = re.search(r'<section class="share-step".*?</section>', page, re.S).group(0)
    assert not re.search(r"<(script|img|iframe|link)\b", section)
    assert re.findall(r'<script src="([^"]+)"', page) == ["/static/js/share.js"]


def test_the_share_step_speaks_the_signers_language(app, petition_id, client, sign_form, outbox):
    pl = translator("pl").gettext
    page = html.unescape(thanks_page(client, sign_form, outbox, lang="pl"))
    assert pl("Pass it on") in page and pl("Send by email") in page
    body = parse_qs(urlsplit(share_links(page)[pl("Send by email")]).query)["body"][0]
    assert body.startswith("Podpisałem/Podpisałam „Ban biometric mass surveillance”.")


def test_someone_who_arrives_through_a_shared_link_is_counted_for_that_channel(app, petition_id, client):
    html_page = client.get("/p/demo?source=share-whatsapp").get_data(as_text=True)
    assert 'name="source" type="hidden" value="share-whatsapp"' in html_page
    client.post("/p/demo/sign", data=form_fields(source="share-whatsapp", form_token=form_token_of(html_page)))
    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert signature.source == "web/share-whatsapp"


def test_the_petition_page_describes_itself_to_link_previews(app, make_petition, client):
    make_petition(summary="Stop facial recognition in our public spaces.")
    page = text_of(client.get("/p/demo?lang=fr"))
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page))
    assert meta["og:title"] == "Ban biometric mass surveillance"
    assert meta["og:description"] == meta["description"] == "Stop facial recognition in our public spaces."
    assert meta["og:url"] == "http://petitions.test/p/demo"
    assert meta["og:image"] == "http://petitions.test/static/img/share-card.png"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:locale"] == "fr" and meta["twitter:card"] == "summary_large_image"
    assert '<link rel="canonical" href="http://petitions.test/p/demo">' in page
    # The image is ours: served by the app itself, a real PNG of the size announced.
    image = client.get(urlsplit(meta["og:image"]).path)
    assert image.status_code == 200 and image.mimetype == "image/png"
    data = image.get_data()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1200, 630)


def test_a_long_summary_is_shortened_on_a_word_for_previews(make_petition, client):
    make_petition(summary="word " * 100)
    description = re.search(r'<meta name="description" content="([^"]*)">', text_of(client.get("/p/demo"))).group(1)
    assert len(description) <= 300 and description.endswith("word…")


def test_the_share_page_gives_a_partner_code_that_works_as_pasted(app, petition_id, make_partner, client):
    partner_id, _ = make_partner(origins=["https://ngo.example", "https://news.example"])
    page = text_of(client.get(f"/p/demo/share?partner={partner_id}"))
    code = re.search(r'<code id="embed-code">(.*?)</code>', page, re.S).group(1)
    assert code == (
        f'<script src="http://petitions.test/embed.js" data-petition="demo" data-partner="{partner_id}" async></script>'
    )
    assert "Paste this, unchanged," in page
    assert "<code>https://news.example</code>, <code>https://ngo.example</code>" in page


def test_without_a_partner_the_share_page_says_what_to_replace(petition_id, client):
    raw = client.get("/p/demo/share").get_data(as_text=True)
    assert "with YOUR-PARTNER-ID (marked) replaced by the partner id" in raw
    assert "data-partner=&#34;<mark>YOUR-PARTNER-ID</mark>&#34;" in raw
    assert "the code shows a link to the petition's own page instead" in raw
    assert '"eligible": true' in html.unescape(raw), "the API example of an ECI carries the statement"


def test_a_refused_widget_falls_back_to_a_link_in_its_language(petition_id, client):
    answer = client.get("/embed/demo/link?lang=de&source=news")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json == {
        "href": "http://petitions.test/p/demo?lang=de&source=news",
        "text": "„Ban biometric mass surveillance“ auf der Seite der Petition unterschreiben",
        "lang": "de",
    }
    assert client.get("/embed/nothing/link").status_code == 404


def test_embed_js_replaces_a_silent_frame_with_that_link(client):
    script = client.get("/embed.js").get_data(as_text=True)
    assert "petition-widget-link" in script and "/link?" in script

"""The live dashboard: the figures an organiser watches, refreshed cheaply, and the ECI outlook."""

import re
from datetime import UTC, datetime, timedelta

from petition.extensions import db
from petition.models import Petition
from petition.rules.outlook import build_outlook
from petition.rules.progress import build_progress
from petition.services import confirming, signing
from petition.timeutil import utcnow
from tests.helpers.fixtures import signer


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no figure {name}"
    return match.group(1)


def sign_from(app, petition_id, email, country="DE", source="web", confirm=True) -> None:
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        signing.sign(db.session, petition, signer(email, country=country), now=utcnow(), source=source)
        db.session.commit()
        if confirm:
            from sqlalchemy import select

            from petition.models import Signature

            signature_id = db.session.scalar(select(Signature.id).order_by(Signature.id.desc()).limit(1))
            confirming.confirm(db.session, signature_id, utcnow())
            db.session.commit()


def test_the_dashboard_shows_totals_pending_rate_and_countries(
    app, owner, petition_id, pending_signature, confirmed_signature
):
    confirmed_signature(petition_id, "a@example.org", "DE")
    confirmed_signature(petition_id, "b@example.org", "DE")
    confirmed_signature(petition_id, "c@example.org", "FR")
    pending_signature(petition_id, "d@example.org", "AT")

    html = owner.get("/organiser/p/demo").get_data(as_text=True)
    assert figure(html, "total") == "3"
    assert figure(html, "online") == "3"
    assert figure(html, "paper") == "0"
    assert figure(html, "pending") == "1"
    assert figure(html, "rate") == "75.0%"
    assert figure(html, "countries-reached") == "0 of 7"


def test_the_dashboard_shows_germanys_threshold_and_the_map_of_europe(app, owner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "DE")
    html = owner.get("/organiser/p/demo").get_data(as_text=True)
    row = re.search(r'<tr data-country="DE".*?</tr>', html, re.S).group(0)
    assert "69,120" in row
    tiles = re.search(r'<svg class="tiles".*?</svg>', html, re.S).group(0)
    assert len(re.findall(r'<g data-country="[A-Z]{2}"', tiles)) == 27
    assert "N of 7" not in html and "0 of 7" in html


def test_the_figures_refresh_answers_304_until_something_changes(app, owner, petition_id, confirmed_signature):
    first = owner.get("/organiser/p/demo/figures")
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-store"
    again = owner.get("/organiser/p/demo/figures", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""

    confirmed_signature(petition_id, "a@example.org", "DE")
    changed = owner.get("/organiser/p/demo/figures", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert figure(changed.get_data(as_text=True), "total") == "1"


def test_the_page_carries_the_etag_of_its_figures(app, owner, petition_id):
    page = owner.get("/organiser/p/demo").get_data(as_text=True)
    etag = re.search(r'data-etag="([^"]+)"', page).group(1)
    assert owner.get("/organiser/p/demo/figures", headers={"If-None-Match": f'"{etag}"'}).status_code == 304


def test_signatures_and_confirmation_rate_per_source(app, owner, petition_id):
    sign_from(app, petition_id, "a@example.org", source="web")
    sign_from(app, petition_id, "b@example.org", source="web/newsletter")
    sign_from(app, petition_id, "c@example.org", source="web/newsletter", confirm=False)
    sign_from(app, petition_id, "d@example.org", source="widget:edri")
    sign_from(app, petition_id, "e@example.org", source="widget:edri/fb", confirm=False)
    sign_from(app, petition_id, "f@example.org", source="api:lqdn")

    html = owner.get("/organiser/p/demo/figures").get_data(as_text=True)

    def row(source):
        cells = re.search(rf'<tr data-source="{re.escape(source)}">(.*?)</tr>', html, re.S).group(1)
        return re.findall(r'<td class="num"[^>]*>([^<]*)</td>', cells)

    assert row("web") == ["3", "2", "66.7%"], "web groups web and web/newsletter"
    assert row("widget:edri") == ["2", "1", "50.0%"]
    assert row("api:lqdn") == ["1", "1", "100.0%"]
    assert row("web/newsletter") == ["2", "1", "50.0%"]
    assert row("widget:edri/fb") == ["1", "0", "0.0%"]


def test_the_charts_count_this_hours_confirmations(app, owner, petition_id, confirmed_signature):
    for n in range(3):
        confirmed_signature(petition_id, f"p{n}@example.org", "DE")
    html = owner.get("/organiser/p/demo/figures").get_data(as_text=True)
    hourly = re.search(r'aria-label="Confirmed signatures per hour[^"]*".*?</svg>', html, re.S).group(0)
    assert len(re.findall(r"<rect ", hourly)) == 48
    label = utcnow().strftime("%d %H:00")
    assert f"<title>{label}: 3</title>" in hourly
    daily = re.search(r'aria-label="Confirmed signatures per day".*?</svg>', html, re.S).group(0)
    assert f"<title>{utcnow().date().isoformat()}: 3</title>" in daily


def chart(html: str, label: str) -> str:
    return re.search(rf'<svg class="chart"[^>]*aria-label="{label}".*?</svg>', html, re.S).group(0)


def test_charts_keep_their_shape_a_single_day_is_one_column_and_each_has_its_figures(
    app, owner, petition_id, confirmed_signature
):
    for n in range(2):
        confirmed_signature(petition_id, f"p{n}@example.org", "DE")
    html = owner.get("/organiser/p/demo/figures").get_data(as_text=True)
    assert "preserveAspectRatio" not in html, "charts scale as a whole: their text keeps its shape"
    daily = chart(html, "Confirmed signatures per day")
    width = float(re.search(r'viewBox="0 0 (\d+)', daily).group(1))
    [column] = re.findall(r'<rect [^>]*width="([\d.]+)"', daily)
    assert float(column) < width / 10, "one day is one narrow column, not a block across the chart"
    today = utcnow().date().isoformat()
    hour = utcnow().strftime("%Y-%m-%d %H:00")
    data = re.search(r'<details class="chart-data" id="daily-data">.*?</details>', html, re.S).group(0)
    assert f'<tr><td>{today}</td><td class="num">2</td></tr>' in data
    data = re.search(r'<details class="chart-data" id="hourly-data">.*?</details>', html, re.S).group(0)
    assert f'<tr><td>{hour}</td><td class="num">2</td></tr>' in data
    assert len(re.findall(r"<tr><td>", data)) == 48


def test_a_paper_tally_is_charted_apart_from_online_signatures(app, owner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    assert (
        owner.post("/organiser/p/demo/paper/tally", {"country": "FR", "count": "5000", "note": "stall"}).status_code
        == 303
    )
    html = owner.get("/organiser/p/demo/figures").get_data(as_text=True)
    today = utcnow().date().isoformat()
    online = chart(html, "Confirmed signatures per day")
    assert f"<title>{today}: 1</title>" in online, "online, the day counts its one confirmation"
    paper = chart(html, "Paper signatures per day they were recorded")
    assert f"<title>{today}: 5,000</title>" in paper
    data = re.search(r'<details class="chart-data" id="paper-data">.*?</details>', html, re.S).group(0)
    assert f'<tr><td>{today}</td><td class="num">5,000</td></tr>' in data
    assert figure(html, "total") == "5,001"


def test_the_dashboard_loads_nothing_from_another_host_and_runs_no_inline_script(app, owner, petition_id):
    html = owner.get("/organiser/p/demo").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", "http://petitions.test", "data:")) and not url.startswith("//"), url
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []
    assert " style=" not in html, "inline styles are refused by our Content-Security-Policy"


def test_the_outlook_names_reached_and_closest_countries_with_daily_rates(app, owner, petition_id, confirmed_signature):
    with app.app_context():
        from petition.services import counting

        counting.add(db.session, petition_id, "MT", 4500, utcnow())  # Malta's minimum is 4,320
        counting.add(db.session, petition_id, "LU", 4000, utcnow())  # Luxembourg's too: 92.6%
        counting.add(db.session, petition_id, "EE", 5000, utcnow())  # Estonia's is 5,040: 99.2%
        db.session.commit()
    html = owner.get("/organiser/p/demo/figures").get_data(as_text=True)
    outlook = re.search(r'<section class="outlook">.*?</section>', html, re.S).group(0)
    assert "At their minimum but under the safety margin" in outlook and "MT (4,500 / 5,400)" in outlook
    assert "At their minimum: MT</p>" in outlook
    closest = re.findall(r"<tr><th scope=\"row\">([A-Z]{2})</th>", outlook)
    assert closest[:2] == ["EE", "LU"], "the nearest to their minimum first"
    assert "Needed from now on" in outlook


def test_outlook_arithmetic():
    now = datetime(2027, 1, 1, tzinfo=UTC)
    progress = build_progress({"DE": 500, "FR": 1500}, {"DE": 1000, "FR": 1000}, 10_000, 2)
    outlook = build_outlook(
        progress, now=now, opens_at=now - timedelta(days=100), closes_at=now + timedelta(days=100), recent_per_day=20
    )
    de, fr = sorted(outlook.countries, key=lambda c: c.code)
    assert de.needed_per_day == 5.0 and de.needed_per_day_with_margin == 7.5
    assert fr.reached and fr.safe and fr.needed_per_day == 0.0
    assert outlook.needed_per_day == 80.0  # (10,000 - 2,000) / 100
    assert outlook.needed_per_day_with_margin == 105.0  # (12,500 - 2,000) / 100
    assert outlook.projected_total == 4000  # 2,000 + 20 x 100
    assert de.projected == 500 + 500 and fr.projected == 1500 + 1500, "the pace is shared as the counts are"
    assert outlook.on_track is False
    assert [c.code for c in outlook.closest] == ["DE"]


def test_outlook_without_a_closing_date_asks_for_no_daily_rate():
    progress = build_progress({"DE": 500}, {"DE": 1000}, None, None)
    outlook = build_outlook(progress, now=utcnow(), opens_at=None, closes_at=None, recent_per_day=3)
    assert outlook.countries[0].needed_per_day is None and outlook.projected_total is None


def test_the_daily_purge_folds_settled_activity_shards_without_changing_a_figure(app, owner, petition_id, runner):
    from sqlalchemy import func, select

    from petition.models import SignatureActivity
    from petition.services import activity

    yesterday = utcnow() - timedelta(days=1)
    with app.app_context():
        for n in range(40):  # forty confirmations yesterday, spread over the shards
            activity.record(db.session, petition_id, "web", yesterday, signed=1, confirmed=1 if n % 4 else 0)
        activity.record(db.session, petition_id, "web", utcnow(), signed=1)
        db.session.commit()
        rows_before = db.session.scalar(select(func.count()).select_from(SignatureActivity))
    before = owner.get("/organiser/p/demo/figures").get_data(as_text=True)

    result = runner.invoke(args=["purge"])
    assert "settled activity row(s) folded" in result.output
    with app.app_context():
        rows_after = db.session.scalar(select(func.count()).select_from(SignatureActivity))
    assert rows_before > 2 and rows_after == 2, "one row for yesterday's hour, one for this hour"
    app.extensions.pop("organiser_activity_cache", None)
    assert owner.get("/organiser/p/demo/figures").get_data(as_text=True) == before

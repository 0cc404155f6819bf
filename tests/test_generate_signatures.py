"""`generate-signatures`: bulk synthetic signatures whose counters agree with the rows."""

from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Signature, SignatureStatus
from petition.services import personal
from petition.services.synthetic import FIRST_NAMES


def test_generated_signatures_are_counted_and_spread_like_the_population(app, runner, client, petition_id):
    result = runner.invoke(
        args=["generate-signatures", "--petition", "demo", "--count", "3000", "--confirmed-ratio", "0.8", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "3000 added to 'demo'" in result.output

    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count()).select_from(Signature).where(Signature.status == SignatureStatus.CONFIRMED)
        )
        some = db.session.scalars(select(Signature).limit(5)).all()
        assert {personal.unseal(s.first_name_sealed) for s in some} <= set(FIRST_NAMES)
    assert 2200 < confirmed < 2600
    figures = client.get("/api/v1/petitions/demo").json
    assert figures["total"] == confirmed
    by_country = {c["code"]: c["count"] for c in figures["countries"]}
    assert by_country["DE"] > 5 * by_country.get("MT", 0)
    assert set(by_country) <= set(personal_countries(figures))

    recount = runner.invoke(args=["recount", "--petition", "demo"])
    assert "0 counter(s) corrected" in recount.output


def personal_countries(figures: dict) -> list[str]:
    """Every country the ECI petition lists has a threshold: generated signers stay within them."""
    return [c["code"] for c in figures["countries"] if c["threshold"] is not None]


def test_generating_twice_adds_up(runner, client, petition_id):
    for _ in range(2):
        assert runner.invoke(args=["generate-signatures", "--petition", "demo", "--count", "50"]).exit_code == 0
    assert client.get("/api/v1/petitions/demo").json["total"] == 100


def test_an_unknown_petition_is_refused(runner, petition_id):
    result = runner.invoke(args=["generate-signatures", "--petition", "nope", "--count", "5"])
    assert result.exit_code != 0 and "No petition 'nope'" in result.output

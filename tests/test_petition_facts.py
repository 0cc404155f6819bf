"""What signing and confirming read about a petition is kept a moment per process: an organiser's
change still takes effect at once in the process that made it, and within PETITION_CACHE_SECONDS
everywhere else."""

import time

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Organiser, Signature, SignatureStatus
from petition.services import blocklist
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields


def statuses(app) -> dict[str, SignatureStatus]:
    from petition.services import personal

    with app.app_context():
        rows = db.session.execute(select(Signature.email_hash, Signature.status)).all()
        known = {personal.email_hash(1, f"{name}@{domain}"): f"{name}@{domain}" for name, domain in ADDRESSES}
        return {known[h]: s for h, s in rows}


ADDRESSES = [("ana", "example.org"), ("bot", "spam.example"), ("eve", "spam.example"), ("ivo", "spam.example")]


@pytest.fixture
def cached_app(app):
    app.extensions["petition_facts"].seconds = 0.5
    return app


def test_a_block_made_by_an_organiser_applies_to_the_next_signature(cached_app, petition_id, owner, sign_form):
    assert sign_form(email="ana@example.org").status_code == 303  # the petition is now in the cache
    owner.post("/organiser/p/demo/blocked", {"action": "block_domain", "value": "spam.example"})

    assert sign_form(email="bot@spam.example").status_code == 303
    assert statuses(cached_app)["bot@spam.example"] == SignatureStatus.FLAGGED, "at once, in this process"


def test_a_change_made_elsewhere_applies_within_the_cache_time(cached_app, petition_id, make_organiser, sign_form):
    assert sign_form(email="ana@example.org").status_code == 303
    organiser_id = make_organiser(petition_id=petition_id)
    with cached_app.app_context():  # as another process (or the command line) would
        blocklist.block_domain(
            db.session, petition_id, "spam.example", db.session.get(Organiser, organiser_id), utcnow()
        )
        db.session.commit()

    sign_form(email="eve@spam.example")
    time.sleep(0.6)
    sign_form(email="ivo@spam.example")

    seen = statuses(cached_app)
    assert seen["eve@spam.example"] == SignatureStatus.PENDING, "this process had not read the block yet"
    assert seen["ivo@spam.example"] == SignatureStatus.FLAGGED, "within PETITION_CACHE_SECONDS it has"


def test_closing_by_an_organiser_stops_signing_at_once(cached_app, petition_id, owner, sign_form, client):
    assert sign_form(email="ana@example.org").status_code == 303
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    assert owner.post("/organiser/p/demo/close").status_code in (302, 303)
    refused = client.post("/p/demo/sign", data=form_fields(email="bot@spam.example", form_token=token))
    assert refused.status_code == 403


def snapshot(petition_id: int, blocked_domains: frozenset[str] = frozenset()):
    from petition.models import PetitionStatus, RuleSet
    from petition.services.blocklist import BlockedSenders
    from petition.services.petition_facts import PetitionFacts

    return PetitionFacts(
        id=petition_id, slug="demo", status=PetitionStatus.OPEN, rules=RuleSet.SIMPLE, opens_at=None,
        closes_at=None, goal_total=None, min_countries=None, thresholds={}, allowed_countries=frozenset({"BE"}),
        blocked=BlockedSenders(domains=blocked_domains),
    )  # fmt: skip


class SlowRead:
    """A read of the petition that lasts until released, as one does on a busy machine."""

    def __init__(self, facts):
        import threading

        self.facts, self.started, self.release = facts, threading.Event(), threading.Event()

    def __call__(self):
        self.started.set()
        self.release.wait(30)
        return self.facts


def reading_in_another_thread(cache, read):
    import threading

    thread = threading.Thread(target=lambda: cache.get(("slug", "demo"), read))
    thread.start()
    read.started.wait(5)
    return thread


def test_during_a_burst_the_petition_is_read_once_per_expiry_not_by_every_request():
    from petition.services.petition_facts import FactsCache

    cache = FactsCache(seconds=0.05)
    first = snapshot(1)
    assert cache.get(("slug", "demo"), lambda: first) is first
    time.sleep(0.06)
    cache.seconds = 60  # what is read next stays fresh however slow this machine is
    read = SlowRead(snapshot(1, frozenset({"spam.example"})))
    refresher = reading_in_another_thread(cache, read)

    def must_not_read():
        raise AssertionError("a second request read the petition while the first one was reading it")

    # Requests arriving meanwhile use the last snapshot at once (and do not wait for the read: it
    # only ends once released).
    assert all(cache.get(("slug", "demo"), must_not_read) is first for _ in range(20))
    assert refresher.is_alive()
    read.release.set()
    refresher.join(5)
    assert cache.get(("slug", "demo"), must_not_read).blocked.domains == {"spam.example"}
    assert cache.get(("id", 1), must_not_read).blocked.domains == {"spam.example"}, "kept by id too"


def test_a_snapshot_read_before_an_organisers_change_is_not_kept_after_it():
    from petition.services.petition_facts import FactsCache

    cache = FactsCache(seconds=60)
    before_the_block = SlowRead(snapshot(1))
    reader = reading_in_another_thread(cache, before_the_block)
    cache.forget(1)  # the organiser's change, committed while that read was under way
    before_the_block.release.set()
    reader.join(5)

    after = snapshot(1, frozenset({"spam.example"}))
    assert cache.get(("slug", "demo"), lambda: after) is after, "the next request reads the petition again"
    assert cache.get(("slug", "demo"), lambda: None) is after, "and that snapshot is kept"

"""What the signing path needs to know about a petition, read from the database at most once per
`PETITION_CACHE_SECONDS` per process instead of on every request.

During a burst every request names the same petition; loading it, its thresholds, its blocklist and
its milestones through the ORM for each signature and confirmation cost more than the signature
itself. A snapshot is plain immutable data, so a cached one behaves exactly like a fresh one. It may
be up to `PETITION_CACHE_SECONDS` old in other processes (1 s by default), and a moment more while one
request reads it afresh and the others use the last snapshot: an organiser's change (a blocked
domain, a closing date) takes effect there within that time, and at once in the process that made it,
which forgets its copy.
"""

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import Milestone, Petition, PetitionStatus, RuleSet
from petition.models.petition import status_at
from petition.public_cache import Refreshers
from petition.services.blocklist import BlockedSenders, blocked_senders
from petition.services.petitions import allowed_countries

MAX_PETITIONS = 256


@dataclass(frozen=True)
class PetitionFacts:
    id: int
    slug: str
    status: PetitionStatus
    rules: RuleSet
    opens_at: datetime | None
    closes_at: datetime | None
    goal_total: int | None
    min_countries: int | None
    thresholds: Mapping[str, int]
    allowed_countries: frozenset[str]
    blocked: BlockedSenders
    # Milestones stamped when the snapshot was taken: a confirmation that crosses nothing new needs
    # no look at the milestone table.
    milestones: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def status_at(self, now: datetime) -> PetitionStatus:
        return status_at(self.status, self.opens_at, self.closes_at, now)

    def is_accepting_signatures(self, now: datetime) -> bool:
        return self.status_at(now) == PetitionStatus.OPEN

    @property
    def is_eci(self) -> bool:
        """An ECI asks for nationality and the `eligible` tick (see petition.public.forms)."""
        return self.rules == RuleSet.ECI


def read_facts(session: Session, petition: Petition) -> PetitionFacts:
    stamped = session.execute(select(Milestone.kind, Milestone.key).where(Milestone.petition_id == petition.id)).all()
    return PetitionFacts(
        id=petition.id,
        slug=petition.slug,
        status=petition.status,
        rules=petition.rules,
        opens_at=petition.opens_at,
        closes_at=petition.closes_at,
        goal_total=petition.goal_total,
        min_countries=petition.min_countries,
        thresholds=dict(petition.thresholds()),
        allowed_countries=allowed_countries(petition),
        blocked=blocked_senders(session, petition.id),
        milestones=frozenset((kind, key) for kind, key in stamped),
    )


class FactsCache:
    """Snapshots by slug and by id, each kept `seconds` (0: always read afresh)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[object, tuple[float, PetitionFacts]] = {}
        self._lock = threading.Lock()
        self._refreshers = Refreshers()
        # Counts `forget` and `clear`: a snapshot read before one of them is not kept after it, or it
        # would hide the change it was called for in this process for another `seconds`.
        self._generation = 0

    def by_slug(self, session: Session, slug: str) -> PetitionFacts | None:
        return self.get(
            ("slug", slug), lambda: _facts_of(session, session.scalar(select(Petition).where(Petition.slug == slug)))
        )

    def by_id(self, session: Session, petition_id: int) -> PetitionFacts | None:
        return self.get(("id", petition_id), lambda: _facts_of(session, session.get(Petition, petition_id)))

    def clear(self) -> None:
        with self._lock:
            self._entries = {}
            self._generation += 1

    def forget(self, petition_id: int) -> None:
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e[1].id != petition_id}
            self._generation += 1

    def get(self, key, read: Callable[[], PetitionFacts | None]) -> PetitionFacts | None:
        """The snapshot under `key`, or what `read()` gives (None: no such petition, not kept)."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        if entry is not None and not self._refreshers.claim(key):
            return entry[1]  # another request is reading it afresh (see public_cache.Refreshers)
        generation = self._generation
        try:
            facts = read()
        finally:
            if entry is not None:
                self._refreshers.release(key)
        if facts is not None and self.seconds > 0:
            self._keep(facts, now + self.seconds, generation)
        return facts

    def _keep(self, facts: PetitionFacts, expires: float, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # forgotten while it was being read: the next request reads it again
            if len(self._entries) >= 2 * MAX_PETITIONS:
                now = time.monotonic()
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            if len(self._entries) < 2 * MAX_PETITIONS:
                self._entries[("slug", facts.slug)] = (expires, facts)
                self._entries[("id", facts.id)] = (expires, facts)


def _facts_of(session: Session, petition: Petition | None) -> PetitionFacts | None:
    return read_facts(session, petition) if petition is not None else None


def init_app(app) -> None:
    app.extensions["petition_facts"] = FactsCache(app.config["PETITION_CACHE_SECONDS"])


def facts_cache() -> FactsCache:
    return current_app.extensions["petition_facts"]

"""Synthetic signatures in bulk, for load tests and benchmarks: a million in well under a minute.

Countries follow population (so Germany signs far more than Malta), and the sealed personal fields
are real AES-GCM values, but only a few dozen distinct ones, sealed once and reused: an export or a
mail run over these rows costs what it would on real data, without sealing a million names.
"""

import random
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from petition.models import Petition, Signature, SignatureStatus
from petition.services import personal
from petition.services.petitions import allowed_countries

# Inhabitants in millions (Eurostat 2024 and national figures), used only as relative weights.
POPULATION = {
    "DE": 83.4, "FR": 68.4, "IT": 59.0, "ES": 48.6, "PL": 36.6, "RO": 19.1, "NL": 17.9, "BE": 11.8,
    "CZ": 10.9, "SE": 10.6, "PT": 10.6, "GR": 10.4, "HU": 9.6, "AT": 9.2, "BG": 6.4, "DK": 6.0,
    "FI": 5.6, "SK": 5.4, "IE": 5.3, "HR": 3.9, "LT": 2.9, "SI": 2.1, "LV": 1.9, "EE": 1.4,
    "CY": 0.9, "LU": 0.7, "MT": 0.6, "GB": 68.3, "UA": 37.0, "RS": 6.6, "CH": 8.9, "NO": 5.5,
    "US": 335.0, "TR": 85.3, "BA": 3.2, "ME": 0.6, "MK": 1.8, "AL": 2.8, "MD": 2.4, "IS": 0.4,
}  # fmt: skip
FIRST_NAMES = ["Ana", "Jonas", "Marie", "Luca", "Zoë", "Piotr", "Sofia", "Mihai", "Emma", "Nikola", "Aoife", "Jan"]
LAST_NAMES = ["Kovač", "Müller", "Dubois", "Rossi", "García", "Nowak", "Popescu", "de Vries", "Novák", "Ó Briain"]
_COLUMNS = [
    "petition_id", "status", "email_hash", "email_sealed", "first_name_sealed", "last_name_sealed", "country",
    "keep_informed", "source", "locale", "ip_hash", "emails_sent", "created_at", "confirmed_at",
]  # fmt: skip


def country_weights(petition: Petition) -> dict[str, float]:
    weights = {code: POPULATION[code] for code in allowed_countries(petition) if code in POPULATION}
    return weights or dict.fromkeys(sorted(allowed_countries(petition)), 1.0)


def _rows(petition: Petition, count: int, confirmed_ratio: float, now: datetime, rng: random.Random) -> Iterator:
    weights = country_weights(petition)
    codes, cumulative = list(weights), []
    running = 0.0
    for code in codes:
        running += weights[code]
        cumulative.append(running)
    firsts = [personal.seal(name) for name in FIRST_NAMES]
    lasts = [personal.seal(name) for name in LAST_NAMES]
    emails = [personal.seal(f"signer{n}@example.org") for n in range(32)]
    run = secrets.token_hex(6)
    window = 30 * 24 * 3600
    for n in range(count):
        created = now - timedelta(seconds=rng.random() * window)
        confirmed = rng.random() < confirmed_ratio
        yield (
            petition.id,
            (SignatureStatus.CONFIRMED if confirmed else SignatureStatus.PENDING).value,
            f"synthetic-{run}-{n:x}",  # unique per petition like a real hash, and never equal to one
            rng.choice(emails),
            rng.choice(firsts),
            rng.choice(lasts),
            rng.choices(codes, cum_weights=cumulative)[0],
            False,
            "web",
            "en",
            None,
            1,
            created,
            created + timedelta(minutes=rng.randint(1, 600)) if confirmed else None,
        )


def fill(session: Session, petition: Petition, count: int, confirmed_ratio: float, now: datetime, seed=None) -> None:
    """Add `count` signatures to a petition; the caller commits and then recounts."""
    rng = random.Random(seed)
    rows = _rows(petition, count, confirmed_ratio, now, rng)
    if session.get_bind().dialect.name == "postgresql":
        # COPY: one stream instead of a million statements.
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY signatures ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    batch: list[dict] = []
    for row in rows:
        batch.append(dict(zip(_COLUMNS, row, strict=True)))
        if len(batch) == 20_000:
            session.execute(insert(Signature), batch)
            batch.clear()
    if batch:
        session.execute(insert(Signature), batch)

"""How the organisers' dashboard and export behave at a million signatures.

    python bench/organiser_scale.py postgresql+psycopg://postgres@127.0.0.1:5432/test [rows]
    python bench/organiser_scale.py sqlite:////tmp/bench.db [rows]

Creates a scratch database (PostgreSQL: a new database on that server, dropped at the end), one ECI
petition with `rows` confirmed signatures over a year from five sources, and a year of hourly activity
rows; then times the dashboard's queries against a GROUP BY over the signatures, and streams the
export through the real view, sampling the process's memory.
"""

import os
import random
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from petition import create_app
from petition.db_engine import write_intent
from petition.extensions import db
from petition.models import Membership, Role
from petition.services import accounts, activity, dashboard, personal
from petition.services.petitions import create_petition

SOURCES = ["web", "web/newsletter", "widget:edri", "widget:edri/fb", "api:lqdn"]
COUNTRIES = ["DE", "FR", "IT", "ES", "PL", "RO", "NL", "BE", "AT", "CZ", "PT", "SE", "HU", "GR", "MT"]
KEYS = {
    "SECRET_KEY": "bench",
    "DATA_KEYS": "q0Tz0bRrp2m5gdGyvCZ_4f0C0hO0b4cCLNAsZ4h7T8c=",
    "HASH_KEY": "bench",
    "ARGON2_CHEAP": True,
    "COUNTER_SHARDS": 16,
}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label, fn, repeat=5):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"  {label}: median {times[len(times) // 2]:.1f} ms (min {times[0]:.1f})")
    return result


def scratch_database(url: str):
    if url.startswith("sqlite"):
        Path(make_url(url).database).unlink(missing_ok=True)
        return url, lambda: None
    server = make_url(url.replace("postgresql+psycopg://", "postgresql://", 1))
    name = f"bench_organisers_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False), drop


def fill(app, rows: int) -> int:
    now = datetime.now(UTC)
    opened = now - timedelta(days=360)
    with app.app_context(), write_intent():
        petition = create_petition(db.session, slug="demo", title="Bench", rules="eci", now=now)
        db.session.flush()
        petition.opens_at = opened
        organiser = accounts.create_organiser(db.session, "owner@example.org", "bench password 123")
        db.session.flush()
        db.session.add(Membership(organiser_id=organiser.id, petition_id=petition.id, role=Role.OWNER))
        db.session.commit()
        petition_id = petition.id
        pool = [
            (personal.seal(f"First{i}"), personal.seal(f"Last{i}"), personal.seal(f"person{i}@example.org"))
            for i in range(1000)
        ]
        db.session.commit()  # SQLite: no read transaction may stay open across the raw writes below
        rng = random.Random(1)
        start = time.perf_counter()
        columns = (
            "petition_id, status, email_hash, email_sealed, first_name_sealed, last_name_sealed, country, "
            "keep_informed, source, locale, emails_sent, created_at, confirmed_at"
        )
        counts: dict[str, int] = {}

        def row(i):
            first, last, email = pool[i % len(pool)]
            at = opened + timedelta(seconds=rng.randrange(360 * 86400))
            country = rng.choice(COUNTRIES)
            counts[country] = counts.get(country, 0) + 1
            return (petition_id, "confirmed", f"{i:064x}", email, first, last, country, False, rng.choice(SOURCES),
                    "en", 1, at, at + timedelta(minutes=5))  # fmt: skip

        if db.engine.dialect.name == "postgresql":
            raw = db.engine.raw_connection()
            with raw.cursor() as cursor, cursor.copy(f"COPY signatures ({columns}) FROM STDIN") as copy:
                for i in range(rows):
                    copy.write_row(row(i))
            raw.commit()
            raw.close()
        else:
            raw = db.engine.raw_connection()
            insert = f"INSERT INTO signatures ({columns}) VALUES ({', '.join('?' * 13)})"  # noqa: S608 - constants
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            batch = []
            for i in range(rows):
                r = list(row(i))
                r[11], r[12] = r[11].replace(tzinfo=None).isoformat(" "), r[12].replace(tzinfo=None).isoformat(" ")
                batch.append(r)
                if len(batch) == 10000:
                    cursor.executemany(insert, batch)
                    batch = []
            if batch:
                cursor.executemany(insert, batch)
            cursor.execute("COMMIT")
            raw.close()
        # Counters and a year of hourly activity, as signing and confirming would have left them.
        from petition.services import counting

        for country, n in counts.items():
            counting.add(db.session, petition_id, country, n, now)
        per_hour = max(rows // (360 * 24), 1)
        postgres = db.engine.dialect.name == "postgresql"
        params = []
        hour = activity.hour_of(opened)
        while hour <= now:
            stamp = hour if postgres else hour.replace(tzinfo=None).isoformat(" ")
            for source in SOURCES:
                for shard in range(rng.randrange(4, 17)):  # busy sources touch most shards each hour
                    params.append({"p": petition_id, "h": stamp, "s": source, "sh": shard, "n": per_hour})
            hour += timedelta(hours=1)
        db.session.execute(
            text(
                "INSERT INTO signature_activity (petition_id, hour, source, shard, signed, confirmed) "
                "VALUES (:p, :h, :s, :sh, :n, :n)"
            ),
            params,
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        activity_rows = db.session.scalar(text("SELECT COUNT(*) FROM signature_activity"))
        print(f"filled {rows:,} signatures and {activity_rows:,} activity rows in {time.perf_counter() - start:.0f} s")
        return petition_id


def measure_dashboard(app, petition_id):
    now = datetime.now(UTC)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        hour_expr = "date_trunc('hour', confirmed_at)" if postgres else "strftime('%Y-%m-%d %H', confirmed_at)"
        from petition.models import Petition

        petition = db.session.get(Petition, petition_id)
        print("dashboard queries:")
        timed(
            "GROUP BY source, status over signatures",
            lambda: db.session.execute(
                text("SELECT source, status, COUNT(*) FROM signatures WHERE petition_id = :p GROUP BY source, status"),
                {"p": petition_id},
            ).all(),
        )
        timed(
            "GROUP BY hour over confirmed signatures",
            lambda: db.session.execute(
                text(f"SELECT {hour_expr}, COUNT(*) FROM signatures WHERE petition_id = :p "  # noqa: S608
                     "AND status = 'confirmed' GROUP BY 1"), {"p": petition_id},
            ).all(),
        )  # fmt: skip
        timed("activity history, every hour read (no cache)", lambda: activity.history(db.session, petition_id, now))
        cache: dict = {}
        activity.history(db.session, petition_id, now, cache)
        timed("activity history, settled hours cached", lambda: activity.history(db.session, petition_id, now, cache))
        timed("pending count (index)", lambda: dashboard.count_pending(db.session, petition_id))
        start = time.perf_counter()
        with write_intent():
            removed = activity.compact(db.session, now)
        print(f"  compact (the daily purge folds shards of settled hours): {removed:,} rows removed in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        timed("activity history after compaction, no cache", lambda: activity.history(db.session, petition_id, now))
        timed("all dashboard figures, cached", lambda: dashboard.figures(db.session, petition, now, cache))
    with app.test_client() as client:
        page = client.get("/organiser/login").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/organiser/login", data={"email": "owner@example.org", "password": "bench password 123",
                                              "csrf_token": token})  # fmt: skip
        client.get("/organiser/p/demo/figures")
        timed("GET /organiser/p/demo/figures (render + queries)", lambda: client.get("/organiser/p/demo/figures"))
        return client


def measure_export(client, label, query=""):
    before = rss_mb()
    peak = before
    start = time.perf_counter()
    response = client.get(f"/organiser/p/demo/export.csv{query}", buffered=False)
    size = rows = 0
    for i, chunk in enumerate(response.response):
        size += len(chunk)
        rows += chunk.count(b"\r\n")
        if i % 50 == 0:
            peak = max(peak, rss_mb())
    response.close()
    seconds = time.perf_counter() - start
    print(f"  export {label}: {rows - 1:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
          f"({(rows - 1) / seconds:,.0f} rows/s); RSS {before:.0f} MB -> peak {peak:.0f} MB")  # fmt: skip


def main():
    url = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    url, drop = scratch_database(url)
    try:
        app = create_app({**KEYS, "DATABASE_URL": url, "MAIL_URL": "file:///tmp/bench-outbox"})
        with app.app_context():
            upgrade()
        petition_id = fill(app, rows)
        client = measure_dashboard(app, petition_id)
        print("export (streamed through the view):")
        measure_export(client, "one country (MT)", "?country=MT")
        measure_export(client, "every country")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    os.environ.setdefault("FLASK_DEBUG", "0")
    main()

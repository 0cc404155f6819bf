"""CPU per request type, in one process: the signing flow through Flask's test client, on the CPU clock.

    .venv/bin/python bench/inprocess.py                      # PostgreSQL (BENCH_DATABASE_URL) and SQLite
    .venv/bin/python bench/inprocess.py --databases sqlite --signatures 500

Run with the app's own interpreter (it imports the app). For each database it creates a fresh one,
migrates it and opens an ECI petition; then, signature by signature, it takes the petition page (a
cache hit after the first), posts the form, lets the mail worker send the confirmation (to a folder
in /dev/shm, so that disk waits stay out of it), opens the link and presses the button. Each kind of
work is timed with `time.process_time()` around that work only, after a warm-up, and printed as the
median of `--runs` runs, beside a bare Flask endpoint measured in the same process and run. Database
servers' own CPU is not in these figures; PostgreSQL's is printed beside them, per signature (see
`make bench` for the whole machine).
"""

import argparse
import email
import email.policy
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from servers import cpu_seconds  # noqa: E402  (bench/, this script's folder)

KEYS = {
    "SECRET_KEY": "bench-secret-key",
    "DATA_KEYS": "q0Tz0bRrp2m5gdGyvCZ_4f0C0hO0b4cCLNAsZ4h7T8c=",
    "HASH_KEY": "bench-hash-key",
}
CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/confirm/[A-Za-z0-9._-]+)")
TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')
# Every request a browser makes: "check_email" is where the sign POST redirects; "thanks" is where the
# confirm POST redirects, if it does (a build that answers with the thanks page spends nothing there).
STEPS = ("page", "sign", "check_email", "mail", "confirm_page", "confirm", "thanks")
# One name per process: runs by several engineers on one PostgreSQL server must not drop each other's.
DATABASE = f"petition_inprocess_{os.getpid()}"
# Issue 11's budgets; the redirects' pages had none (its flow left them out).
BUDGET_MS = {"page": 0.5, "sign": 1.5, "mail": 1.5, "confirm_page": 1.0, "confirm": 1.5}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--signatures", type=int, default=400, help="signatures measured per run")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="messages the mail worker sends per batch")
    parser.add_argument(
        "--profile",
        metavar="STEP",
        help="print a cProfile of one step (e.g. sign); the environment shapes it: PROFILE_SORT (cumulative), "
        "PROFILE_LINES (40), PROFILE_FILTER (a pattern), PROFILE_CALLERS (a pattern: who calls what matches)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    return parser.parse_args()


class Clock:
    """Accumulates CPU seconds per step."""

    def __init__(self):
        self.spent = dict.fromkeys(STEPS, 0.0)
        self.profiler = None
        self.profiled = None

    def time(self, step: str, work):
        profile = self.profiler is not None and step == self.profiled
        if profile:
            self.profiler.enable()
        started = time.process_time()
        result = work()
        self.spent[step] += time.process_time() - started
        if profile:
            self.profiler.disable()
        return result


def fresh_database(kind: str, server_url: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)
    return f"{server_url.rpartition('/')[0]}/{DATABASE}"


def make_app(url: str, workdir: Path):
    from flask_migrate import upgrade

    from petition import create_app
    from petition.extensions import db
    from petition.services.petitions import create_petition
    from petition.timeutil import utcnow

    app = create_app(
        {
            **KEYS,
            "DATABASE_URL": url,
            "MIN_FILL_SECONDS": 0,
            "SIGN_RATE_LIMIT": "100000000/minute",
            "CONFIRM_RATE_LIMIT": "100000000/minute",
            "MAIL_URL": f"file://{workdir / 'outbox'}",
            "BASE_URL": "http://bench.test",
            # Pages shared by every visitor are measured as cache hits (the budget's terms); what a
            # miss costs, the rendering itself, is measured apart (`render_ms`).
            "PUBLIC_CACHE_SECONDS": 3600,
        }
    )
    with app.app_context():
        upgrade()
        create_petition(db.session, slug="flow", title="Signing flow", rules="eci", now=utcnow())
        add_rendered_petitions(db.session)
        db.session.commit()
    return app


# Two petitions as campaigns write them, for `render_ms` only: a summary and a text of about 2,000
# characters of Markdown, signatures in 13 countries; one under ECI rules, one with a simple goal (its
# country list holds every country, about 250).
RENDERED = {"text-eci": {"rules": "eci"}, "text-simple": {"rules": "simple", "goal": 50_000}}
PARAGRAPH = "We call on the **European Commission** to propose a law that bans biometric mass surveillance. " * 3


def add_rendered_petitions(session) -> None:
    from petition.models import SignatureCount
    from petition.services.petitions import create_petition
    from petition.timeutil import utcnow

    countries = ["DE", "FR", "IT", "ES", "PL", "NL", "BE", "PT", "AT", "SE", "HU", "CZ", "GR"]
    for slug, rules in RENDERED.items():
        petition = create_petition(
            session, slug=slug, title="Ban biometric mass surveillance", summary="Our faces are not barcodes.",
            body="\n\n".join([PARAGRAPH] * 7), now=utcnow(), **rules,
        )  # fmt: skip
        session.flush()
        for n, country in enumerate(countries, start=1):
            session.add(SignatureCount(petition_id=petition.id, country=country, shard=0, count=1000 * n))


def deliver_all(app, batch: int) -> int:
    from petition.extensions import db
    from petition.mail.worker import deliver_due
    from petition.timeutil import utcnow

    sent = 0
    with app.app_context():
        while True:
            report = deliver_due(db.session, utcnow(), batch_size=batch)
            sent += report.sent
            if not report.claimed:
                return sent


def confirm_paths(outbox: Path) -> list[str]:
    paths = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        match = CONFIRM_PATH.search(message.get_body(preferencelist=("plain",)).get_content())
        if match:
            paths.append(match.group(1))
        path.unlink()
    return paths


def flow(app, client, clock: Clock, count: int, tag: str, batch: int, outbox: Path) -> None:
    """`count` signatures through the whole loop; mail is sent in batches, as the worker does."""
    countries = ["DE", "FR", "IT", "ES", "PL", "NL", "BE", "PT"]
    for start in range(0, count, batch):
        for i in range(start, min(count, start + batch)):
            page = clock.time("page", lambda: client.get("/p/flow"))
            assert page.status_code == 200, page.status_code
            token = TOKEN.search(page.get_data(as_text=True)).group(1)
            data = {
                "first_name": "Ana",
                "last_name": "Kovač",
                "email": f"signer-{tag}-{i}@example.org",
                "country": countries[i % len(countries)],
                "consent": "y",
                "eligible": "y",  # the petition is an ECI: nationality and age stated
                "form_token": token,
            }
            answer = clock.time("sign", lambda data=data: client.post("/p/flow/sign", data=data))
            assert answer.status_code == 303, answer.status_code
            inbox = clock.time("check_email", lambda answer=answer: client.get(answer.headers["Location"]))
            assert inbox.status_code == 200, inbox.status_code
        clock.time("mail", lambda: deliver_all(app, batch))
        for path in confirm_paths(outbox):
            shown = clock.time("confirm_page", lambda path=path: client.get(path))
            assert shown.status_code == 200, shown.status_code
            done = clock.time("confirm", lambda path=path: client.post(path))
            if done.status_code == 303:
                done = clock.time("thanks", lambda done=done: client.get(done.headers["Location"]))
            assert done.status_code == 200 and b"confirmed" in done.data, done.status_code


def render_ms(app, client, requests: int = 30) -> dict[str, float]:
    """One rendering of a petition's page: what each process spends once per second per language
    while the page is being read (the one-second cache's misses). For the flow's petition, as every
    earlier run measured it, and for the two in RENDERED, in German."""
    cache = app.extensions["public_cache"]
    seconds, cache.seconds = cache.seconds, 0
    try:
        spent = {}
        for path in ["/p/flow", *(f"/p/{slug}?lang=de" for slug in RENDERED)]:
            assert client.get(path).status_code == 200, path
            started = time.process_time()
            for _ in range(requests):
                client.get(path)
            spent[path.split("?")[0].rpartition("/")[2]] = 1000 * (time.process_time() - started) / requests
        return spent
    finally:
        cache.seconds = seconds


def backend_cpu(app, kind: str, since: dict | None = None):
    """PostgreSQL: the CPU seconds of this database's backends so far (a dict by pid), or, with
    `since`, how much they used after it. Backends that start in between count from zero; one that
    ended in between would be missed (the pool keeps its connections, so none does)."""
    if kind != "postgresql":
        return {} if since is None else 0.0
    from sqlalchemy import text

    from petition.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        used = cpu_seconds([pid for (pid,) in pids])
    if since is None:
        return used
    return sum(seconds - since.get(pid, 0.0) for pid, seconds in used.items())


def bare_endpoint_ms(requests: int = 3000) -> float:
    bare = Flask("bare")
    bare.add_url_rule("/", "bare", lambda: {"ok": 1})
    client = bare.test_client()
    for _ in range(200):
        client.get("/")
    started = time.process_time()
    for _ in range(requests):
        client.get("/")
    return 1000 * (time.process_time() - started) / requests


def measure(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"inprocess-{kind}-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    url = fresh_database(kind, args.database_url, workdir)
    try:
        app = make_app(url, workdir)
        client = app.test_client()
        outbox = workdir / "outbox"
        flow(app, client, Clock(), args.warmup, "warm", args.batch, outbox)
        runs, bare = [], []
        for run in range(args.runs):
            bare.append(bare_endpoint_ms())
            clock = Clock()
            if args.profile and run == 0:
                import cProfile

                clock.profiler, clock.profiled = cProfile.Profile(time.process_time), args.profile
            backends = backend_cpu(app, kind)
            flow(app, client, clock, args.signatures, f"r{run}", args.batch, outbox)
            runs.append({step: 1000 * spent / args.signatures for step, spent in clock.spent.items()})
            runs[-1]["database"] = 1000 * (backend_cpu(app, kind, since=backends) / args.signatures)
            if clock.profiler is not None:
                import pstats

                stats = pstats.Stats(clock.profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
                stats.print_stats(os.environ.get("PROFILE_FILTER", ""), int(os.environ.get("PROFILE_LINES", 40)))
                if os.environ.get("PROFILE_CALLERS"):
                    stats.print_callers(os.environ["PROFILE_CALLERS"])
        with app.app_context():
            from petition.extensions import db

            db.engine.dispose()
        rendering = render_ms(app, client)
        return {
            "database": kind,
            "bare_ms": statistics.median(bare),
            "render_ms": rendering,
            "steps": {step: statistics.median(r[step] for r in runs) for step in STEPS},
            "database_ms": statistics.median(r["database"] for r in runs) if kind == "postgresql" else None,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgresql":
            admin = args.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
            subprocess.run(
                ["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"],
                capture_output=True,
            )


def report(results: list[dict], args) -> None:
    print(
        f"\nIn-process CPU per request (ms, process_time), median of {args.runs} runs of {args.signatures} signatures,"
        f" mail in batches of {args.batch}; ratio = ms / bare Flask endpoint in the same run"
    )
    for result in results:
        bare = result["bare_ms"]
        print(f"\n{result['database']}: bare Flask endpoint {bare:.3f} ms")
        print(f"  {'step':<14}{'ms':>8}{'x bare':>9}{'budget':>9}  result")
        total = 0.0
        for step in STEPS:
            ms = result["steps"][step]
            total += ms
            budget = BUDGET_MS.get(step)
            if budget is None:
                print(f"  {step:<14}{ms:>8.3f}{ms / bare:>9.1f}{'-':>9}  -")
            else:
                verdict = "met" if ms <= budget else "missed"
                print(f"  {step:<14}{ms:>8.3f}{ms / bare:>9.1f}{budget:>9.1f}  {verdict}")
        print(f"  {'per signature':<14}{total:>8.3f}{total / bare:>9.1f}{sum(BUDGET_MS.values()):>9.1f}")
        if result.get("database_ms") is not None:
            database = result["database_ms"]
            print(f"  PostgreSQL's own CPU (its backends, not in the figures above): {database:.3f} ms per signature")
        flow, eci, simple = (result["render_ms"][slug] for slug in ("flow", *RENDERED))
        print(
            f"  page rendering on a cache miss (once a second per process and language): {flow:.1f} ms;"
            f" with a text, in German: ECI {eci:.1f} ms, simple goal {simple:.1f} ms"
        )


def main() -> None:
    args = arguments()
    results = [measure(kind, args) for kind in args.databases.split(",") if kind]
    report(results, args)


if __name__ == "__main__":
    main()

"""`make bench`'s update scenario: a campaign update to a million signers, and signing mail beside it.

What it measures, on each database:
- queueing: `flask petition update … --audience all` for a petition with N confirmed signers
  (`flask generate-signatures`), timed from the command's start to its exit, with the number it printed,
  beside a command that does nothing much (`petition updates`) for the cost of starting one;
- delivery: messages per second into the SMTP sink while the update goes out, with M mail workers,
  over `--update-seconds` (a million messages would take hours; the rate is steady after a few
  seconds, and the cursor walk does not slow down with progress), beside confirmation mail's rate
  measured the same way just before (`--baseline-messages` signatures queued, then the workers started);
- priority: how long a confirmation email takes from the signing POST to the sink, signed one at a
  time while the update goes out, beside the same measured with the workers idle just before.
Afterwards the update is paused (`flask petition pause-update`), so that later scenarios are not
slowed by it.

Alone (creates and drops its own database, like bench/run.py):

    bench/.venv/bin/python bench/updates.py --databases postgresql --recipients 1000000

Hook for bench/run.py: `add_arguments(parser)`, then inside `bench_database`, with the app's
gunicorn (`real`), the started `loads.Sink` and the worker count:

    if "updates" in scenarios:
        await updates.scenario(bench, app, real, args, sink, workers, database)

and `updates.rows_for(result)` gives the report's rows (label, figure, target, verdict).
"""

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import loads
from loads import TOKEN, percentile
from servers import ROOT, App, Database, machine

SUBJECT = "The Commission has answered"
BODY = """The European Commission has **answered** our initiative.

Read the answer and what we do next on the petition's page. Thank you for signing.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipients", type=int, default=1_000_000, help="confirmed signers the update goes to")
    parser.add_argument("--update-seconds", type=float, default=60, help="how long delivery is measured")
    parser.add_argument("--latency-samples", type=int, default=30, help="confirmations timed in each phase")
    parser.add_argument("--baseline-messages", type=int, default=1000, help="confirmations for the mail baseline")


async def received(sink: loads.Sink) -> int:
    return (await sink.stats())[0]


async def confirmation_latency(base_url: str, slug: str, sink: loads.Sink, samples: int, deadline: float, run: str):
    """Sign one at a time and time each confirmation email from the POST's answer to the sink (its
    feed says when each message to `lat<run>-…` arrived, on the same monotonic clock)."""
    latencies: list[float] = []
    tag = f"lat{run}"
    reader, writer = await asyncio.open_connection("127.0.0.1", sink.feed_port)
    writer.write(f"SUB {tag}\n".encode())
    await writer.drain()
    try:
        async with aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=30)) as session:
            for n in range(samples):
                if time.monotonic() > deadline:
                    break
                async with session.get(f"/p/{slug}") as page:
                    token = TOKEN.search(await page.text())
                fields = {"first_name": "Ana", "last_name": "Bench", "email": f"{tag}-{n}@bench.example.org",
                          "country": "DE", "consent": "y", "eligible": "y",
                          "form_token": token.group(1) if token else ""}  # fmt: skip
                async with session.post(f"/p/{slug}/sign", data=fields, allow_redirects=False) as posted:
                    if posted.status != 303:
                        continue
                signed_at = time.monotonic()
                try:
                    line = await asyncio.wait_for(reader.readline(), timeout=30)
                except TimeoutError:
                    latencies.append(float("inf"))
                    continue
                latencies.append(float(line.split()[0]) - signed_at)
                await asyncio.sleep(0.2)
    finally:
        writer.close()
    return latencies


def _summary(latencies: list[float]) -> dict:
    finite = [x for x in latencies if x != float("inf")]
    return {
        "samples": len(latencies),
        "lost": len(latencies) - len(finite),
        "p50_s": statistics.median(finite) if finite else float("nan"),
        "p99_s": percentile(finite, 0.99),
        "max_s": max(finite, default=float("nan")),
    }


async def scenario(bench: dict, app: App, real, args, sink: loads.Sink, workers: int, database: Database) -> None:
    mail_url = f"smtp://127.0.0.1:{sink.port}"
    app.flask("petition", "create", "--slug", "news", "--title", "Update load", "--rules", "eci", check=False)
    started = time.monotonic()
    generated = app.flask("generate-signatures", "--petition", "news", "--count", str(args.recipients), "--seed", "2",
                          check=False)  # fmt: skip
    if generated.returncode != 0:
        raise RuntimeError(f"generate-signatures failed: {generated.stderr[-2000:]}")
    database.vacuum()
    print(f"  updates: {args.recipients:,} signatures generated in {time.monotonic() - started:.0f} s", flush=True)
    result: dict = {"recipients": args.recipients, "workers": workers}

    # Confirmation mail's own rate, the baseline: signatures queued with no worker, then delivered.
    app.stop_mail()
    queued = await loads.sign_only(real.url, "flow", args.baseline_messages, 16, "base")
    before = await received(sink)
    app.mail_workers(workers, mail_url)
    since = time.monotonic()
    while await received(sink) - before < queued and time.monotonic() < since + 300:
        await asyncio.sleep(0.05)
    result["baseline_rate"] = (await received(sink) - before) / (time.monotonic() - since)
    await asyncio.sleep(2)
    idle = await confirmation_latency(real.url, "flow", sink, args.latency_samples, time.monotonic() + 120, "i")
    result["latency_idle"] = _summary(idle)

    app.stop_mail()  # queued with no worker running: the figure is the command's own time
    body = Path(tempfile.mkstemp(suffix=".md")[1])
    body.write_text(BODY, encoding="utf-8")
    started = time.monotonic()
    app.flask("petition", "updates", "--slug", "flow")
    result["command_seconds"] = time.monotonic() - started
    started = time.monotonic()
    queued = app.flask("petition", "update", "--slug", "news", "--subject", SUBJECT, "--body-file", str(body),
                       "--audience", "all")  # fmt: skip
    result["queue_seconds"] = time.monotonic() - started
    result["queued"] = int(re.search(r"^queued: (\d+)$", queued.stdout, re.MULTILINE).group(1))
    update_id = re.search(r"^update: (\d+)$", queued.stdout, re.MULTILINE).group(1)
    print(f"  updates: {result['queued']:,} queued in {result['queue_seconds']:.1f} s", flush=True)

    app.mail_workers(workers, mail_url)
    await asyncio.sleep(5)  # workers started and warmed up; the rate is measured from here
    before, since = await received(sink), time.monotonic()
    deadline = since + args.update_seconds
    busy = await confirmation_latency(real.url, "flow", sink, args.latency_samples * 10, deadline, "u")
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    seconds = time.monotonic() - since
    result["rate"] = (await received(sink) - before - len(busy)) / seconds
    result["latency_during"] = _summary(busy)
    app.flask("petition", "pause-update", update_id)
    app.stop_mail()
    progress = app.flask("petition", "updates", "--slug", "news").stdout.strip()
    result["progress"] = progress
    bench["updates"] = result
    during, alone = result["latency_during"], result["latency_idle"]
    print(
        f"  updates: {result['rate']:.0f} msg/s with {workers} worker(s); confirmation p50 {during['p50_s']:.2f} s, "
        f"max {during['max_s']:.2f} s during the update (idle: p50 {alone['p50_s']:.2f} s, max {alone['max_s']:.2f} s)",
        flush=True,
    )


def rows_for(result: dict) -> list[tuple[str, str, str, str]]:
    """(label, figure, target, verdict) rows for the report."""
    found = result.get("updates")
    if not found:
        return []
    during, idle = found["latency_during"], found["latency_idle"]
    ok = during["lost"] == 0 and during["max_s"] <= 2.0
    return [
        (
            f"update queued to {found['queued']:,} signers",
            f"{found['queue_seconds']:.1f} s (a flask command alone: {found['command_seconds']:.1f} s)",
            "",
            "-",
        ),
        (
            f"update delivery ({found['workers']} worker(s))",
            f"{found['rate']:,.0f} msg/s ({found['rate'] / found['baseline_rate']:.2f} x confirmation mail's "
            f"{found['baseline_rate']:,.0f} msg/s)",
            "",
            "-",
        ),
        (
            "confirmation email while it goes out",
            f"p50 {during['p50_s']:.2f} s, p99 {during['p99_s']:.2f} s, max {during['max_s']:.2f} s "
            f"(idle: p50 {idle['p50_s']:.2f} s, max {idle['max_s']:.2f} s)",
            "never behind the update (max <= 2 s)",
            "MET" if ok else "missed",
        ),
    ]


class OwnDatabase(Database):
    """`Database` under a name of its own, so that this never drops a database `make bench` is using."""

    NAME = "petition_bench_updates"

    def __init__(self, kind: str, server_url: str | None, workdir: Path):
        super().__init__(kind, server_url, workdir)
        if kind == "postgresql":
            self.url = self.url.rpartition("/")[0] + "/" + self.NAME

    def create(self) -> None:
        if self.kind == "postgresql":
            for sql in (f"DROP DATABASE IF EXISTS {self.NAME} WITH (FORCE)", f"CREATE DATABASE {self.NAME}"):
                subprocess.run(["psql", self.admin, "-q", "-c", sql], check=True, capture_output=True)

    def drop(self) -> None:
        if self.kind == "postgresql":
            sql = f"DROP DATABASE IF EXISTS {self.NAME} WITH (FORCE)"
            subprocess.run(["psql", self.admin, "-q", "-c", sql], capture_output=True)


async def _standalone(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-updates-{kind}-"))
    database = OwnDatabase(kind, args.database_url, workdir)
    database.create()
    cores = len(os.sched_getaffinity(0))
    app = App(args.app_python, database, workdir, {"WEB_CONCURRENCY": str(cores), "GUNICORN_MAX_REQUESTS": "0"})
    bench: dict = {"database": kind}
    try:
        app.flask("db", "upgrade")
        app.flask("petition", "create", "--slug", "flow", "--title", "Signing flow", "--rules", "eci")
        real = app.gunicorn("wsgi:app")
        sink = loads.Sink()
        await sink.start()
        workers = args.mail_workers or (2 if kind == "postgresql" else 1)
        await scenario(bench, app, real, args, sink, workers, database)
        await sink.stop()
    finally:
        app.stop_all()
        database.drop()
    return bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--mail-workers", type=int, default=0, help="0: 2 on PostgreSQL, 1 on SQLite")
    parser.add_argument("--app-python", default=str(ROOT / ".venv/bin/python"))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    add_arguments(parser)
    args = parser.parse_args()
    print(f"Update scenario on {machine()}", flush=True)
    for kind in args.databases.split(","):
        result = asyncio.run(_standalone(kind, args))
        print(f"\n{kind}:")
        for label, figure, target, verdict in rows_for(result):
            print(f"  {label:<42} {figure:<70} {target:<38} {verdict}")
        print("  " + result["updates"]["progress"].replace("\n", "\n  "))


if __name__ == "__main__":
    main()

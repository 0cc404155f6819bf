"""CPU per request under gunicorn, per URL and per number of open connections, beside a bare endpoint.

    bench/.venv/bin/python bench/http_cpu.py                         # PostgreSQL, 1 and 16 connections
    bench/.venv/bin/python bench/http_cpu.py --databases sqlite --connections 1,4,16 --seconds 5
    bench/.venv/bin/python bench/http_cpu.py --worker-classes gthread,sync   # gunicorn's own share

`bench/inprocess.py` gives what a request costs the app alone; `make bench` what a signature costs
the whole machine. This sits between them: one gunicorn worker (the project's gunicorn.conf.py, so
gthread), loaded with `wrk` over loopback, and the worker's own CPU time (user + system, from /proc)
divided by the requests it answered. With one connection it is the app plus the HTTP server; with
more, the price of many threads taking turns in one interpreter is added. Each figure is the median
of `--runs`; the bare Flask endpoint (bench/bare.py) is measured in the same run at each number of
connections, and every figure is printed beside it as a ratio.

`--worker-classes gthread,sync` runs it all again with gunicorn's `sync` worker (one request at a time
per process, no keep-alive, no live-update streams): the difference is what gthread's hand-offs
between its threads cost per request.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

import loads
from servers import App, Database, cpu_seconds, machine, require

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SLUG = "cpu"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--connections", default="1,16", help="comma-separated numbers of open connections")
    parser.add_argument("--seconds", type=float, default=5, help="length of each measured load")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker-classes", default="gthread", help="comma-separated gunicorn worker classes")
    parser.add_argument("--app-python", default=str(ROOT / ".venv/bin/python"), help="the app's interpreter")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    return parser.parse_args()


async def cpu_per_request(server, url: str, seconds: float, connections: int) -> tuple[float, float]:
    """(ms of worker CPU per request, requests per second) for `connections` connections on `url`."""
    await loads.wrk(url, 1, connections, threads=1)  # warm: caches filled, keep-alive threads started
    pids = server.worker_pids()
    before = sum(cpu_seconds(pids).values())
    figures = await loads.wrk(url, seconds, connections, threads=1)
    used = sum(cpu_seconds(pids).values()) - before
    if figures["errors"]:
        raise SystemExit(f"bench: {figures['errors']} errors on {url}")
    return 1000 * used / max(1, figures["requests"]), figures["rate"]


async def one_database(kind: str, worker_class: str, args) -> list[tuple[str, int, float, float]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-cpu-{kind}-"))
    database = Database(kind, args.database_url, workdir)
    database.create()
    # One worker, so that its CPU is the figure; the number of request threads is gunicorn.conf.py's.
    app = App(args.app_python, database, workdir, {"WEB_CONCURRENCY": "1", "GUNICORN_MAX_REQUESTS": "0"})
    try:
        app.flask("db", "upgrade")
        app.flask("petition", "create", "--slug", SLUG, "--title", "CPU per request", "--rules", "eci")
        # sync: one thread per process (`--threads 1`; with more, gunicorn would pick gthread anyway).
        options = ("--worker-class", worker_class, *(("--threads", "1") if worker_class == "sync" else ()))
        bare = app.gunicorn("bare:app", cwd=HERE, args=options)
        real = app.gunicorn("wsgi:app", args=options)
        targets = [
            ("bare Flask endpoint GET /", bare, bare.url + "/"),
            ("GET /p/<slug> (petition page)", real, f"{real.url}/p/{SLUG}"),
            ("GET /api/v1/petitions/<slug> (totals)", real, f"{real.url}/api/v1/petitions/{SLUG}"),
        ]
        rows = []
        for connections in (int(n) for n in args.connections.split(",")):
            for label, server, url in targets:
                runs = [await cpu_per_request(server, url, args.seconds, connections) for _ in range(args.runs)]
                rows.append((label, connections, statistics.median(r[0] for r in runs),
                             statistics.median(r[1] for r in runs)))  # fmt: skip
                print(f"  {kind} {worker_class} {connections:>3} conn  {label:<40} {rows[-1][2]:.3f} ms", flush=True)
        return rows
    finally:
        app.stop_all()
        database.drop()


def print_table(kind: str, worker_class: str, rows) -> None:
    print(f"\n{kind}, {worker_class}: worker CPU per request under gunicorn (1 worker), median of the runs")
    print(f"{'request':<40} | {'connections':>11} | {'ms CPU/request':>14} | {'x bare':>6} | {'req/s':>7}")
    print("-" * 92)
    bare = {c: ms for label, c, ms, _ in rows if label.startswith("bare")}
    for label, connections, ms, rate in rows:
        print(f"{label:<40} | {connections:>11} | {ms:>14.3f} | {ms / bare[connections]:>6.2f} | {rate:>7,.0f}")


async def main() -> None:
    args = arguments()
    require("wrk")
    print(f"CPU per request under gunicorn, {machine()}; {args.runs} runs of {args.seconds:g} s", flush=True)
    tables = {
        (kind, worker_class): await one_database(kind, worker_class, args)
        for kind in args.databases.split(",")
        for worker_class in args.worker_classes.split(",")
    }
    for (kind, worker_class), rows in tables.items():
        print_table(kind, worker_class, rows)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""`make bench`: start the app under gunicorn on PostgreSQL and SQLite with its mail workers, load it
from this separate process over loopback, and print each figure beside a bare Flask endpoint.

Run with bench/.venv's Python; the app runs with the project's .venv (see --app-python).
"""

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import loads
import profiling
import updates
from loads import percentile
from report import print_report
from servers import ORGANISER, ROOT, App, Database, cpu_seconds, machine, parent_pid, reaped_seconds, require

HERE = Path(__file__).resolve().parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
    parser.add_argument("--runs", type=int, default=3, help="each figure is the median of this many runs")
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured load (window)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=3,
        help="seconds the signing flow runs before its measured window opens (and each read endpoint, unmeasured)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=5,
        help="after the flow's window, seconds without any email before the ones still owed count as lost",
    )
    parser.add_argument(
        "--drivers", type=int, default=2, help="processes that drive the signing flow (bench/driver.py), together"
    )
    parser.add_argument("--signatures", type=int, default=1_000_000, help="rows for the 'large' reads and export")
    parser.add_argument("--watchers", type=int, default=1000, help="live viewers during the watched flow")
    parser.add_argument(
        "--live-pool",
        choices=["separate", "shared"],
        default="separate",
        help="event streams served by their own gunicorn (as docs/deploy.md routes them) or by the app's",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="open connections of each load")
    parser.add_argument(
        "--worker-class",
        choices=["gthread", "sync"],
        default="gthread",
        help="the app pool's gunicorn workers (sync: one request at a time each, no keep-alive; needs the "
        "separate live pool, and more workers than cores: --web-workers)",
    )
    parser.add_argument("--web-workers", type=int, default=0, help="the app pool's workers (0: one per core)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="GUNICORN_MAX_REQUESTS for the app pool (0, the default: no worker is replaced during the run;"
        " give production's setting to see what replacing workers under load costs)",
    )
    parser.add_argument("--mail-messages", type=int, default=2000, help="messages queued for the mail scenario")
    parser.add_argument("--mail-workers", type=int, default=0, help="0: 2 on PostgreSQL, 1 on SQLite")
    parser.add_argument("--scenarios", default="reads,export,flow,mail,updates", help="comma-separated subset to run")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy in the first flow run")
    parser.add_argument(
        "--no-inprocess",
        action="store_true",
        help="skip bench/inprocess.py (in-process CPU per request type, run after the flow scenario)",
    )
    parser.add_argument("--app-python", default=str(ROOT / ".venv/bin/python"), help="the app's interpreter")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server (any database on it): the bench creates and drops `petition_bench_<pid>` there",
    )
    updates.add_arguments(parser)
    return parser.parse_args()


class Sampler:
    """Peak resident memory of every gunicorn worker, sampled while loads run."""

    def __init__(self, servers):
        self.servers = servers
        self.peak = 0.0
        self.task = None

    async def _run(self):
        while True:
            for server in self.servers:
                self.peak = max([self.peak, *server.worker_rss_mb()])
            await asyncio.sleep(0.2)

    def __enter__(self):
        self.task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc):
        self.task.cancel()


async def reads(bench: dict, app: App, bare, real, args, size_label: str, partner: str | None) -> None:
    endpoints = {
        "api": "/api/v1/petitions/reads",
        "page": "/p/reads",
        "widget": f"/embed/reads?partner={partner}" if partner else None,
    }
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for name, path in list(endpoints.items()):
            if path is None:
                endpoints[name] = None
                continue
            async with session.get(real.url + path) as response:
                if response.status != 200:
                    endpoints[name] = None
    # Warm-up, not counted: each worker's first requests compile templates and fill its caches.
    if args.warmup > 0:
        for url in [bare.url + "/", *(real.url + path for path in endpoints.values() if path)]:
            await loads.wrk(url, args.warmup, args.concurrency)
    for run in range(args.runs):
        base = await loads.wrk(bare.url + "/", args.seconds, args.concurrency)
        bench.setdefault("bare", []).append(base)
        repeated = 0
        for name, path in endpoints.items():
            key = f"{name}@{size_label}"
            if path is None:
                bench[key] = None
                continue
            figures = await balanced_wrk(real, real.url + path, args)
            figures["ratio"] = figures["rate"] / base["rate"]
            bench.setdefault(key, []).append(figures)
            repeated += figures["attempts"] - 1
        note = f", {repeated} load(s) repeated: one worker had served it alone" if repeated else ""
        print(f"  reads {size_label} run {run + 1}: bare {base['rate']:.0f}/s{note}", flush=True)


UNBALANCED = 0.75  # the busiest worker's share of the workers' CPU; about 0.5 when two share the load


async def balanced_wrk(server, url: str, args, attempts: int = 3) -> dict:
    """`wrk` against the app, measured again (at most twice) when one worker served nearly all of it.
    wrk opens its connections all at once, and keep-alive holds each to the worker that accepted it:
    now and then one worker accepts them all, and the other idles for the whole load (seen: 0 CPU in
    10 s), which halves the rate for a reason that has nothing to do with the page. A burst of
    browsers connects one by one, and a worker that is busy accepts fewer."""
    shares = []  # the busiest worker's share in each attempt, kept in the results
    for _ in range(attempts):
        pids = server.worker_pids()
        before = cpu_seconds(pids)
        figures = await loads.wrk(url, args.seconds, args.concurrency)
        after = cpu_seconds(sorted({*pids, *server.worker_pids()}))
        used = [seconds - before.get(pid, 0.0) for pid, seconds in after.items()]
        shares.append(max(used, default=0.0) / max(1e-9, sum(used)))
        if len(used) < 2 or shares[-1] < UNBALANCED:
            break
    return {**figures, "attempts": len(shares), "busiest_worker_shares": shares}


APP_GROUPS = ("web", "live", "mail", "db")
LOAD_GROUPS = ("driver", "bench", "sink")


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, all cores together (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks, (idle + iowait) / ticks


class CpuMeter:
    """CPU time each group of processes spent in a window. The app's groups (web and live workers,
    mail workers, PostgreSQL backends) are what a signature costs: unlike rates, that hardly moves
    when other programs share the machine. The load generator (the driver processes, and this
    process, which holds the watchers) and the SMTP sink are measured beside them and kept out of
    that figure; the machine's own total tells how much else ran and how much stayed idle."""

    def __init__(self, app: App, real, live, database: Database, sink: loads.Sink):
        self.driver_pids: list[int] = []
        self.groups = {
            "web": real.worker_pids,
            **({"live": live.worker_pids} if live is not real else {}),
            "mail": lambda: [p.pid for p in app.mailers],
            "db": database.backend_pids,
            "driver": lambda: self.driver_pids,
            "bench": lambda: [os.getpid()],
            "sink": lambda: [sink.pid],
        }
        # Processes that exit inside a window take their CPU with them: web workers that gunicorn
        # replaced, and PostgreSQL backends opened and closed per request (as a too-small pool did).
        # Their parents' reaped-children time counts them. (The postmaster's also counts backends
        # of other databases on the same server that end in the window.)
        self.master = real.process.pid

    def pids(self) -> dict[str, set[int]]:
        pids = {name: set(pids()) for name, pids in self.groups.items()}
        backends = sorted(pids["db"])
        pids["reaped:web"] = {self.master}
        postmaster = parent_pid(backends[0]) if backends else None
        pids["reaped:db"] = {postmaster} if postmaster else set()
        return pids

    @staticmethod
    def read(pids: dict[str, set[int]]) -> dict:
        return {
            "at": time.monotonic(),
            "machine": machine_cpu(),
            "cpu": {name: CpuMeter._cpu(name, group) for name, group in pids.items()},
        }

    def start(self) -> None:
        self.before = self.read(self.pids())

    def stop(self) -> None:
        self.after = self.read(self.pids())

    async def window(self, start: float, end: float, driver_pids: list[int]) -> None:
        """Read the counters at `start` and at `end` (time.monotonic()); the process lists, which
        take a psql call, are fetched a little before each."""
        self.driver_pids = driver_pids
        await asyncio.sleep(max(0.0, start - 0.3 - time.monotonic()))
        pids = await asyncio.to_thread(self.pids)
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        self.before = self.read(pids)
        await asyncio.sleep(max(0.0, end - 0.3 - time.monotonic()))
        later = await asyncio.to_thread(self.pids)
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        self.after = self.read({name: pids[name] | later[name] for name in pids})

    @staticmethod
    def _cpu(name: str, group: set[int]) -> dict[int, float]:
        if name.startswith("reaped:"):
            return {pid: reaped_seconds(pid) for pid in group}
        return cpu_seconds(sorted(group))

    @property
    def used(self) -> dict[str, float]:
        used = {name: sum(self._per_process(name).values()) for name in self.groups}
        for name in ("web", "db"):
            # The parent's reaped-children time holds all the CPU of a process that ended in the window,
            # including what it had used before the window began, which is taken off again here.
            ended = self.before["cpu"][name].keys() - self.after["cpu"][name].keys()
            before_window = sum(self.before["cpu"][name][pid] for pid in ended)
            used[name] += sum(self._per_process(f"reaped:{name}").values()) - before_window
        return used

    def _per_process(self, name: str) -> dict[int, float]:
        before = self.before["cpu"][name]
        return {pid: t - before.get(pid, 0.0) for pid, t in self.after["cpu"][name].items()}

    def figures(self, confirmed: int) -> dict:
        """Per confirmed signature (ms) for the app and for the load, and each group's share of the
        machine's cores (busy + idle time of all cores) during the window."""
        seconds = self.after["at"] - self.before["at"]
        used = self.used
        busy = self.after["machine"][0] - self.before["machine"][0]
        idle = self.after["machine"][1] - self.before["machine"][1]
        capacity = max(1e-9, busy + idle)
        share = {name: t / capacity for name, t in used.items()}
        share["other"] = max(0.0, busy - sum(used.values())) / capacity
        share["idle"] = idle / capacity
        drivers = self._per_process("driver")
        return {
            "cpu_ms": {k: 1000 * used[k] / max(1, confirmed) for k in APP_GROUPS if k in used},
            "load_cpu_ms": {k: 1000 * used[k] / max(1, confirmed) for k in LOAD_GROUPS},
            "share": share,
            "driver_busiest": max(drivers.values(), default=0.0) / max(1e-9, seconds),
            "meter_seconds": seconds,
        }


def flow_figures(result: loads.FlowResult, base: dict, meter: CpuMeter) -> dict:
    def spread(values: list[float]) -> dict:
        return {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
                "max_ms": max(values, default=float("nan")), "n": len(values)}  # fmt: skip

    return {
        "rate": result.rate,
        "ratio": result.rate / base["rate"],
        "signed_rate": result.signed / result.seconds,
        "latency": {kind: spread(values) for kind, values in result.latencies.items()},
        "mail_latency": spread(result.mail_ms),
        "errors": result.errors,
        "errors_window": result.errors_window,
        "missing_emails": result.missing,
        "error_kinds": result.error_kinds,
        "drivers": result.drivers,
        **meter.figures(result.confirmed),
    }


async def flows(bench: dict, app: App, bare, real, live, args, sink, sampler, database: Database) -> None:
    confirmations = 0
    for run in range(args.runs):
        base = await loads.wrk(bare.url + "/", args.seconds, args.concurrency)
        bench.setdefault("bare_flow", []).append(base)
        meter = CpuMeter(app, real, live, database, sink)

        async def plain_window(start: float, end: float, pids: list[int], meter=meter, run=run) -> None:
            if not (args.profile and run == 0):
                await meter.window(start, end, pids)
                return
            out = HERE / "results"
            out.mkdir(exist_ok=True)

            async def profile() -> list[Path]:
                await asyncio.sleep(max(0.0, start - time.monotonic()))
                return await profiling.record(real.worker_pids(), args.seconds, out)

            _, files = await asyncio.gather(meter.window(start, end, pids), profile())
            bench["profile"] = profiling.summarise(files)

        options = {"warmup": args.warmup, "drivers": args.drivers, "drain": args.drain}
        plain = await loads.flow(real.url, "flow", sink, args.seconds, args.concurrency, f"{run}p",
                                 on_window=plain_window, **options)  # fmt: skip
        confirmations += plain.confirmed_all
        watchers = loads.Watchers(live.url, "flow", args.watchers)
        await watchers.start()
        start_total = await loads.total_of(real.url, "flow")
        watched_meter = CpuMeter(app, real, live, database, sink)
        watched = await loads.flow(real.url, "flow", sink, args.seconds, args.concurrency, f"{run}w",
                                   on_window=watched_meter.window, **options)  # fmt: skip
        confirmations += watched.confirmed_all
        await asyncio.sleep(2.5)  # let the last figures reach everyone
        lags = watchers.lags(start_total, watched.confirmed_at, watched.window)
        await watchers.stop()
        bench.setdefault("flow", []).append(flow_figures(plain, base, meter))
        bench.setdefault("flow+watchers", []).append(
            {
                **flow_figures(watched, base, watched_meter),
                "watchers": watchers.connected,
                "watcher_errors": watchers.errors,
                "lag_p50_s": percentile(lags, 0.5),
                "lag_p99_s": percentile(lags, 0.99),
                "lag_max_s": max(lags, default=float("nan")),
                "slowdown": 1 - watched.rate / plain.rate if plain.rate else float("nan"),
            }
        )
        shares = bench["flow"][-1]["share"]
        print(
            f"  flow run {run + 1}: {plain.rate:.0f}/s alone, {watched.rate:.0f}/s with {watchers.connected} watchers,"
            f" errors {plain.errors}+{watched.errors}, driver {100 * shares['driver']:.0f}% and sink"
            f" {100 * shares['sink']:.0f}% of the cores, peak worker RSS {sampler.peak:.0f} MB",
            flush=True,
        )
    await asyncio.sleep(3)
    try:
        total = await loads.total_of(real.url, "flow")
        # The counters against the rows themselves (what `recount` checks): a confirmation whose
        # answer was lost on the way back still counts, so the client's own tally is only a cross-check.
        recount = app.flask("recount", "--petition", "flow").stdout
        corrected = int(re.search(r"(\d+) counter\(s\) corrected", recount).group(1))
    except (RuntimeError, AttributeError, subprocess.CalledProcessError) as error:
        bench["exact"] = {"error": str(error) or type(error).__name__}  # the figures above still stand
        return
    bench["exact"] = {"api_total": total, "confirmations": confirmations, "corrected": corrected}


async def mail_ready(real, sink: loads.Sink, app: App, database: Database, timeout: float = 120) -> None:
    """Before the flow: every mail worker has the database open (so it has imported the app), and one
    signature has gone through to the sink. Their start-up, slow on a crowded machine, would
    otherwise land in the flow's window."""
    deadline = time.monotonic() + timeout
    while not all(database.connected(p.pid) for p in app.mailers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the mail workers had not opened the database {timeout:g} s after their start")
        await asyncio.sleep(0.1)
    before, _ = await sink.stats()
    await loads.sign_only(real.url, "flow", 1, 1, "ready")
    while (await sink.stats())[0] <= before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no email reached the SMTP sink within {timeout:g} s of the mail workers' start")
        await asyncio.sleep(0.05)


async def mail(bench: dict, app: App, real, live, args, sink, workers: int, database: Database) -> None:
    """Mail workers stopped, the outbox filled, workers started: messages per second into the sink and
    CPU per message, both between the 10th and the 90th percent of the messages (the workers'
    start-up and the last stragglers stay out)."""
    for run in range(args.runs):
        app.stop_mail()
        queued = await loads.sign_only(real.url, "flow", args.mail_messages, args.concurrency, f"m{run}")
        received, connections = await sink.stats()
        meter = CpuMeter(app, real, live, database, sink)
        app.mail_workers(workers, f"smtp://127.0.0.1:{sink.port}")
        deadline = time.monotonic() + 300
        marks: dict[str, tuple[float, int]] = {}
        sent, now_connections = 0, connections
        while sent < queued and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            now_received, now_connections = await sink.stats()
            sent = now_received - received
            if "start" not in marks and sent >= 0.1 * queued:
                meter.start()
                marks["start"] = (time.monotonic(), sent)
            if "end" not in marks and sent >= 0.9 * queued:
                meter.stop()
                marks["end"] = (time.monotonic(), sent)
        if "end" not in marks:
            raise RuntimeError(f"mail: only {sent} of {queued} messages reached the sink in 300 s")
        seconds = marks["end"][0] - marks["start"][0]
        counted = marks["end"][1] - marks["start"][1]
        used = meter.used
        bench.setdefault("mail", []).append(
            {
                "rate": counted / seconds,
                "messages": sent,
                "per_connection": sent / max(1, now_connections - connections),
                "workers": workers,
                "cpu_ms": {k: 1000 * used[k] / max(1, counted) for k in ("mail", "db", "sink")},
            }
        )
        print(
            f"  mail run {run + 1}: {sent} messages, {counted / seconds:.0f}/s from 10% to 90%, {workers} worker(s)",
            flush=True,
        )


async def exports(bench: dict, real, args) -> None:
    for run in range(args.runs):
        rss_before = max(real.worker_rss_mb(), default=0)
        sampler = Sampler([real])
        with sampler:
            figures = await loads.export(real.url, "reads", ORGANISER)
        if figures is None:
            bench["export"] = None
            print("  export: not available in this build", flush=True)
            return
        figures.update({"peak_rss_mb": sampler.peak, "rss_before_mb": rss_before})
        bench.setdefault("export", []).append(figures)
        print(f"  export run {run + 1}: {figures['rows']} rows in {figures['seconds']:.1f} s", flush=True)


async def bench_database(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    database = Database(kind, args.database_url, workdir)
    database.create()
    cores = len(os.sched_getaffinity(0))
    streams = args.watchers + 50 if args.live_pool == "shared" else 50
    if args.worker_class == "sync" and args.live_pool == "shared":
        raise SystemExit("bench: sync workers cannot hold live-update streams; use --live-pool separate")
    web_args = ("--worker-class", "sync", "--threads", "1") if args.worker_class == "sync" else ()
    web_env = {"WEB_CONCURRENCY": str(args.web_workers)} if args.web_workers else {}
    if args.max_requests:
        web_env["GUNICORN_MAX_REQUESTS"] = str(args.max_requests)
    env = {
        "LIVE_MAX_STREAMS": str(streams),
        "WEB_CONCURRENCY": str(cores),
        "PYTHONFAULTHANDLER": "1",
        # No worker recycling within a run: a restart mid-load would be measured, and would hide growth.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    app = App(args.app_python, database, workdir, env)
    bench: dict = {"database": kind, "cores": cores, "drain": args.drain}
    try:
        app.flask("db", "upgrade")
        app.flask("petition", "create", "--slug", "reads", "--title", "Read load", "--rules", "eci")
        app.flask("petition", "create", "--slug", "flow", "--title", "Signing flow", "--rules", "eci")
        app.flask("organiser", "create", ORGANISER[0], "--petition", "reads", env={"ORGANISER_PASSWORD": ORGANISER[1]})
        made = app.flask("partner", "create", "--name", "Bench", "--origin", "https://partner.example",
                         "--petition", "reads", check=False)  # fmt: skip
        match = re.search(r"^id: (\S+)", made.stdout, re.MULTILINE) if made.returncode == 0 else None
        partner = match.group(1) if match else None

        bare = app.gunicorn("bare:app", cwd=HERE)
        real = app.gunicorn("wsgi:app", env=web_env, args=web_args)
        live = real
        if args.live_pool == "separate":
            # The streams' own pool: two workers that mostly sleep. Connections do not spread evenly
            # over workers, so each may take every viewer.
            live = app.gunicorn("wsgi:app", env={"LIVE_MAX_STREAMS": str(args.watchers + 50), "WEB_CONCURRENCY": "2"})
        bench["live_pool"] = args.live_pool
        sampler = Sampler([real, live])
        scenarios = set(args.scenarios.split(","))
        with sampler:
            if "reads" in scenarios:
                print(f"{kind}: reads with 0 signatures", flush=True)
                await reads(bench, app, bare, real, args, "0", partner)
            if scenarios & {"reads", "export"}:
                started = time.monotonic()
                app.flask("generate-signatures", "--petition", "reads", "--count", str(args.signatures), "--seed", "1")
                database.vacuum()  # as after any bulk load; else autovacuum runs during the measurements
                bench["generate_seconds"] = time.monotonic() - started
                print(
                    f"{kind}: {args.signatures} signatures generated in {bench['generate_seconds']:.0f} s", flush=True
                )
            if "reads" in scenarios:
                await reads(bench, app, bare, real, args, "large", partner)
            if "export" in scenarios:
                await exports(bench, real, args)

            sink = loads.Sink()
            await sink.start()
            try:
                workers = args.mail_workers or (2 if kind == "postgresql" else 1)
                if "flow" in scenarios:
                    app.mail_workers(workers, f"smtp://127.0.0.1:{sink.port}")
                    await mail_ready(real, sink, app, database)
                    print(f"{kind}: signing flow, alone and with {args.watchers} watchers", flush=True)
                    await flows(bench, app, bare, real, live, args, sink, sampler, database)
                if "mail" in scenarios:
                    print(f"{kind}: mail delivery", flush=True)
                    await mail(bench, app, real, live, args, sink, workers, database)
                if "updates" in scenarios:
                    print(f"{kind}: a campaign update to {args.recipients:,} signers", flush=True)
                    await updates.scenario(bench, app, real, args, sink, workers, database)
            finally:
                await sink.stop()
        bench["worker_rss_peak_mb"] = sampler.peak
    finally:
        app.stop_all()
        database.drop()
    return bench


def inprocess(args, kinds: list[str]) -> str:
    """bench/inprocess.py's table (CPU per request type in one process), run with the app's
    interpreter on the worktree's app, for the databases benchmarked."""
    command = [args.app_python, str(HERE / "inprocess.py"), "--databases", ",".join(kinds),
               "--runs", str(args.runs), "--database-url", args.database_url]  # fmt: skip
    print(f"in process: bench/inprocess.py --databases {','.join(kinds)} --runs {args.runs}", flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return f"bench/inprocess.py failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return done.stdout[done.stdout.find("In-process") :].strip()


def main() -> None:
    args = arguments()
    require("wrk")
    if not Path(args.app_python).exists():
        raise SystemExit(f"bench: no app interpreter at {args.app_python} (run `make install` first)")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "runs": args.runs,
        "seconds": args.seconds,
        "signatures": args.signatures,
        "watchers": args.watchers,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "drivers": args.drivers,
        "drain": args.drain,
    }
    kinds = [kind for kind in args.databases.split(",") if kind]
    results = [asyncio.run(bench_database(kind, args)) for kind in kinds]
    if "flow" in args.scenarios.split(",") and not args.no_inprocess:
        header["inprocess"] = inprocess(args, kinds)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"header": header, "results": results}, indent=1, default=str))
    print_report(header, results)
    print(f"\nRaw figures: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""The table `make bench` prints: medians of the runs, ratios to the bare endpoint, targets met or not."""

import math
from statistics import median

import updates

TITLES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def _med(runs: list[dict] | None, key: str) -> float:
    values = [r[key] for r in runs or [] if r.get(key) is not None and not math.isnan(r[key])]
    return median(values) if values else float("nan")


def _n(value: float, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "never"
    return f"{value:,.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("MET" if ok else "missed")


def _count(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


# Confirmed signatures a second each database must reach on the 2-core machine (issue 11).
RATE_TARGETS = {"postgresql": 250, "sqlite": 100}
CPU_TARGET_MS = 8.0  # per confirmed signature: web + live + mail + database
P99_TARGET_MS = 250.0  # for each request type
DRIVER_LIMIT = 0.9  # a driver process busier than this share of one core may be what limits the rate
REQUESTS = {
    "page": "GET /p/<slug> (petition page)",
    "sign": "POST /p/<slug>/sign",
    "check_email": "GET /p/<slug>/check-email (its redirect)",
    "confirm_page": "GET /confirm/<token> (confirmation page)",
    "confirm": "POST /confirm/<token>",
    "thanks": "GET /confirm/<token> (thanks, if redirected)",
}


def _med_in(runs: list[dict], *path: str) -> float:
    values = []
    for run in runs:
        value = run
        for key in path:
            value = (value or {}).get(key)
        if value is not None and not math.isnan(value):
            values.append(value)
    return median(values) if values else float("nan")


def flow_rows(result: dict, flow: list[dict], bare: float) -> list[tuple[str, str, str, str, str, str]]:
    """The signing flow: rate, each request type's latency, the email's, the app's CPU, and what the
    load generator and the sink took of the machine."""
    rows = []
    target = RATE_TARGETS.get(result["database"], 250)
    rate, errors = _med(flow, "rate"), sum(r["errors"] for r in flow)
    missing = sum(r.get("missing_emails", 0) for r in flow)
    kinds = sorted({k for r in flow for k in r.get("error_kinds", {})})
    rows.append((
        "signing flow (a browser's requests + email), confirmed/s",
        f"{_n(rate, 1)}/s, {errors} err" + (f" ({', '.join(kinds)})" if kinds else "")
        + f", {missing} emails never came (within {result.get('drain', 5):g} s)",
        _n(bare), f"{_med(flow, 'ratio'):.3f}", f">= {target}/s, 0 err, 0 lost",
        _verdict(rate >= target and errors == 0 and missing == 0),
    ))  # fmt: skip
    for kind, label in REQUESTS.items():
        p50, p99 = _med_in(flow, "latency", kind, "p50_ms"), _med_in(flow, "latency", kind, "p99_ms")
        count = sum(r["latency"][kind]["n"] for r in flow)
        rows.append((
            f"  {label}", f"p50 {_n(p50, 1)} ms, p99 {_n(p99, 1)} ms ({count:,} requests)",
            "", "", f"p99 < {P99_TARGET_MS:g} ms", _verdict(p99 < P99_TARGET_MS) if count else "-",
        ))  # fmt: skip
    rows.append((
        "  confirmation email, sign to sink",
        f"p50 {_n(_med_in(flow, 'mail_latency', 'p50_ms'), 1)} ms, p99 {_n(_med_in(flow, 'mail_latency', 'p99_ms'), 1)}"
        f" ms, max {_n(max(r['mail_latency']['max_ms'] for r in flow), 1)} ms",
        "", "", "", "-",
    ))  # fmt: skip
    cpu = {k: median(r["cpu_ms"][k] for r in flow) for k in flow[0]["cpu_ms"]}
    per_signature = sum(cpu.values())
    cores = result.get("cores", 2)
    ceiling = 1000 * cores / per_signature if per_signature else float("nan")
    rows.append((
        "  app CPU per confirmed signature",
        " + ".join(f"{k} {v:.2f}" for k, v in cpu.items()) + f" = {per_signature:.2f} ms",
        "", "", f"<= {CPU_TARGET_MS:g} ms",
        f"{_verdict(per_signature <= CPU_TARGET_MS)} (ceiling {_n(ceiling)}/s on {cores} idle cores)",
    ))  # fmt: skip
    load = {k: median(r["load_cpu_ms"][k] for r in flow) for k in flow[0]["load_cpu_ms"]}
    drivers = flow[0].get("drivers", 1)
    rows.append((
        "  load generator + sink CPU (not in the above)",
        f"driver ({drivers} proc) {load['driver']:.2f} + bench {load['bench']:.2f} + sink {load['sink']:.2f}"
        f" = {sum(load.values()):.2f} ms per signature",
        "", "", "", "-",
    ))  # fmt: skip
    share = {k: _med_in(flow, "share", k) for k in flow[0]["share"]}
    app = sum(share.get(k, 0.0) for k in ("web", "live", "mail", "db"))
    rows.append((
        f"  share of the {cores} cores in the window",
        f"app {100 * app:.0f}%, driver {100 * share['driver']:.0f}%, sink {100 * share['sink']:.0f}%,"
        f" bench {100 * share['bench']:.0f}%, other {100 * share['other']:.0f}%, idle {100 * share['idle']:.0f}%",
        "", "", "", "-",
    ))  # fmt: skip
    busiest = max(r["driver_busiest"] for r in flow)
    rows.append((
        "  driver not the limit",
        f"busiest driver process at {100 * busiest:.0f}% of one core",
        "", "", f"< {100 * DRIVER_LIMIT:.0f}% of a core", _verdict(busiest < DRIVER_LIMIT),
    ))  # fmt: skip
    return rows


def rows_for(result: dict, signatures: int = 1_000_000) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    large = _count(signatures)
    bare = _med(result.get("bare") or result.get("bare_flow"), "rate")
    rows.append(("bare Flask endpoint GET /", f"{_n(bare)} req/s", _n(bare), "1.00", "(baseline)", "-"))
    targets = {"api": ("GET /api/v1/petitions/<slug>", 0.60), "page": ("petition page /p/<slug>", 0.30),
               "widget": ("widget page /embed/<slug>", None)}  # fmt: skip
    for name, (label, floor) in targets.items():
        if f"{name}@0" not in result:
            continue  # the reads were not run
        at_zero, at_large = result.get(f"{name}@0"), result.get(f"{name}@large")
        if at_zero is None or at_large is None:
            rows.append((label, "not available in this build", "", "", "", "-"))
            continue
        ratio0, ratio1 = _med(at_zero, "ratio"), _med(at_large, "ratio")
        steady = abs(ratio1 / ratio0 - 1) <= 0.10 if ratio0 else None
        for size, runs, ratio in (("0 signatures", at_zero, ratio0), (f"{large} signatures", at_large, ratio1)):
            errors = sum(r["errors"] for r in runs)
            figure = f"{_n(_med(runs, 'rate'))} req/s, p99 {_n(_med(runs, 'p99_ms'), 1)} ms, {errors} err"
            target = f">= {floor:.2f} x bare" if floor else ""
            ok = (ratio >= floor) if floor else None
            if runs is at_large:
                target += (", " if target else "") + "within 10% of 0"
                ok = (ok if ok is not None else True) and bool(steady)
            rows.append((f"{label}, {size}", figure, _n(bare), f"{ratio:.2f}", target, _verdict(ok)))

    flow, watched = result.get("flow"), result.get("flow+watchers")
    if flow:
        rows += flow_rows(result, flow, bare)
    if watched:
        slowdown = _med(watched, "slowdown")
        lag99, lagmax = _med(watched, "lag_p99_s"), max(r["lag_max_s"] for r in watched)
        connected = min(r["watchers"] for r in watched)
        errors = sum(r["errors"] + r["watcher_errors"] + r.get("missing_emails", 0) for r in watched)
        rows.append((
            f"  same, with {connected} SSE watchers ({result.get('live_pool', 'shared')} pool)",
            f"{_n(_med(watched, 'rate'), 1)}/s ({_n(100 * slowdown, 0)}% slower), {errors} err",
            _n(bare), f"{_med(watched, 'ratio'):.3f}", "< 20% slower", _verdict(slowdown < 0.20 and errors == 0),
        ))  # fmt: skip
        if watched[0].get("cpu_ms") and flow and flow[0].get("cpu_ms"):
            alone = median(sum(r["cpu_ms"].values()) for r in flow)
            with_watchers = median(sum(r["cpu_ms"].values()) for r in watched)
            rows.append((
                "  CPU per signature with watchers",
                f"{with_watchers:.2f} ms vs {alone:.2f} ms alone ({_n(100 * (with_watchers / alone - 1))}% more);"
                f" watchers' client {median(r['share']['bench'] for r in watched) * 100:.0f}% of the cores",
                "", "", "< 25% more (= < 20% slower)", _verdict(with_watchers < 1.25 * alone),
            ))  # fmt: skip
        rows.append((
            "  confirmation visible to watchers",
            f"p50 {_n(_med(watched, 'lag_p50_s'), 2)} s, p99 {_n(lag99, 2)} s, max {_n(lagmax, 2)} s",
            "", "", "within 2 s", _verdict(lagmax <= 2.0),
        ))  # fmt: skip
    mail = result.get("mail")
    if mail:
        rate = _med(mail, "rate")
        inflow = _med(flow, "signed_rate") if flow else float("nan")
        rows.append((
            f"mail delivery ({mail[0]['workers']} worker(s)) to SMTP sink",
            f"{_n(rate)} msg/s, {_n(_med(mail, 'per_connection'))} msg/connection",
            "", f"{_n(rate / inflow, 2)} x signing" if flow else "",
            f">= signing rate ({_n(inflow)}/s)" if flow else "", _verdict(rate >= inflow) if flow else "-",
        ))  # fmt: skip
        if mail[0].get("cpu_ms"):
            cpu = {k: median(r["cpu_ms"][k] for r in mail) for k in mail[0]["cpu_ms"]}
            rows.append((
                "  CPU per message",
                f"mail worker {cpu['mail']:.2f} + db {cpu['db']:.2f} ms; sink {cpu['sink']:.2f} ms (not the app's)",
                "", "", "", "-",
            ))  # fmt: skip
    export = result.get("export", "not run")
    if export == "not run":
        pass
    elif export is None:
        rows.append((f"CSV export at {large} signatures", "not available in this build", "", "", "", "-"))
    else:
        rate, peak = _med(export, "rate"), max(r["peak_rss_mb"] for r in export)
        rows.append((
            f"CSV export at {large} signatures",
            f"{_n(rate)} rows/s, peak worker RSS {_n(peak)} MB",
            _n(bare), f"{rate / bare:.1f}", ">= 50,000 rows/s, < 200 MB", _verdict(rate >= 50_000 and peak < 200),
        ))  # fmt: skip
    peak = result.get("worker_rss_peak_mb", float("nan"))
    rows.append(("gunicorn worker RSS, peak of the run", f"{_n(peak)} MB", "", "", "< 150 MB", _verdict(peak < 150)))
    exact = result.get("exact")
    if exact and "error" in exact:
        rows.append(("counts exact after the flows (recount)", f"not checked: {exact['error']}", "", "", "0 corrected",
                     "missed"))  # fmt: skip
    elif exact:
        rows.append((
            "counts exact after the flows (recount)",
            f"{exact['corrected']} counters corrected; API total {exact['api_total']:,},"
            f" {exact['confirmations']:,} confirmations answered",
            "", "", "0 corrected", _verdict(exact["corrected"] == 0),
        ))  # fmt: skip
    rows.extend((label, figure, "", "", target, verdict) for label, figure, target, verdict in updates.rows_for(result))
    return rows


def print_report(header: dict, results: list[dict]) -> None:
    print()
    print(f"Benchmark of {header['date']} on {header['machine']}")
    print(
        f"Each figure: median of {header['runs']} runs of {header['seconds']:g} s, {header['concurrency']} connections;"
        f" ratio = figure / bare endpoint measured in the same run."
    )
    if "warmup" in header and any(result.get("flow") for result in results):
        print(
            f"Signing flow: counted in a {header['seconds']:g} s window after {header['warmup']:g} s of warm-up, driven"
            f" by {header['drivers']} process(es); CPU of the load generator and the SMTP sink is measured apart."
        )
    head = ("scenario", "figure", "bare req/s", "ratio", "target", "result")
    for result in results:
        rows = rows_for(result, header["signatures"])
        widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
        generated = _n(result.get("generate_seconds", float("nan")))
        title = TITLES.get(result["database"], result["database"])
        print(f"\n{title} ({header['signatures']:,} signatures generated in {generated} s)")
        line = " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
        print(line)
        print("-" * len(line))
        for row in rows:
            print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if result.get("profile"):
            print("\nWhere the workers' time went during the signing flow (py-spy, share of busy samples):")
            for share, frame in result["profile"]:
                print(f"  {share:5.1f}%  {frame}")
    if header.get("inprocess"):
        print()
        print(header["inprocess"])

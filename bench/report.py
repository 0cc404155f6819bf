"""The table `make bench` prints: medians of the runs, ratios to the bare endpoint, targets met or not."""

import math
from statistics import median

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


def rows_for(result: dict, signatures: int = 1_000_000) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    large = _count(signatures)
    bare = _med(result.get("bare"), "rate")
    rows.append(("bare Flask endpoint GET /", f"{_n(bare)} req/s", _n(bare), "1.00", "(baseline)", "-"))
    targets = {"api": ("GET /api/v1/petitions/<slug>", 0.60), "page": ("petition page /p/<slug>", 0.30),
               "widget": ("widget page /embed/<slug>", None)}  # fmt: skip
    for name, (label, floor) in targets.items():
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
        rate, errors = _med(flow, "rate"), sum(r["errors"] for r in flow)
        p50, p99 = _med(flow, "p50_ms"), _med(flow, "p99_ms")
        rows.append((
            "signing flow (4 requests), confirmed/s",
            f"{_n(rate, 1)}/s, p50 {_n(p50, 1)} ms, p99 {_n(p99, 1)} ms, {errors} err",
            _n(bare), f"{_med(flow, 'ratio'):.3f}", ">= 250/s, 0 err, p99 < 250 ms",
            _verdict(rate >= 250 and errors == 0 and p99 < 250),
        ))  # fmt: skip
        cpu = {k: median(r["cpu_ms"][k] for r in flow) for k in flow[0].get("cpu_ms", {})}
        if cpu:
            per_signature = sum(cpu.values())
            cores = result.get("cores", 2)
            ceiling = 1000 * cores / per_signature if per_signature else float("nan")
            rows.append((
                "  CPU per confirmed signature",
                " + ".join(f"{k} {v:.1f}" for k, v in cpu.items()) + f" = {per_signature:.1f} ms",
                "", "", f"<= {1000 * cores / 250:.1f} ms for 250/s",
                f"{_verdict(per_signature <= 1000 * cores / 250)} (ceiling {_n(ceiling)}/s on {cores} idle cores)",
            ))  # fmt: skip
    if watched:
        slowdown = _med(watched, "slowdown")
        lag99, lagmax = _med(watched, "lag_p99_s"), max(r["lag_max_s"] for r in watched)
        connected = min(r["watchers"] for r in watched)
        errors = sum(r["errors"] + r["watcher_errors"] for r in watched)
        rows.append((
            f"  same, with {connected} SSE watchers ({result.get('live_pool', 'shared')} pool)",
            f"{_n(_med(watched, 'rate'), 1)}/s ({_n(100 * slowdown, 0)}% slower), {errors} err",
            _n(bare), f"{_med(watched, 'ratio'):.3f}", "< 20% slower", _verdict(slowdown < 0.20 and errors == 0),
        ))  # fmt: skip
        if watched[0].get("cpu_ms") and flow[0].get("cpu_ms"):
            alone = median(sum(r["cpu_ms"].values()) for r in flow)
            with_watchers = median(sum(r["cpu_ms"].values()) for r in watched)
            rows.append((
                "  CPU per signature with watchers",
                f"{with_watchers:.1f} ms vs {alone:.1f} ms alone ({_n(100 * (with_watchers / alone - 1))}% more)",
                "", "", "< 25% more (= < 20% slower)", _verdict(with_watchers < 1.25 * alone),
            ))  # fmt: skip
        rows.append((
            "  confirmation visible to watchers",
            f"p50 {_n(_med(watched, 'lag_p50_s'), 2)} s, p99 {_n(lag99, 2)} s, max {_n(lagmax, 2)} s",
            "", "", "within 2 s", _verdict(lagmax <= 2.0),
        ))  # fmt: skip
    mail = result.get("mail")
    if mail and flow:
        rate, inflow = _med(mail, "rate"), _med(flow, "signed_rate")
        rows.append((
            f"mail delivery ({mail[0]['workers']} worker(s)) to SMTP sink",
            f"{_n(rate)} msg/s, {_n(_med(mail, 'per_connection'))} msg/connection",
            "", f"{_n(rate / inflow, 2)} x signing", f">= signing rate ({_n(inflow)}/s)", _verdict(rate >= inflow),
        ))  # fmt: skip
    export = result.get("export")
    if export is None:
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
    if exact:
        rows.append((
            "counts exact after the flows (recount)",
            f"{exact['corrected']} counters corrected; API total {exact['api_total']:,},"
            f" {exact['confirmations']:,} confirmations answered",
            "", "", "0 corrected", _verdict(exact["corrected"] == 0),
        ))  # fmt: skip
    return rows


def print_report(header: dict, results: list[dict]) -> None:
    print()
    print(f"Benchmark of {header['date']} on {header['machine']}")
    print(
        f"Each figure: median of {header['runs']} runs of {header['seconds']:g} s, {header['concurrency']} connections;"
        f" ratio = figure / bare endpoint measured in the same run."
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

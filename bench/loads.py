"""The load drivers: wrk for plain reads; driver.py processes for the signing flow (with sink.py, the
SMTP sink); aiohttp in this process for the watchers, the export and filling the outbox."""

import asyncio
import bisect
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from driver import KINDS

HERE = Path(__file__).resolve().parent
TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOTAL = re.compile(r'"total":(\d+)')


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Plain reads -----------------------------------------------------------------------------------
async def wrk(url: str, seconds: float, connections: int = 32, threads: int = 2) -> dict:
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "-s", str(HERE / "wrk/report.lua"),
        url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {stderr.decode()}")
    line = next(line for line in stdout.decode().splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["rate"] = figures["requests"] / figures["seconds"]
    return figures


# The SMTP sink ---------------------------------------------------------------------------------
class Sink:
    """Runs sink.py in its own process; drivers subscribe to its links themselves (see driver.py),
    this side only asks it how many messages and connections it has seen."""

    def __init__(self):
        self.port = 0
        self.feed_port = 0
        self.process = None
        self.feed = None

    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "sink.py"), stdout=asyncio.subprocess.PIPE
        )
        first = (await self.process.stdout.readline()).decode()
        self.port, self.feed_port = (int(port) for port in first.split()[1:3])
        self.feed = await asyncio.open_connection("127.0.0.1", self.feed_port)
        return self.port

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stats(self) -> tuple[int, int]:
        """(messages received, SMTP connections accepted) so far."""
        reader, writer = self.feed
        writer.write(b"STATS\n")
        await writer.drain()
        _, messages, connections = (await reader.readline()).split()
        return int(messages), int(connections)

    async def stop(self) -> None:
        self.feed[1].close()
        self.process.terminate()
        await self.process.wait()


# The signing flow ------------------------------------------------------------------------------


@dataclass
class FlowResult:
    seconds: float  # the measured window
    warmup: float
    window: tuple[float, float] = (0.0, 0.0)  # its start and end on time.monotonic()
    drivers: int = 0
    signed: int = 0  # in the window
    confirmed: int = 0  # confirmations completed in the window
    confirmed_all: int = 0  # including warm-up and drain
    errors: int = 0  # in the whole run, warm-up and drain included
    errors_window: int = 0
    missing: int = 0  # signed, but their email had not come when the drain gave up
    latencies: dict[str, list[float]] = field(default_factory=dict)  # ms, requests started in the window
    mail_ms: list[float] = field(default_factory=list)  # sign POST sent -> message at the sink
    confirmed_at: list[float] = field(default_factory=list)  # every confirmation, in order
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.confirmed / self.seconds


async def flow(
    base_url: str,
    slug: str,
    sink: Sink,
    seconds: float,
    concurrency: int,
    run: str,
    *,
    warmup: float = 3.0,
    drivers: int = 2,
    drain: float = 5.0,
    on_window=None,
) -> FlowResult:
    """The signing flow from `drivers` processes of driver.py, `concurrency` connections in all (half
    signers, half confirmers). It runs `warmup` seconds, then the measured window of `seconds`, then
    signers stop and confirmers take the links still coming (up to `drain` seconds of silence).
    `on_window(window_start, window_end, driver_pids)` is awaited alongside, to meter the window."""
    share = [concurrency // drivers + (i < concurrency % drivers) for i in range(drivers)]
    processes = []
    for i, connections in enumerate(share):
        config = {"url": base_url, "slug": slug, "tag": f"f{run}d{i}", "concurrency": max(2, connections),
                  "feed_port": sink.feed_port, "drain": drain}  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "driver.py"), json.dumps(config),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        processes.append(process)
    for process in processes:
        line = await process.stdout.readline()
        if line.strip() != b"READY":
            raise RuntimeError(f"load driver did not start: {line!r}")
    start = time.monotonic() + 0.1
    go = {"start": start, "window_start": start + warmup, "window_end": start + warmup + seconds}
    for process in processes:
        process.stdin.write(f"GO {json.dumps(go)}\n".encode())
        await process.stdin.drain()
    metering = on_window(go["window_start"], go["window_end"], [p.pid for p in processes]) if on_window else None
    outputs = await asyncio.gather(*(p.communicate() for p in processes), *([metering] if metering else []))
    result = FlowResult(seconds, warmup, (go["window_start"], go["window_end"]), drivers)
    result.latencies = {kind: [] for kind in KINDS}
    for process, (stdout, _) in zip(processes, outputs[: len(processes)], strict=True):
        line = next((x for x in stdout.decode().splitlines() if x.startswith("RESULT ")), None)
        if process.returncode != 0 or line is None:
            raise RuntimeError(f"load driver failed (exit {process.returncode})")
        part = json.loads(line.removeprefix("RESULT "))
        result.signed += part["signed_window"]
        result.confirmed += part["confirmed_window"]
        result.confirmed_all += part["confirmed_all"]
        result.errors += part["errors"]
        result.errors_window += part["errors_window"]
        result.missing += part["missing"]
        for kind in KINDS:
            result.latencies[kind] += part["latencies_ms"][kind]
        result.mail_ms += part["mail_ms"]
        result.confirmed_at += part["confirmed_at"]
        for kind, n in part["error_kinds"].items():
            result.error_kinds[kind] = result.error_kinds.get(kind, 0) + n
    result.confirmed_at.sort()
    return result


async def sign_only(base_url: str, slug: str, count: int, concurrency: int, run: str) -> int:
    """Post `count` signatures (no confirmation): fills the outbox for the mail scenario."""
    numbers = iter(range(count))
    signed = 0
    async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=0)) as session:

        async def signer() -> None:
            nonlocal signed
            for n in numbers:
                async with session.get(f"/p/{slug}") as page:
                    token = TOKEN.search(await page.text())
                fields = {"first_name": "Ana", "last_name": "Bench", "email": f"m{run}-{n}@bench.example.org",
                          "country": "DE", "consent": "y", "eligible": "y",
                          "form_token": token.group(1) if token else ""}  # fmt: skip
                async with session.post(f"/p/{slug}/sign", data=fields, allow_redirects=False) as posted:
                    signed += posted.status == 303

        await asyncio.gather(*[signer() for _ in range(concurrency)])
    return signed


async def total_of(base_url: str, slug: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/api/v1/petitions/{slug}") as response:
        if response.status != 200:
            body = (await response.text())[:200]
            raise RuntimeError(f"GET /api/v1/petitions/{slug} answered {response.status}: {body}")
        return (await response.json())["total"]


# Watchers ---------------------------------------------------------------------------------------
class Watchers:
    """Many browsers holding the petition's event stream open, noting when each total arrived."""

    def __init__(self, base_url: str, slug: str, count: int):
        self.url = f"{base_url}/api/v1/petitions/{slug}/events"
        self.count = count
        self.events: list[list[tuple[float, int]]] = [[] for _ in range(count)]
        self.connected = 0
        self.errors = 0
        self.tasks: list[asyncio.Task] = []
        self.session: aiohttp.ClientSession | None = None

    async def start(self, per_second: float = 250) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout)
        for n in range(self.count):
            self.tasks.append(asyncio.create_task(self._watch(n)))
            await asyncio.sleep(1 / per_second)
        deadline = time.monotonic() + 20
        while self.connected + self.errors < self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def _watch(self, n: int) -> None:
        try:
            async with self.session.get(self.url) as response:
                if response.status != 200:
                    self.errors += 1
                    return
                first = True
                async for line in response.content:
                    if line.startswith(b"data: "):
                        match = TOTAL.search(line.decode())
                        if match:
                            self.events[n].append((time.monotonic(), int(match.group(1))))
                            if first:
                                self.connected += 1
                                first = False
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError):
            self.errors += 1

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()

    def lags(self, base_total: int, confirmed_at: list[float], window: tuple[float, float], sample: int = 200):
        """For a sample of the confirmations made in the window, how long until each watcher saw a
        total including it. `confirmed_at` holds every confirmation since `base_total` was read, in
        order (warm-up included: they move the total too)."""
        inside = [k for k, t in enumerate(confirmed_at) if window[0] <= t < window[1]]
        if not inside:
            return []
        picked = inside[:: max(1, len(inside) // sample)]
        lags = []
        for events in self.events:
            if not events:
                continue  # never connected: counted among the errors, not as an endless lag
            times = [t for t, _ in events]
            totals = [total for _, total in events]
            for k in picked:
                # The first event whose total includes confirmation k (totals only grow).
                i = bisect.bisect_left(totals, base_total + k + 1)
                if i < len(totals):
                    lags.append(max(0.0, times[i] - confirmed_at[k]))
                else:
                    lags.append(float("inf"))
        return lags


# Export ------------------------------------------------------------------------------------------
async def export(base_url: str, slug: str, organiser: tuple[str, str]) -> dict | None:
    """Rows per second of the organiser's CSV export, or None when this build has no export."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=600)) as session:
        async with session.get("/organiser/login") as page:
            if page.status != 200:
                return None
            csrf = CSRF.search(await page.text())
        fields = {"email": organiser[0], "password": organiser[1]}
        if csrf:
            fields["csrf_token"] = csrf.group(1)
        async with session.post("/organiser/login", data=fields, allow_redirects=False) as login:
            if login.status not in (302, 303):
                return None
        started = time.monotonic()
        rows = 0
        async with session.get(f"/organiser/p/{slug}/export.csv") as response:
            if response.status != 200:
                return None
            async for _line in response.content:
                rows += 1
        seconds = time.monotonic() - started
    return {"rows": rows - 1, "seconds": seconds, "rate": (rows - 1) / seconds}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")

"""The load drivers: wrk for plain reads; asyncio for the signing flow, the SMTP sink, the watchers
and the export, which need state between requests."""

import asyncio
import bisect
import json
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOTAL = re.compile(r'"total":(\d+)')
# Where signers come from in the flow: roughly by population, as in a real burst.
COUNTRIES = {"DE": 83, "FR": 68, "IT": 59, "ES": 48, "PL": 37, "RO": 19, "NL": 18, "BE": 12, "PT": 10, "MT": 1}


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
    """Runs sink.py and hands on what it reports: confirmation links, messages, connections."""

    def __init__(self):
        self.links: asyncio.Queue = asyncio.Queue()
        self.received = 0
        self.connections = 0
        self.port = 0
        self.process = None
        self.reader = None

    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "sink.py"), stdout=asyncio.subprocess.PIPE
        )
        first = (await self.process.stdout.readline()).decode()
        self.port = int(first.split()[1])
        self.reader = asyncio.create_task(self._read())
        return self.port

    async def _read(self) -> None:
        async for raw in self.process.stdout:
            kind, _, rest = raw.decode().strip().partition(" ")
            if kind == "EHLO":
                self.connections += 1
            elif kind == "MSG":
                self.received += 1
                if rest != "-":
                    self.links.put_nowait((rest, time.monotonic()))

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()
        self.reader.cancel()


# The signing flow ------------------------------------------------------------------------------
@dataclass
class FlowResult:
    seconds: float
    signed: int = 0
    confirmed: int = 0  # within the measured window
    confirmed_all: int = 0  # including links still pressed after it
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    confirmed_at: list[float] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.confirmed / self.seconds

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


@dataclass
class Answer:
    status: int
    text: str


async def _timed(result: FlowResult, request) -> Answer | None:
    started = time.monotonic()
    try:
        async with request as response:
            answer = Answer(response.status, await response.text())
    except (aiohttp.ClientError, TimeoutError) as error:
        result.error(type(error).__name__)
        return None
    result.latencies.append(time.monotonic() - started)
    return answer


async def flow(base_url: str, slug: str, sink: Sink, seconds: float, concurrency: int, run: str) -> FlowResult:
    """Signers load the page and post the form; confirmers take each link the sink received and
    open and press it. Both run at once, so mail latency shows as delay, not as idle signers; but at
    most `2 x concurrency` signatures wait for their confirmation at any time, so that the figure is
    whole flows completed, not signatures piling up in the outbox."""
    result = FlowResult(seconds)
    unconfirmed = asyncio.Semaphore(2 * concurrency)
    deadline = time.monotonic() + seconds
    codes, weights = list(COUNTRIES), list(COUNTRIES.values())
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=0)
    counter = iter(range(10**9))
    while not sink.links.empty():
        sink.links.get_nowait()

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def signer() -> None:
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(unconfirmed.acquire(), timeout=max(0.01, deadline - time.monotonic()))
                except TimeoutError:
                    return
                page = await _timed(result, session.get(f"/p/{slug}"))
                if page is None or page.status != 200:
                    result.error(f"page {getattr(page, 'status', '-')}")
                    unconfirmed.release()
                    continue
                token = TOKEN.search(page.text)
                fields = {
                    "first_name": "Ana",
                    "last_name": "Bench",
                    "email": f"s{run}-{next(counter)}@bench.example.org",
                    "country": random.choices(codes, weights)[0],
                    "consent": "y",
                    "eligible": "y",  # the demo is an ECI: nationality and age stated
                    "form_token": token.group(1) if token else "",
                }
                posted = await _timed(result, session.post(f"/p/{slug}/sign", data=fields, allow_redirects=False))
                if posted is None or posted.status != 303:
                    result.error(f"sign {getattr(posted, 'status', '-')}")
                    unconfirmed.release()
                    continue
                result.signed += 1

        async def confirm(path: str) -> None:
            page = await _timed(result, session.get(path))
            if page is None or page.status != 200:
                result.error(f"confirm page {getattr(page, 'status', '-')}")
                return
            pressed = await _timed(result, session.post(path, allow_redirects=False))
            if pressed is None or pressed.status != 303:
                result.error(f"confirm {getattr(pressed, 'status', '-')}")
                return
            result.confirmed_all += 1
            if time.monotonic() <= deadline:
                result.confirmed += 1
                result.confirmed_at.append(time.monotonic())

        async def confirmer() -> None:
            while True:
                try:
                    path, _ = await asyncio.wait_for(sink.links.get(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    if time.monotonic() >= deadline:
                        return
                    continue
                try:
                    await confirm(path)
                finally:
                    unconfirmed.release()

        half = max(1, concurrency // 2)
        await asyncio.gather(*[signer() for _ in range(half)], *[confirmer() for _ in range(half)])
    return result


async def sign_only(base_url: str, slug: str, count: int, concurrency: int, run: str) -> int:
    """Post `count` signatures (no confirmation): fills the outbox for the mail scenario."""
    result = FlowResult(0)
    numbers = iter(range(count))
    async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=0)) as session:

        async def signer() -> None:
            for n in numbers:
                page = await _timed(result, session.get(f"/p/{slug}"))
                token = TOKEN.search(page.text) if page else None
                fields = {"first_name": "Ana", "last_name": "Bench", "email": f"m{run}-{n}@bench.example.org",
                          "country": "DE", "consent": "y", "eligible": "y",
                          "form_token": token.group(1) if token else ""}  # fmt: skip
                posted = await _timed(result, session.post(f"/p/{slug}/sign", data=fields, allow_redirects=False))
                if posted is not None and posted.status == 303:
                    result.signed += 1

        await asyncio.gather(*[signer() for _ in range(concurrency)])
    return result.signed


async def total_of(base_url: str, slug: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/api/v1/petitions/{slug}") as response:
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

    def lags(self, base_total: int, confirmed_at: list[float], sample: int = 200) -> list[float]:
        """For a sample of the confirmations, how long until each watcher saw a total including it."""
        if not confirmed_at:
            return []
        step = max(1, len(confirmed_at) // sample)
        lags = []
        for events in self.events:
            if not events:
                continue  # never connected: counted among the errors, not as an endless lag
            times = [t for t, _ in events]
            totals = [total for _, total in events]
            for k in range(0, len(confirmed_at), step):
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

"""One process of the signing-flow load (run by loads.flow, several at once): signers load the
petition page, post the form with its real token and follow the redirect to the "check your inbox"
page; confirmers take each confirmation link the SMTP sink hands over, open it, press the button
and, if the answer is a redirect, load the page it leads to. Every request a browser would make.

The HTTP client is a few lines of asyncio protocol on keep-alive connections, one per signer or
confirmer: aiohttp spent about 150-180 µs of CPU per request here against 60 µs for this, and at a
few hundred signatures a second (five requests each) the difference is a visible share of the two
cores the app is measured on. For the same reason it runs on uvloop's event loop rather than asyncio's.

    driver.py '<json config>'     prints READY, reads one GO line from stdin, prints one RESULT line

Config: url, slug, tag (the addresses' prefix, unique per driver and run), concurrency (half signers,
half confirmers), feed_port (the sink's), drain (seconds to wait for late links after the window).
GO carries `start`, `window_start`, `window_end` on time.monotonic() (one clock for all processes on
Linux). Requests are timed per type; only those that start inside the window count towards the
latencies, only confirmations that complete inside it towards the rate; errors are counted in the
whole run, warm-up and drain included, and so are signatures whose email never came (`missing`: none
arrived for `drain` seconds while some were still owed).
"""

import asyncio
import json
import random
import re
import sys
import time
from urllib.parse import urlencode, urlsplit

import uvloop

TOKEN = re.compile(rb'name="form_token" type="hidden" value="([^"]+)"')
# Where signers come from in the flow: roughly by population, as in a real burst.
COUNTRIES = {"DE": 83, "FR": 68, "IT": 59, "ES": 48, "PL": 37, "RO": 19, "NL": 18, "BE": 12, "PT": 10, "MT": 1}
# "thanks": the page a redirect from the confirm POST leads to (none when the POST answers with it).
KINDS = ("page", "sign", "check_email", "confirm_page", "confirm", "thanks")
TIMEOUT = 30.0
FORM_HEADERS = b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
IDLE_RECONNECT = 2.0  # below gunicorn's keep-alive (5 s): never send on a connection the server may be closing


class HttpError(Exception):
    pass


class Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection: one request at a time, Content-Length or chunked bodies."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        # status, body start, length (-1: chunked), close, Location
        self.head: tuple[int, int, int, bool, str | None] | None = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).split(b"\r\n")
            status = int(lines[0][9:12])
            length, close, location = 0, False, None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    length = -1
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"location":
                    target = urlsplit(value.strip().decode())
                    location = target.path + (f"?{target.query}" if target.query else "")
            self.head = (status, end + 4, length, close, location)
        status, start, length, close, location = self.head
        if length >= 0:
            if len(self.buffer) < start + length:
                return
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
        else:
            body = self._dechunk(start)
            if body is None:
                return
        self.head = None
        if close:
            self.closed = True
            self.transport.close()
        self.waiter.set_result((status, body, location))

    def _dechunk(self, start: int) -> bytes | None:
        parts, at = [], start
        while True:
            line_end = self.buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[at:line_end]).split(b";")[0], 16)
            if size == 0:
                end = self.buffer.find(b"\r\n\r\n", line_end)
                if end < 0:
                    return None
                del self.buffer[: end + 4]
                return b"".join(parts)
            if len(self.buffer) < line_end + 2 + size + 2:
                return None
            parts.append(bytes(self.buffer[line_end + 2 : line_end + 2 + size]))
            at = line_end + 2 + size + 2


class Client:
    """A keep-alive connection that is opened again when the server closed it or it sat idle."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.prefix = f"Host: {host}:{port}\r\nUser-Agent: bench-driver\r\nAccept: */*\r\n".encode()
        self.connection: Connection | None = None
        self.last_used = 0.0

    async def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes, str | None]:
        """The status, the body and the Location header's path (None without one)."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        if self.connection is None or self.connection.closed or now - self.last_used > IDLE_RECONNECT:
            if self.connection is not None and self.connection.transport is not None:
                self.connection.transport.close()
            _, self.connection = await loop.create_connection(Connection, self.host, self.port)
        connection = self.connection
        if form is None:
            payload = b"%s %s HTTP/1.1\r\n%s\r\n" % (method.encode(), path.encode(), self.prefix)
        else:
            body = urlencode(form).encode()
            payload = b"%s %s HTTP/1.1\r\n%s%s%d\r\n\r\n%s" % (
                method.encode(), path.encode(), self.prefix, FORM_HEADERS, len(body), body,
            )  # fmt: skip
        waiter = connection.waiter = loop.create_future()
        timer = loop.call_later(TIMEOUT, lambda: waiter.done() or waiter.set_exception(TimeoutError()))
        connection.transport.write(payload)
        try:
            return await waiter
        except BaseException:
            connection.closed = True
            connection.transport.close()
            raise
        finally:
            timer.cancel()
            connection.waiter = None
            self.last_used = time.monotonic()


class Stats:
    def __init__(self, window_start: float, window_end: float):
        self.window = (window_start, window_end)
        self.latencies = {kind: [] for kind in KINDS}
        self.mail = []
        self.errors = 0
        self.errors_window = 0
        self.error_kinds: dict[str, int] = {}
        self.signed = 0
        self.signed_window = 0
        self.missing = 0
        self.confirmed_window = 0
        self.confirmed_at: list[float] = []  # every confirmation, warm-up and drain included

    def inside(self, t: float) -> bool:
        return self.window[0] <= t < self.window[1]

    def error(self, kind: str, at: float) -> None:
        self.errors += 1
        self.errors_window += self.inside(at)
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def as_dict(self) -> dict:
        return {
            "latencies_ms": {k: [round(1000 * v, 3) for v in values] for k, values in self.latencies.items()},
            "mail_ms": [round(1000 * v, 3) for v in self.mail],
            "errors": self.errors,
            "errors_window": self.errors_window,
            "error_kinds": self.error_kinds,
            "signed": self.signed,
            "signed_window": self.signed_window,
            "missing": self.missing,
            "confirmed_window": self.confirmed_window,
            "confirmed_all": len(self.confirmed_at),
            "confirmed_at": self.confirmed_at,
        }


async def timed(stats: Stats, kind: str, client: Client, method: str, path: str, form=None):
    """status, body, Location, and when the request started and ended (status None: it failed)."""
    started = time.monotonic()
    try:
        status, body, location = await client.request(method, path, form)
    except (OSError, HttpError, TimeoutError) as error:
        stats.error(f"{kind} {type(error).__name__}", started)
        return None, None, None, started, time.monotonic()
    done = time.monotonic()
    if stats.inside(started):
        stats.latencies[kind].append(done - started)
    return status, body, location, started, done


async def run(config: dict, go: dict, links: asyncio.Queue, arrived: list[float]) -> Stats:
    """`links` is filled from the sink's feed, and `arrived[0]` set to the time of the latest."""
    url = urlsplit(config["url"])
    slug, tag = config["slug"], config["tag"]
    stats = Stats(go["window_start"], go["window_end"])
    window_end = go["window_end"]
    half = max(1, config["concurrency"] // 2)
    unconfirmed = asyncio.Semaphore(2 * 2 * half)  # at most 2 x this driver's connections wait for their mail
    signed_at: dict[bytes, float] = {}
    codes, weights = list(COUNTRIES), list(COUNTRIES.values())
    numbers = iter(range(10**9))
    outstanding = [0]  # signed, link not yet taken

    async def signer() -> None:
        client = Client(url.hostname, url.port)
        while time.monotonic() < window_end:
            if unconfirmed.locked():
                try:
                    await asyncio.wait_for(unconfirmed.acquire(), timeout=max(0.01, window_end - time.monotonic()))
                except TimeoutError:
                    return
            else:
                await unconfirmed.acquire()
            status, body, _, started, _ = await timed(stats, "page", client, "GET", f"/p/{slug}")
            if status != 200:
                if status is not None:
                    stats.error(f"page {status}", started)
                unconfirmed.release()
                continue
            token = TOKEN.search(body)
            address = f"{tag}-{next(numbers)}@bench.example.org"
            fields = {"first_name": "Ana", "last_name": "Bench", "email": address,
                      "country": random.choices(codes, weights)[0], "consent": "y", "eligible": "y",
                      "form_token": token.group(1).decode() if token else ""}  # fmt: skip
            # Noted before the request: the mail may reach the sink before the answer reaches us.
            signed_at[address.encode()] = time.monotonic()
            status, _, location, started, _ = await timed(stats, "sign", client, "POST", f"/p/{slug}/sign", fields)
            if status != 303 or not location:
                if status is not None:
                    stats.error(f"sign {status}", started)
                signed_at.pop(address.encode(), None)
                unconfirmed.release()
                continue
            stats.signed += 1
            stats.signed_window += stats.inside(started)
            outstanding[0] += 1
            status, _, _, started, _ = await timed(stats, "check_email", client, "GET", location)
            if status is not None and status != 200:
                stats.error(f"check email {status}", started)

    async def confirm(client: Client, path: str) -> None:
        status, _, _, started, _ = await timed(stats, "confirm_page", client, "GET", path)
        if status != 200:
            if status is not None:
                stats.error(f"confirm page {status}", started)
            return
        status, _, location, started, done = await timed(stats, "confirm", client, "POST", path)
        if status == 303 and location:  # the thanks page behind a redirect: the browser loads it
            status, _, _, started, done = await timed(stats, "thanks", client, "GET", location)
        if status != 200:
            if status is not None:
                stats.error(f"confirm {status}", started)
            return
        stats.confirmed_at.append(done)
        stats.confirmed_window += stats.inside(done)

    async def confirmer() -> None:
        client = Client(url.hostname, url.port)
        while (link := await links.get()) is not None:
            received, recipient, path = link
            sent = signed_at.pop(recipient, None)
            if sent is None:
                continue  # not (or no longer) ours: a signature from an earlier run
            outstanding[0] -= 1
            if stats.inside(sent):
                stats.mail.append(received - sent)
            try:
                if path == b"-":
                    stats.error("mail without a confirmation link", received)
                else:
                    await confirm(client, path.decode())
            finally:
                unconfirmed.release()

    async def close() -> None:
        """After the window, once signers stopped: wait for the links still owed (or `drain` seconds
        without any arriving), then tell the confirmers to finish the queue and stop."""
        await asyncio.gather(*[signer() for _ in range(half)])
        while outstanding[0] - links.qsize() > 0 and time.monotonic() - max(arrived[0], window_end) < config["drain"]:
            await asyncio.sleep(0.05)
        stats.missing = max(0, outstanding[0] - links.qsize())  # signed, but no email came while we waited
        for _ in range(half):
            links.put_nowait(None)

    await asyncio.sleep(max(0.0, go["start"] - time.monotonic()))
    await asyncio.gather(close(), *[confirmer() for _ in range(half)])
    return stats


async def main() -> None:
    config = json.loads(sys.argv[1])
    loop = asyncio.get_running_loop()
    links: asyncio.Queue = asyncio.Queue()
    arrived = [0.0]
    reader, writer = await asyncio.open_connection("127.0.0.1", config["feed_port"])
    writer.write(f"SUB {config['tag']}\n".encode())
    await writer.drain()

    async def feed() -> None:
        async for line in reader:
            received, recipient, path = line.split()
            links.put_nowait((float(received), recipient, path))
            arrived[0] = time.monotonic()

    feeding = asyncio.create_task(feed())
    print("READY", flush=True)
    go = json.loads((await loop.run_in_executor(None, sys.stdin.readline)).removeprefix("GO "))
    stats = await run(config, go, links, arrived)
    feeding.cancel()
    writer.close()
    print("RESULT " + json.dumps(stats.as_dict()), flush=True)


if __name__ == "__main__":
    uvloop.run(main())

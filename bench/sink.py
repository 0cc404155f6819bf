"""A local SMTP sink in its own process (so that it never waits on the load driver): accepts every
message, finds its confirmation link and hands it to the load driver that signed for that address.

It speaks just enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on a plain
asyncio protocol: aiosmtpd and a full `email` parse cost about 1.3 ms of CPU per message here, which
at a few hundred messages a second would take a good share of the cores the app is measured on.
The link is searched in the raw message (dot-stuffing and quoted-printable soft breaks undone); only
a message where that finds nothing is parsed with the `email` package. It runs on uvloop's event
loop, for the same reason.

It prints `PORT <smtp port> <feed port>` and nothing else. On the feed port (loopback) a client sends
lines: `SUB <tag>` to receive, for every message to `<tag>-...@...`, a line
`<time.monotonic() at receipt> <recipient> <link path or ->`; `STATS` to get
`STATS <messages> <connections>`. Messages for no subscriber are counted and dropped.
"""

import asyncio
import email
import re
import sys
import time

import uvloop

CONFIRM_LINK = re.compile(rb"https?://[^/\s]+(/confirm/[A-Za-z0-9._-]+)")
RCPT = re.compile(rb"^RCPT TO:\s*<([^>]*)>", re.IGNORECASE)
EHLO_REPLY = b"250-bench-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 33554432\r\n"


COUNTS = {"messages": 0, "connections": 0}
SUBSCRIBERS: dict[bytes, asyncio.Transport] = {}  # tag -> the feed connection of the driver using it


def confirm_link(content: bytes) -> bytes:
    """The confirmation path in a message, or b"-": the raw text first, a full parse if needed."""
    text = content.replace(b"\r\n..", b"\r\n.").replace(b"=\r\n", b"")
    match = CONFIRM_LINK.search(text)
    if match:
        return match.group(1)
    for part in email.message_from_bytes(content).walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            match = CONFIRM_LINK.search(part.get_payload(decode=True) or b"")
            if match:
                return match.group(1)
    return b"-"


class Smtp(asyncio.Protocol):
    def connection_made(self, transport):
        COUNTS["connections"] += 1
        self.transport = transport
        self.buffer = b""
        self.data: list[bytes] | None = None  # chunks of the message while in DATA
        self.recipients: list[bytes] = []
        transport.write(b"220 bench-sink ESMTP\r\n")

    def data_received(self, chunk: bytes) -> None:
        if self.data is not None:
            self._message_data(chunk)
            return
        self.buffer += chunk
        while self.data is None:
            line, found, rest = self.buffer.partition(b"\r\n")
            if not found:
                return
            self.buffer = rest
            self._command(line)
        if self.buffer:
            rest, self.buffer = self.buffer, b""
            self._message_data(rest)

    def _command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            self.transport.write(EHLO_REPLY)
        elif verb == b"MAIL":
            self.recipients = []
            self.transport.write(b"250 OK\r\n")
        elif verb == b"RCPT":
            match = RCPT.match(line)
            self.recipients.append(match.group(1) if match else b"")
            self.transport.write(b"250 OK\r\n")
        elif verb == b"DATA":
            self.data = []
            self.tail = b""
            self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"QUIT":
            self.transport.write(b"221 Bye\r\n")
            self.transport.close()
        elif verb in (b"HELO", b"RSET", b"NOOP"):
            self.recipients = [] if verb == b"RSET" else self.recipients
            self.transport.write(b"250 OK\r\n")
        else:
            self.transport.write(b"502 Not implemented\r\n")

    def _message_data(self, chunk: bytes) -> None:
        # The end is "\r\n.\r\n", possibly split across chunks: look at the last bytes with the new ones.
        joined = self.tail + chunk
        end = joined.find(b"\r\n.\r\n")
        if end < 0:
            self.data.append(chunk)
            self.tail = joined[-4:]
            return
        cut = end - len(self.tail)  # where the end marker starts in `chunk` (may be negative)
        body = b"".join(self.data)
        content = body[: len(body) + cut] if cut < 0 else body + chunk[:cut]
        rest = chunk[cut + 5 :]
        self.data = None
        self._deliver(content)
        self.transport.write(b"250 OK\r\n")
        if rest:
            self.data_received(rest)

    def _deliver(self, content: bytes) -> None:
        received = time.monotonic()
        COUNTS["messages"] += 1
        for recipient in self.recipients or [b""]:
            local = recipient.partition(b"@")[0]
            subscriber = SUBSCRIBERS.get(local.partition(b"-")[0])
            if subscriber is None or subscriber.is_closing():
                continue
            subscriber.write(b"%.6f %s %s\n" % (received, recipient, confirm_link(content)))


class Feed(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, chunk: bytes) -> None:
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            command, _, argument = line.strip().partition(b" ")
            if command == b"SUB":
                SUBSCRIBERS[argument] = self.transport
            elif command == b"STATS":
                self.transport.write(b"STATS %d %d\n" % (COUNTS["messages"], COUNTS["connections"]))


async def main() -> None:
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(Smtp, "127.0.0.1", 0)
    feed = await loop.create_server(Feed, "127.0.0.1", 0)
    ports = [server.sockets[0].getsockname()[1] for server in (smtp, feed)]
    print(f"PORT {ports[0]} {ports[1]}", flush=True)
    await asyncio.gather(smtp.serve_forever(), feed.serve_forever())


if __name__ == "__main__":
    try:
        uvloop.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

"""A local SMTP sink in its own process (so that it never waits on the load driver): accepts every
message and reports each one, with its confirmation link, as a line on stdout."""

import asyncio
import email
import re
import sys

from aiosmtpd.smtp import SMTP

CONFIRM_LINK = re.compile(rb"https?://[^/\s]+(/confirm/[A-Za-z0-9._-]+)")


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        sys.stdout.write("EHLO\n")
        return responses

    async def handle_DATA(self, server, session, envelope):
        link = "-"
        for part in email.message_from_bytes(envelope.content).walk():
            if part.get_content_type() == "text/plain":
                match = CONFIRM_LINK.search(part.get_payload(decode=True) or b"")
                link = match.group(1).decode() if match else "-"
                break
        sys.stdout.write(f"MSG {link}\n")
        sys.stdout.flush()
        return "250 OK"


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())

"""Mail delivery: what really arrives at an SMTP server, retries while it is away, refusals, headers
that signers cannot bend, and several workers sharing one outbox."""

import asyncio
import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import func, select, text

from petition.extensions import db
from petition.mail.worker import deliver_due, serve
from petition.models import MailStatus, OutboxMessage, Petition, Signature
from petition.services import signing
from petition.timeutil import utcnow
from tests.helpers.fixtures import signer

INJECTION_ENCODED = "=?UTF-8?Q?=0A?=Bcc: evil@example.org"
INJECTION_RAW = "\r\nBcc: evil@example.org"
EXPECTED_HEADERS = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
    "Content-Language",
}


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def header_block(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[0]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 in its own thread and event loop.

    Its port is reserved at once (bound, not listening: connections are refused) so a test can
    start with the server "down" and bring it up later at the same address."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.received: list[Received] = []
        self.connections = 0
        self.rcpt_attempts: list[str] = []
        self.refuse_rcpt: set[str] = set()
        self.refuse_data: set[str] = set()
        self.down = False  # while set, every connection is dropped at once, as by a server going away
        self.on_message = None  # called with the number of messages received so far, after each
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.rcpt_attempts.append(address)
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data & set(envelope.rcpt_tos):
            return "550 5.7.1 Message refused"
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            count = len(self.received)
        if self.on_message is not None:
            self.on_message(count)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        sink = self

        class CountingSMTP(SMTP):
            def connection_made(self, transport):
                if sink.down:
                    transport.abort()
                    return
                with sink._lock:
                    sink.connections += 1
                super().connection_made(transport)

        self._loop = asyncio.new_event_loop()
        self.socket.listen(128)
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                self._loop.create_server(lambda: CountingSMTP(self, hostname="sink.test"), sock=self.socket)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the SMTP sink did not start"

    def stop(self) -> None:
        if self._loop is None:
            self.socket.close()
            return

        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@pytest.fixture
def sink(app):
    """An SMTP server the app's MAIL_URL points at; reserved but not yet listening."""
    server = SmtpSink()
    app.config["MAIL_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def smtp(sink):
    sink.start()
    return sink


def queue_signatures(app, petition_id: int, addresses, **names) -> None:
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        for address in addresses:
            signing.sign(db.session, petition, signer(address, **names), now=utcnow())
        db.session.commit()


def deliver(app, now=None, **options) -> dict[str, int]:
    """Run the worker until nothing is due at `now`; totals of what it reported."""
    totals = {"sent": 0, "retried": 0, "failed": 0, "batches": 0}
    with app.app_context():
        while True:
            report = deliver_due(db.session, now or utcnow(), **options)
            if not report.claimed:
                return totals
            totals["batches"] += 1
            for key in ("sent", "retried", "failed"):
                totals[key] += getattr(report, key)


def outbox_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def addresses(n: int, prefix="signer") -> list[str]:
    return [f"{prefix}{i}@example.org" for i in range(n)]


def test_the_worker_keeps_one_smtp_connection_across_its_batches(app, petition_id, smtp):
    queue_signatures(app, petition_id, addresses(5))

    with app.app_context():
        totals = serve(db.session, once=True, interval=0, stopping=lambda: False, batch_size=3)

    assert totals == {"sent": 5, "retried": 0, "failed": 0}
    assert smtp.connections == 1, "one connection for both batches of three, not one per batch or message"
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(addresses(5))
    for received in smtp.received:
        assert received.mail_from == "petitions@petitions.test"
        assert "/confirm/" in received.message.get_body(("plain",)).get_content()
    assert {row.status for row in outbox_rows(app)} == {MailStatus.SENT}


def test_messages_wait_while_the_server_is_down_and_each_goes_out_once_it_is_back(app, petition_id, sink):
    queue_signatures(app, petition_id, addresses(4))
    now = utcnow()

    totals = deliver(app, now)

    assert totals["sent"] == 0 and totals["retried"] == 4 and totals["failed"] == 0
    rows = outbox_rows(app)
    assert len(rows) == 4
    for row in rows:
        assert row.status == MailStatus.QUEUED and row.attempts == 1
        assert row.next_attempt_at > now + timedelta(seconds=10), "the retry waits a while"
        assert row.claimed_by is None and row.last_error
    assert deliver(app, now)["batches"] == 0, "nothing is retried before its backoff ran out"

    sink.start()
    later = max(row.next_attempt_at for row in rows) + timedelta(seconds=1)
    assert deliver(app, later)["sent"] == 4
    assert deliver(app, later + timedelta(hours=2))["batches"] == 0

    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(addresses(4)), "each message exactly once"
    assert [(row.status, row.attempts) for row in outbox_rows(app)] == [(MailStatus.SENT, 1)] * 4


def test_the_mail_server_stopping_during_100_signings_loses_nothing_and_sends_each_once(
    app, petition_id, smtp, sign_form
):
    """Issue 6, fault (a): the worker keeps running while the server goes away for a third of the burst."""
    now = utcnow()
    for i, address in enumerate(addresses(100)):
        smtp.down = 30 <= i < 70
        assert sign_form(email=address).status_code == 303, "signing never waits for the mail server"
        if i % 10 == 9:
            now += timedelta(minutes=10)  # the worker's clock: each backoff has run out by its next pass
            deliver(app, now)
    deliver(app, now + timedelta(hours=2))

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 100, "every signature kept"
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(addresses(100)), "every mail, exactly once"
    rows = outbox_rows(app)
    assert {row.status for row in rows} == {MailStatus.SENT} and len(rows) == 100
    assert any(row.attempts >= 1 for row in rows), "some messages really met the stopped server"


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_550_answer_fails_the_message_for_good(app, petition_id, smtp, stage):
    (smtp.refuse_rcpt if stage == "RCPT" else smtp.refuse_data).add("nobody@example.org")
    queue_signatures(app, petition_id, ["nobody@example.org", "ana@example.org"])

    assert deliver(app) == {"sent": 1, "retried": 0, "failed": 1, "batches": 1}
    assert deliver(app, utcnow() + timedelta(days=2))["batches"] == 0

    refused, delivered = outbox_rows(app)
    assert refused.status == MailStatus.FAILED and "550" in refused.last_error
    assert refused.attempts == 0
    assert delivered.status == MailStatus.SENT
    assert smtp.rcpt_attempts.count("nobody@example.org") == 1, "a refused message is not tried again"
    assert [r.rcpt_tos for r in smtp.received] == [["ana@example.org"]]


def test_signer_and_petition_text_cannot_add_headers_or_recipients(app, make_petition, smtp):
    petition_id = make_petition(slug="inject", title="Stop cameras " + INJECTION_ENCODED)
    with app.app_context():
        # The title as an organiser could store it through some later editor: raw CR/LF included.
        db.session.get(Petition, petition_id).title = "Stop cameras " + INJECTION_RAW + " " + INJECTION_ENCODED
        db.session.commit()
    # Names straight into the service, past the form's own cleaning: the mail must hold up alone.
    queue_signatures(app, petition_id, ["ana@example.org"], first="Mallory" + INJECTION_ENCODED, last="X")
    queue_signatures(app, petition_id, ["bob@example.org"], first="Trudy" + INJECTION_RAW, last=INJECTION_RAW)

    assert deliver(app)["sent"] == 2

    assert len(smtp.received) == 2
    for address, name in [("ana@example.org", "Mallory"), ("bob@example.org", "Trudy")]:
        [received] = smtp.to(address)
        assert received.rcpt_tos == [address], "the envelope goes to the signer and nobody else"
        message = received.message
        assert set(message.keys()) == EXPECTED_HEADERS, "no header was added"
        assert not re.search(
            rb"(?im)^(bcc|cc|to|resent-[a-z-]+)\s*:(?!\s*" + re.escape(address.encode()) + rb"\s*$)",
            received.header_block,
        ), "no raw header line other than the one To"
        assert message.get_all("To") == [address]
        for header, value in message.items():
            assert name not in str(value), f"the signer's name reached the {header} header"
            assert "\n" not in str(value) and "\r" not in str(value), f"{header} spans several lines"
        assert str(message["Subject"]).startswith("Please confirm your signature: Stop cameras")
        assert name in message.get_body(("plain",)).get_content(), "the name still greets the signer in the body"


def test_every_message_is_whole_with_its_own_message_id_and_both_parts(app, petition_id, outbox):
    queue_signatures(app, petition_id, addresses(6))

    assert outbox.deliver() == 6

    files = sorted(outbox.folder.iterdir())
    assert len(files) == 6 and all(f.suffix == ".eml" and not f.name.startswith(".") for f in files), files
    messages = []
    for path in files:
        data = path.read_bytes()
        message = email.message_from_bytes(data, policy=email.policy.default)
        messages.append(message)
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert "/confirm/" in message.get_body(("html",)).get_content()
        assert data.rstrip().endswith(f"--{message.get_boundary()}--".encode()), "the file ends where the message does"
    assert len({m["Message-ID"] for m in messages}) == 6
    with app.app_context():
        ids = db.session.scalars(select(OutboxMessage.message_id)).all()
    assert sorted(ids) == sorted(m["Message-ID"] for m in messages), "the outbox records what was sent"


def test_smtp_messages_have_unique_message_ids_and_both_parts(app, petition_id, smtp):
    queue_signatures(app, petition_id, addresses(3))
    deliver(app)
    messages = [r.message for r in smtp.received]
    assert len({m["Message-ID"] for m in messages}) == 3
    for message in messages:
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.postgresql_only
def test_two_workers_deliver_a_shared_outbox_without_sending_anything_twice(app, petition_id, smtp):
    queue_signatures(app, petition_id, addresses(200))
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    totals: dict[str, dict] = {}

    def work(name: str):
        try:
            start.wait()
            totals[name] = deliver(app, worker=name, batch_size=10)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors, errors
    assert sum(t["sent"] for t in totals.values()) == 200
    assert all(t["sent"] > 0 for t in totals.values()), f"both workers took a share: {totals}"
    delivered = [r.rcpt_tos[0] for r in smtp.received]
    assert len(delivered) == 200 and sorted(set(delivered)) == sorted(addresses(200)), "each message exactly once"
    assert {row.status for row in outbox_rows(app)} == {MailStatus.SENT}


@pytest.mark.postgresql_only
def test_of_two_workers_one_listens_and_the_other_takes_over_when_it_stops(app, petition_id, outbox):
    """Each signature wakes one worker, not every worker (each woken one costs CPU for nothing); when
    the listening worker stops, the other listens within a second, and mail still leaves at once."""
    stops = {"first": threading.Event(), "second": threading.Event()}
    sent: dict[str, dict] = {}

    def work(name: str) -> None:
        with app.app_context():
            sent[name] = serve(db.session, once=False, interval=60, stopping=stops[name].is_set)

    def listeners() -> int:
        with app.app_context():
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            return db.session.scalar(text(query))

    def leaves_at_once(address: str) -> None:
        signed_at = time.monotonic()
        queue_signatures(app, petition_id, [address])
        while not outbox.to(address) and time.monotonic() - signed_at < 10:
            time.sleep(0.02)
        assert outbox.to(address) and time.monotonic() - signed_at < 2, "woken by the signature"

    threads = {name: threading.Thread(target=work, args=(name,)) for name in stops}
    threads["first"].start()
    time.sleep(0.5)  # the first one listens
    threads["second"].start()
    try:
        time.sleep(0.5)
        assert listeners() == 1
        leaves_at_once("ana@example.org")
        stops["first"].set()
        queue_signatures(app, petition_id, ["wake@example.org"])  # ends the first one's sleep
        threads["first"].join(30)
        assert not threads["first"].is_alive()
        deadline = time.monotonic() + 5  # the second one listens from its next look (within a second)
        while listeners() != 1:
            assert time.monotonic() < deadline, "nobody took over the listening"
            time.sleep(0.1)
        leaves_at_once("jan@example.org")
    finally:
        for stop in stops.values():
            stop.set()
        queue_signatures(app, petition_id, ["last@example.org"])
        for thread in threads.values():
            thread.join(30)
    assert set(sent) == {"first", "second"} and sent["second"]["sent"] >= 1


@pytest.mark.postgresql_only
def test_on_postgresql_a_new_signature_wakes_the_worker_at_once(app, petition_id, outbox):
    """The worker sleeps on LISTEN rather than polling: with a poll interval of a minute, an email
    still leaves within a moment of the signature."""
    stop = threading.Event()
    finished: list[dict] = []

    def work():
        with app.app_context():
            finished.append(serve(db.session, once=False, interval=60, stopping=stop.is_set))

    thread = threading.Thread(target=work)
    thread.start()
    try:
        time.sleep(0.5)  # the worker is asleep, listening
        signed_at = time.monotonic()
        queue_signatures(app, petition_id, ["ana@example.org"])
        while not outbox.to("ana@example.org") and time.monotonic() - signed_at < 10:
            time.sleep(0.02)
        assert outbox.to("ana@example.org"), "the email left"
        assert time.monotonic() - signed_at < 2, "woken by the signature, not by a poll a minute later"
    finally:
        stop.set()
        queue_signatures(app, petition_id, ["wake@example.org"])  # one more NOTIFY ends its sleep
        thread.join(30)
    assert finished and finished[0]["sent"] >= 1

"""The mail worker: claims due outbox rows, sends them, records the outcome.

A batch is claimed with a lease (`claimed_by`, `claimed_until`) in one short write transaction that
also reads what the messages need (the signer's sealed address and name, their language): one
statement on PostgreSQL, where `FOR UPDATE SKIP LOCKED` lets several workers take disjoint batches,
two on SQLite, under its single write lock. Messages are then composed and sent with no transaction
open, and marked sent a group at a time, in one statement per group. A crash resends at most the
messages of the group in flight (a confirmation email twice is harmless; none would not be).

Every write transaction begins as a write (on SQLite, `BEGIN IMMEDIATE` through `write_intent`): a
transaction that read first could not write once another writer had committed. When the database
fails in the middle of a batch, the worker hands back the claims of what it has not sent, so that
nothing waits out a lease, and keeps trying to record what it did send.

`serve` runs the worker until stopped: it keeps one SMTP connection for as long as it works, and on
PostgreSQL sleeps until the outbox is written to (LISTEN/NOTIFY) instead of polling. Campaign updates
(petition.mail.update_worker) go out only when the outbox has nothing due, and give way to it between
any two of their messages.
"""

import contextlib
import logging
import os
import secrets
import select
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from petition.db_engine import write_intent
from petition.mail.backends import PermanentFailure, TemporaryFailure, Unreachable, backend_from_url
from petition.mail.compose import Composer, Row, Undeliverable
from petition.mail.update_worker import UpdateSender
from petition.mail.update_worker import work_due as update_work_due
from petition.models import MailKind
from petition.services.outbox import WAKE_CHANNEL
from petition.services.sql import typed_text
from petition.timeutil import UTCDateTime, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 12
# Sent messages are recorded a group at a time: fewer write transactions (and on SQLite fewer turns
# at its one write lock), at the price of resending at most this many after a crash.
MARK_EVERY = 25
# On PostgreSQL a worker wakes on each NOTIFY; it then waits this long before claiming, so that in a
# burst it claims what a few dozen signers queued rather than one message. A batch of one costs about
# 5 ms of CPU per message (claim, mark, commit and two looks at the queues), a batch of 16 about 0.6
# (`bench/inprocess.py --batch N`); the email leaves this much later, which no one notices.
GATHER_SECONDS = 0.05
# How often a write that failed is tried again before the worker gives up on this batch.
WRITE_ATTEMPTS = 5
# Of several workers on PostgreSQL, one listens: the one holding this session advisory lock. The
# others look at the outbox every FOLLOWER_LOOK_SECONDS (taking their share of a backlog) and try for
# the lock each time, so one of them listens within that time once the listener's connection has
# ended. (A connection that went silent without ending keeps the lock until PostgreSQL notices;
# meanwhile mail still leaves within FOLLOWER_LOOK_SECONDS, from the others' looks.) When every worker
# listened, each signature woke them all and all but one found nothing left to claim, or split a
# small batch: on one 2-core machine two workers cost 0.6-0.8 ms more CPU per signature than one
# (`make bench`, --mail-workers).
LISTENER_LOCK = 0x6D61696C  # "mail"
FOLLOWER_LOOK_SECONDS = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour: a mail server back within hours loses nothing."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    claimed: list[int] = field(default_factory=list)


_DUE = """
    SELECT id FROM outbox
     WHERE status = 'queued' AND next_attempt_at <= :now AND (claimed_until IS NULL OR claimed_until < :now)
     ORDER BY id LIMIT :size"""
_WITH_SIGNERS = """
    SELECT c.id, c.kind, c.attempts, c.petition_id, c.signature_id, c.organiser_id, c.detail,
           s.id IS NOT NULL AS signer_exists, s.email_sealed, s.first_name_sealed, s.locale
      FROM {claimed} c LEFT JOIN signatures s ON s.id = c.signature_id"""
_CLAIM_POSTGRESQL = typed_text(
    f"""
    WITH due AS ({_DUE} FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE outbox SET claimed_by = :worker, claimed_until = :until FROM due WHERE outbox.id = due.id
        RETURNING outbox.*)
    {_WITH_SIGNERS.format(claimed="claimed")} ORDER BY c.id""",  # noqa: S608 (constants only)
    now=UTCDateTime,
    until=UTCDateTime,
)
_CLAIM_SQLITE = typed_text(
    f"UPDATE outbox SET claimed_by = :worker, claimed_until = :until WHERE id IN ({_DUE}) RETURNING id",  # noqa: S608
    now=UTCDateTime,
    until=UTCDateTime,
)
_CLAIMED_SQLITE = text(f"{_WITH_SIGNERS.format(claimed='outbox')} WHERE c.id IN :ids ORDER BY c.id").bindparams(
    bindparam("ids", expanding=True)
)
_ANY_DUE = typed_text(f"SELECT EXISTS ({_DUE})", now=UTCDateTime)
_MARK_SENT = typed_text(
    """
    UPDATE outbox SET status = 'sent', sent_at = :now, claimed_by = NULL, claimed_until = NULL,
           message_id = '<' || id || '.' || :nonce || '@' || :domain || '>'
     WHERE id IN :ids AND claimed_by = :worker""",
    now=UTCDateTime,
).bindparams(bindparam("ids", expanding=True))
_FINISH = typed_text(
    """
    UPDATE outbox SET status = :status, attempts = :attempts, next_attempt_at = :next_attempt_at,
           last_error = :last_error, claimed_by = NULL, claimed_until = NULL
     WHERE id = :id AND claimed_by = :worker""",
    next_attempt_at=UTCDateTime,
)
_RELEASE = text(
    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id IN :ids AND claimed_by = :worker"
).bindparams(bindparam("ids", expanding=True))


def _write(engine: Engine, work):
    """One write transaction, begun as a write."""
    with write_intent(), engine.begin() as connection:
        return work(connection)


def _write_persistently(engine: Engine, work, attempts: int = WRITE_ATTEMPTS) -> bool:
    """`_write`, tried again over a few seconds while the database refuses (locked, restarting)."""
    for attempt in range(attempts):
        try:
            _write(engine, work)
            return True
        except SQLAlchemyError as error:
            log.warning("mail worker: database write failed (%s), attempt %s", type(error).__name__, attempt + 1)
            if attempt + 1 < attempts:
                time.sleep(0.2 * 2**attempt)
    return False


def any_due(engine: Engine, now: datetime) -> bool:
    """A read, so an idle worker looking at an empty outbox never takes SQLite's write lock."""
    with engine.connect() as connection:
        return bool(connection.execute(_ANY_DUE, {"now": now, "size": 1}).scalar())


def claim_batch(engine: Engine, worker: str, now: datetime, size: int) -> list[Row]:
    params = {"worker": worker, "now": now, "until": now + LEASE, "size": size}

    def claim(connection: Connection) -> list[Row]:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(_CLAIM_POSTGRESQL, params).all()
        else:
            ids = connection.execute(_CLAIM_SQLITE, params).scalars().all()
            rows = connection.execute(_CLAIMED_SQLITE, {"ids": ids}).all() if ids else []
        return [Row(*row) for row in rows]

    return _write(engine, claim)


@dataclass
class _Batch:
    """The rows one `deliver_due` claimed, and what became of each that is not yet recorded."""

    worker: str
    nonce: str
    rows: dict[int, Row]
    sent: list[int] = field(default_factory=list)  # sent, not yet marked
    outcomes: list[dict] = field(default_factory=list)  # failed or to retry, not yet written
    settled: set[int] = field(default_factory=set)  # recorded in the database, or handed back

    def unsent(self) -> list[int]:
        taken = self.settled | set(self.sent) | {o["id"] for o in self.outcomes}
        return [i for i in self.rows if i not in taken]


class Mailer:
    """A worker's means of sending: its composer (with its cached templates), its connection to the
    mail server, both kept from one batch to the next, and whatever it could not yet record because
    the database refused (recorded, and claims handed back, as soon as the database takes writes)."""

    def __init__(self, write_attempts: int = WRITE_ATTEMPTS, worker: str | None = None):
        self.composer = Composer()
        self.backend = backend_from_url(current_app.config["MAIL_URL"])
        self.write_attempts = write_attempts
        self.unsettled: list[_Batch] = []
        self.updates = UpdateSender(self.backend, self.composer, worker or worker_name())

    def close(self) -> None:
        self.backend.close()

    def deliver_due(self, session: Session, now: datetime, worker: str | None = None, size: int = 100):
        engine = session.get_bind()
        report = DeliveryReport()
        if not self._settle(engine, now):
            return report  # the database still refuses writes: claim nothing more
        batch = _Batch(worker or worker_name(), secrets.token_hex(6), {})
        batch.rows = {row.id: row for row in claim_batch(engine, batch.worker, now, size)}
        report.claimed = sorted(batch.rows)
        if not batch.rows:
            return report
        self.unsettled.append(batch)
        try:
            self._send(session, engine, batch, report, now)
        except SQLAlchemyError as error:
            log.warning("mail worker: database error in a batch (%s); recording what was sent", type(error).__name__)
        finally:
            # Whatever stopped the batch (a database error, a bug), what was sent is recorded and the
            # claims of the rest are handed back at once, not held for the rest of their lease; if
            # the database refuses even that, it is done before this worker claims anything again.
            session.rollback()
            self._settle(engine, now)
        return report

    def _send(self, session: Session, engine: Engine, batch: _Batch, report: DeliveryReport, now: datetime):
        for row in batch.rows.values():
            try:
                if row.kind == MailKind.UPDATE_TEST:
                    message_id = self.composer.message_id(row.id, batch.nonce)
                    outgoing = self.updates.composer.compose_test(session, row, message_id)
                else:
                    outgoing = self.composer.compose(session, row, batch.nonce)
                self.backend.send(outgoing.data, self.composer.sender, outgoing.recipient)
            except (Undeliverable, PermanentFailure) as error:
                batch.outcomes.append(_outcome(row, failed=True, reason=str(error), now=now))
            except Unreachable as error:
                # No server to talk to: everything left in the batch waits and tries again.
                for waiting in batch.unsent():
                    batch.outcomes.append(_outcome(batch.rows[waiting], reason=str(error), now=now))
                break
            except TemporaryFailure as error:
                batch.outcomes.append(_outcome(row, reason=str(error), now=now))
            else:
                batch.sent.append(row.id)
                report.sent += 1
            if len(batch.sent) >= MARK_EVERY:
                session.rollback()  # no read transaction stays open while the worker writes
                if not self._record(engine, batch, now):
                    break  # the database refuses: send no more of this batch
        for outcome in batch.outcomes:
            if outcome["status"] == "failed":
                report.failed += 1
            else:
                report.retried += 1

    def _record(self, engine: Engine, batch: _Batch, now: datetime, release: bool = False) -> bool:
        """Write what became of the batch's messages so far (and with `release`, hand back the claims
        of those not sent) in one transaction. False if the database refused."""
        sent, outcomes = list(batch.sent), list(batch.outcomes)
        unsent = batch.unsent() if release else []
        params = {"ids": sent, "now": now, "nonce": batch.nonce, "domain": self.composer.domain}

        def record(connection: Connection) -> None:
            if sent:
                connection.execute(_MARK_SENT, {**params, "worker": batch.worker})
            for outcome in outcomes:
                connection.execute(_FINISH, {**outcome, "worker": batch.worker})
            if unsent:
                connection.execute(_RELEASE, {"ids": unsent, "worker": batch.worker})

        if not _write_persistently(engine, record, self.write_attempts):
            return False
        batch.settled.update(sent, (o["id"] for o in outcomes), unsent)
        batch.sent.clear()
        batch.outcomes.clear()
        return True

    def _settle(self, engine: Engine, now: datetime) -> bool:
        """Record every batch not yet fully recorded; True when nothing is owed any more."""
        for batch in list(self.unsettled):
            if not self._record(engine, batch, now, release=True):
                log.error("mail worker: the database refuses writes; %s message(s) await recording", len(batch.rows))
                return False
            self.unsettled.remove(batch)
        return True


def _outcome(row: Row, *, now: datetime, reason: str, failed: bool = False) -> dict:
    """The row's next state after a failed attempt: failed for good, or queued again after a wait."""
    attempts = row.attempts if failed else row.attempts + 1
    gives_up = failed or attempts >= MAX_ATTEMPTS
    return {
        "id": row.id,
        "status": "failed" if gives_up else "queued",
        "attempts": attempts,
        "next_attempt_at": now if gives_up else now + backoff(attempts),
        "last_error": reason[:500],
    }


def deliver_due(
    session: Session, now: datetime, worker: str | None = None, batch_size: int = 100, mailer: Mailer | None = None
) -> DeliveryReport:
    """Send one batch of due messages. Returns what happened; an empty `claimed` means nothing was due."""
    own = mailer is None
    mailer = mailer or Mailer()
    try:
        return mailer.deliver_due(session, now, worker, batch_size)
    finally:
        if own:
            mailer.close()


class Waker:
    """Waits for new mail: on PostgreSQL a LISTEN on the channel `petition.services.outbox` notifies
    (in one worker at a time: see LISTENER_LOCK), elsewhere (and as a safety net) a plain timeout."""

    def __init__(self, engine: Engine):
        self.connection = None
        self.leading = False  # this worker holds LISTENER_LOCK and listens
        self.url = None
        if engine.dialect.name == "postgresql":
            self.url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def listens(self) -> bool:
        return self.url is not None

    def notified(self) -> bool:
        """Whether a notification arrived, without waiting (and forgetting it)."""
        if self.connection is None:
            return False
        import psycopg

        try:
            ready, _, _ = select.select([self.connection.fileno()], [], [], 0)
            return bool(ready) and any(True for _ in self.connection.notifies(timeout=0))
        except (psycopg.Error, OSError):
            self.close()  # listened again at the next wait; meanwhile the outbox is asked by the clock
            return False

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True if a notification came (all pending ones are taken)."""
        if not self.listens:
            time.sleep(timeout)
            return False
        import psycopg

        try:
            if self.connection is None:
                self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
            if not self.leading:
                self._try_to_lead()
                if not self.leading:
                    time.sleep(min(timeout, FOLLOWER_LOOK_SECONDS))
                # Listening from now on, or not at all: either way the caller looks at the outbox
                # next, for what came before.
                return False
            # Block on the socket rather than in psycopg, so that a signal (SIGTERM) ends the wait.
            ready, _, _ = select.select([self.connection.fileno()], [], [], timeout)
            return bool(ready) and sum(1 for _ in self.connection.notifies(timeout=0)) > 0
        except (psycopg.Error, OSError) as error:
            # The database went away: listen again once it is back; meanwhile, wait as a poller would.
            log.warning("mail worker: cannot listen for new mail (%s)", type(error).__name__)
            self.close()
            time.sleep(min(timeout, 2.0))
            return False

    def _try_to_lead(self) -> None:
        """Become the listener if no other worker is (the lock goes with its connection)."""
        self.leading = self.connection.execute("SELECT pg_try_advisory_lock(%s)", (LISTENER_LOCK,)).fetchone()[0]
        if self.leading:
            self.connection.execute(f"LISTEN {WAKE_CHANNEL}")

    def gather(self) -> None:
        """After a wake-up, let the burst that caused it queue a little more mail before the batch is
        claimed: the notifications that arrive meanwhile are for that same batch."""
        time.sleep(GATHER_SECONDS)
        self.wait(0)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None
        self.leading = False


class Preemption:
    """Between two update messages: is other mail due? On PostgreSQL the outbox's NOTIFY says so at
    once (then the outbox is asked, since starting an update notifies too); elsewhere, and as a net
    for a lost notification, the outbox is asked at most every `every` seconds."""

    def __init__(self, engine: Engine, waker: "Waker | None", every: float = 0.25):
        self.engine, self.waker, self.every = engine, waker, every
        self.asked = time.monotonic()

    def __call__(self) -> bool:
        notified = self.waker is not None and self.waker.notified()
        if not notified and time.monotonic() - self.asked < self.every:
            return False
        self.asked = time.monotonic()
        return any_due(self.engine, utcnow())


def serve(session: Session, *, once: bool, interval: float, stopping, batch_size: int = 100) -> dict[str, int]:
    """Deliver until `stopping()` (or, with `once`, until nothing is due). Returns the totals.

    Each turn delivers a batch of the outbox; only when the outbox had less than a batch due does it
    send a slice of a campaign update, which gives way as soon as the outbox has mail again."""
    engine = session.get_bind()
    totals = {"sent": 0, "retried": 0, "failed": 0}
    mailer = Mailer()
    waker = None if once else Waker(engine)
    if waker is not None:
        waker.wait(0)  # listening before the first look, so no NOTIFY falls between the two
    preempt = Preemption(engine, waker)
    try:
        while not stopping():
            try:
                now = utcnow()
                report = mailer.deliver_due(session, now, size=batch_size) if any_due(engine, now) else None
                if report is None or len(report.claimed) < batch_size:
                    now = utcnow()
                    news = mailer.updates.deliver(session, now, preempt) if update_work_due(engine, now) else None
                else:
                    news = None
            except SQLAlchemyError as error:
                # The database is away: wait for it rather than die.
                session.rollback()
                log.warning("mail-worker: database unavailable (%s), retrying", type(error).__name__)
                time.sleep(2)
                continue
            for key in totals:
                totals[key] += (getattr(report, key) if report else 0) + (getattr(news, key) if news else 0)
            if report is not None and len(report.claimed) == batch_size:
                continue  # more is due: no waiting
            if news is not None and news.claimed:
                continue
            if once:
                break
            # Woken by a NOTIFY on PostgreSQL, with a look every five seconds for retries that came due.
            if waker.wait(max(interval, 5.0) if waker.listens else interval) and not stopping():
                waker.gather()
    except KeyboardInterrupt:
        pass  # Ctrl-C: the batch in hand has been recorded or handed back
    finally:
        mailer.close()
        if waker is not None:
            waker.close()
    return totals

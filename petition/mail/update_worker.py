"""Sending campaign updates: served by the mail workers only when no other mail is due, a slice at a
time, each message at most once.

Priority. `serve` (petition.mail.worker) delivers the outbox first (confirmations, organisers'
notices, data reports) and turns to updates only when the outbox has nothing due; between two update
messages it looks again (on PostgreSQL when a NOTIFY arrives, otherwise a few times a second), and
hands the rest of its slice back as soon as other mail is due. A confirmation email waits for at most
the one update message in the worker's hands.

Scale. Nobody's address is copied anywhere: a slice is claimed by walking the petition's signatures
from the update's cursor, in (confirmed_at, id) order along the index the exports use, and only
the slice's messages get a row in `update_deliveries` (a reference to the signature), deleted once
the outcome is counted in `update_progress`. Queueing a million recipients is therefore one count.

At most once. Before a message goes to the mail server its row is marked `sending`, in a committed
transaction that also records what became of the previous message (so one write per message). A
`sending` row is never sent again: if the worker dies (SIGKILL, power) the row's lease runs out and
it is counted `in_doubt`, the one message that may or may not have arrived. A row only goes back to
`queued` after an answer that proves it was not delivered (a 4xx, or no connection at all); a
connection lost while the message itself was going out also counts as in doubt. Two workers never
hold one row: claims take row locks (`SKIP LOCKED`) on PostgreSQL and the cursor moves under the
update's row lock, and every mark is conditional on the worker's own claim.
"""

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, insert, or_, select, text, true, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from petition.db_engine import write_intent
from petition.mail.backends import MaybeDelivered, PermanentFailure, TemporaryFailure, Unreachable
from petition.mail.compose import Undeliverable
from petition.mail.update_compose import Recipient, UpdateComposer
from petition.models import Audience, CampaignUpdate, Signature, UpdateDelivery, UpdateStatus
from petition.services.sql import typed_text
from petition.services.updates import audience_filter
from petition.timeutil import UTCDateTime, utcnow

log = logging.getLogger(__name__)

SLICE = 50
MAX_ATTEMPTS = 12
SHARDS = 16
COUNTERS = ("sent", "failed", "in_doubt", "skipped")

_SENDING_UPDATES = (
    select(CampaignUpdate.id, CampaignUpdate.petition_id, CampaignUpdate.audience, CampaignUpdate.started_at,
           CampaignUpdate.walk_done)
    .where(CampaignUpdate.status == UpdateStatus.SENDING)
    .order_by(CampaignUpdate.id)
)  # fmt: skip
_DUE = """
    SELECT signature_id FROM update_deliveries
     WHERE update_id = :u AND status = 'queued' AND next_attempt_at <= :now
       AND (claimed_until IS NULL OR claimed_until < :now)
     ORDER BY signature_id LIMIT :n"""
_CLAIM_DUE = (
    "UPDATE update_deliveries SET claimed_by = :w, claimed_until = :until"
    " WHERE update_id = :u AND signature_id IN ({due}) RETURNING signature_id"
)
_CLAIMED = text(
    """
    SELECT d.signature_id, d.attempts, s.email_sealed, s.first_name_sealed, s.locale
      FROM update_deliveries d JOIN signatures s ON s.id = d.signature_id
     WHERE d.update_id = :u AND d.signature_id IN :ids ORDER BY d.signature_id"""
).bindparams(bindparam("ids", expanding=True))
_ELIGIBLE = "SELECT 1 FROM signatures s WHERE s.id = :s AND s.unsubscribed_at IS NULL AND length(s.email_sealed) > 0"
_MARK = """
    UPDATE update_deliveries SET status = 'sending', claimed_until = :until
     WHERE update_id = :u AND signature_id = :s AND status = 'queued' AND claimed_by = :w
       AND EXISTS (SELECT 1 FROM campaign_updates WHERE id = :u AND status = 'sending')
       AND EXISTS (SELECT 1 FROM signatures s WHERE s.id = :s AND s.unsubscribed_at IS NULL
                   AND length(s.email_sealed) > 0)"""
_MARK_SENDING = typed_text(_MARK, until=UTCDateTime)
_DROP_INELIGIBLE = text(
    "DELETE FROM update_deliveries WHERE update_id = :u AND signature_id = :s AND status = 'queued'"  # noqa: S608
    f" AND claimed_by = :w AND NOT EXISTS ({_ELIGIBLE})"
)
_DONE = text(
    "DELETE FROM update_deliveries"
    " WHERE update_id = :u AND signature_id = :s AND status = 'sending' AND claimed_by = :w"
)
_AGAIN = typed_text(
    """
    UPDATE update_deliveries SET status = 'queued', attempts = :attempts, next_attempt_at = :next_attempt_at,
           last_error = :last_error, claimed_by = NULL, claimed_until = NULL
     WHERE update_id = :u AND signature_id = :s AND status = 'sending' AND claimed_by = :w""",
    next_attempt_at=UTCDateTime,
)
_RELEASE = text(
    "UPDATE update_deliveries SET claimed_by = NULL, claimed_until = NULL"
    " WHERE update_id = :u AND signature_id IN :ids AND status = 'queued' AND claimed_by = :w"
).bindparams(bindparam("ids", expanding=True))
_EXPIRED = typed_text(
    "SELECT update_id, signature_id FROM update_deliveries WHERE status = 'sending' AND claimed_until < :now",
    now=UTCDateTime,
)
_FORGET = text("DELETE FROM update_deliveries WHERE update_id = :u AND signature_id = :s AND status = 'sending'")
_COUNT = text(
    """
    INSERT INTO update_progress (update_id, shard, sent, failed, in_doubt, skipped, unsubscribed)
    VALUES (:u, :shard, :sent, :failed, :in_doubt, :skipped, 0)
    ON CONFLICT (update_id, shard) DO UPDATE SET
        sent = update_progress.sent + excluded.sent, failed = update_progress.failed + excluded.failed,
        in_doubt = update_progress.in_doubt + excluded.in_doubt, skipped = update_progress.skipped + excluded.skipped"""
)
# PostgreSQL: the usual step (a message's outcome counted, the next one marked) as one statement, one
# round trip: data-modifying CTEs all run, whether or not the final SELECT reads them.
_STEP_POSTGRESQL = typed_text(
    f"""
    WITH done AS (
        DELETE FROM update_deliveries
         WHERE update_id = :u AND signature_id = :done AND status = 'sending' AND claimed_by = :w RETURNING 1),
    counted AS (
        INSERT INTO update_progress (update_id, shard, sent, failed, in_doubt, skipped, unsubscribed)
        SELECT :u, :shard, :sent, :failed, :in_doubt, 0, 0 FROM done
        ON CONFLICT (update_id, shard) DO UPDATE SET
            sent = update_progress.sent + excluded.sent, failed = update_progress.failed + excluded.failed,
            in_doubt = update_progress.in_doubt + excluded.in_doubt),
    marked AS ({_MARK} RETURNING 1)
    SELECT count(*) FROM marked""",  # noqa: S608 (constants only)
    until=UTCDateTime,
)
_IN_HAND = text("SELECT count(*) FROM update_deliveries WHERE update_id = :u")
_TOTALS = text(
    "SELECT coalesce(sum(sent), 0), coalesce(sum(failed), 0), coalesce(sum(in_doubt), 0), coalesce(sum(skipped), 0)"
    " FROM update_progress WHERE update_id = :u"
)
_EVENT = typed_text(
    "INSERT INTO update_events (update_id, organiser_email, action, detail, created_at)"
    " VALUES (:u, '', 'finished', :detail, :now)",
    now=UTCDateTime,
)
_WORK_DUE = typed_text(
    """
    SELECT EXISTS (
      SELECT 1 FROM campaign_updates u WHERE u.status = 'sending' AND (
        NOT u.walk_done
        OR NOT EXISTS (SELECT 1 FROM update_deliveries d WHERE d.update_id = u.id)
        OR EXISTS (SELECT 1 FROM update_deliveries d WHERE d.update_id = u.id AND (
             (d.status = 'queued' AND d.next_attempt_at <= :now AND (d.claimed_until IS NULL OR d.claimed_until < :now))
             OR (d.status = 'sending' AND d.claimed_until < :now)))))""",
    now=UTCDateTime,
)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def work_due(engine: Engine, now: datetime) -> bool:
    """A read: is any update waiting to be walked, tried again, taken back from a dead worker or
    finished? An idle worker asks this without taking SQLite's write lock."""
    with engine.connect() as connection:
        return bool(connection.execute(_WORK_DUE, {"now": now}).scalar())


@dataclass
class _Outcome:
    """What became of a message marked `sending`, until it is written with the next mark."""

    signature_id: int
    counter: str | None = None  # sent, failed or in_doubt: the row goes; None: it is queued again
    attempts: int = 0
    reason: str = ""
    retry_at: datetime | None = None
    stop: bool = False  # no mail server: the rest of the slice waits


@dataclass
class _Slice:
    update_id: int
    recipients: list[tuple[Recipient, int]]  # with each one's attempts so far
    worker: str
    shard: int
    pending: _Outcome | None = None
    handled: set[int] = field(default_factory=set)  # marked, skipped or given up: not to release

    def unsent(self) -> list[int]:
        return [r.signature_id for r, _ in self.recipients if r.signature_id not in self.handled]

    def owes(self) -> bool:
        return self.pending is not None or bool(self.unsent())

    def counts(self, outcome: _Outcome | None = None, skipped: int = 0) -> dict[str, int]:
        values = dict.fromkeys(COUNTERS, 0)
        if outcome is not None and outcome.counter:
            values[outcome.counter] += 1
        values["skipped"] += skipped
        return {"u": self.update_id, "shard": self.shard, **values}


@dataclass
class SliceReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    in_doubt: int = 0
    skipped: int = 0
    claimed: list[int] = field(default_factory=list)


class UpdateSender:
    """The update side of one mail worker: it shares the worker's mail server connection."""

    def __init__(self, backend, composer, worker: str):
        self.backend = backend
        self.composer = UpdateComposer(composer)
        self.sender = composer.sender
        self.worker = worker
        self.shard = zlib.crc32(worker.encode()) % SHARDS
        # A claim not acted on for this long is taken back (the worker died); a `sending` row past it is in doubt.
        self.lease = timedelta(seconds=current_app.config["UPDATE_LEASE_SECONDS"])
        self.owed: list[_Slice] = []  # slices whose last outcome or release the database refused

    def deliver(self, session: Session, now: datetime, preempt: Callable[[], bool] = lambda: False) -> SliceReport:
        """Claim one slice of the oldest update with work to do and send it, stopping early when
        `preempt()` says other mail is due. Returns what happened; an empty `claimed` means nothing."""
        engine = session.get_bind()
        report = SliceReport()
        if not self._settle(engine):
            return report
        claimed = _write(engine, lambda c: self._claim(c, now, SLICE))
        if claimed is None:
            return report
        report.claimed = [r.signature_id for r, _ in claimed.recipients]
        self.owed.append(claimed)
        try:
            self._send(session, engine, claimed, report, now, preempt)
        except SQLAlchemyError as error:
            log.warning("mail worker: database error in an update slice (%s)", type(error).__name__)
        finally:
            session.rollback()
            self._settle(engine)
        return report

    # Claiming ------------------------------------------------------------------------------------
    def _claim(self, connection: Connection, now: datetime, size: int) -> _Slice | None:
        self._take_back_expired(connection, now)
        for row in connection.execute(_SENDING_UPDATES).all():
            ids = self._claim_due(connection, row.id, now, size)
            if len(ids) < size and not row.walk_done:
                ids += self._walk(connection, row, now, size - len(ids))
            if ids:
                found = connection.execute(_CLAIMED, {"u": row.id, "ids": ids}).all()
                recipients = [(Recipient(r[0], r[2], r[3], r[4]), r[1]) for r in found]
                return _Slice(row.id, recipients, self.worker, self.shard)
            self._finish_if_done(connection, row.id, now)
        return None

    def _claim_due(self, connection: Connection, update_id: int, now: datetime, size: int) -> list[int]:
        """Messages to try again, and claims a dead worker left: locked rows are another worker's."""
        due = _DUE + (" FOR UPDATE SKIP LOCKED" if connection.dialect.name == "postgresql" else "")
        claim = typed_text(_CLAIM_DUE.format(due=due), now=UTCDateTime, until=UTCDateTime)
        params = {"u": update_id, "now": now, "until": now + self.lease, "n": size, "w": self.worker}
        return list(connection.execute(claim, params).scalars())

    def _walk(self, connection: Connection, row, now: datetime, size: int) -> list[int]:
        """The next signers after the cursor, under the update's row lock, each given a claimed row."""
        cursor = _locked(connection, row.id)
        if cursor.status != UpdateStatus.SENDING or cursor.walk_done:
            return []
        walked_at, walked_id = cursor.walked_at, cursor.walked_id
        after = true()
        if walked_at is not None:
            after = and_(
                Signature.confirmed_at >= walked_at,
                or_(Signature.confirmed_at > walked_at, Signature.id > walked_id),
            )
        found = connection.execute(
            select(Signature.id, Signature.confirmed_at)
            .where(*audience_filter(row.petition_id, Audience(row.audience), row.started_at), after)
            .order_by(Signature.confirmed_at, Signature.id)
            .limit(size)
        ).all()
        if found:
            connection.execute(
                insert(UpdateDelivery.__table__),
                [
                    {"update_id": row.id, "signature_id": s.id, "status": "queued", "attempts": 0,
                     "next_attempt_at": now, "claimed_by": self.worker, "claimed_until": now + self.lease}
                    for s in found
                ],
            )  # fmt: skip
        last = found[-1] if found else None
        connection.execute(
            update(CampaignUpdate)
            .where(CampaignUpdate.id == row.id)
            .values(
                walked_at=last.confirmed_at if last else walked_at,
                walked_id=last.id if last else walked_id,
                walk_done=len(found) < size,
            )
        )
        return [s.id for s in found]

    def _take_back_expired(self, connection: Connection, now: datetime) -> None:
        """Rows left `sending` by a worker that died: maybe delivered, so never sent again, counted in doubt."""
        for update_id, signature_id in connection.execute(_EXPIRED, {"now": now}).all():
            if connection.execute(_FORGET, {"u": update_id, "s": signature_id}).rowcount:
                connection.execute(_COUNT, {**dict.fromkeys(COUNTERS, 0), "u": update_id, "shard": self.shard,
                                            "in_doubt": 1})  # fmt: skip
                log.warning("update %s: a message was being sent by a worker that stopped; counted in doubt", update_id)

    def _finish_if_done(self, connection: Connection, update_id: int, now: datetime) -> None:
        """The walk is over and no message is in anyone's hands: the update is sent. Logged once."""
        cursor = _locked(connection, update_id)
        in_hand = connection.execute(_IN_HAND, {"u": update_id}).scalar()
        if cursor.status != UpdateStatus.SENDING or not cursor.walk_done or in_hand:
            return
        recipients = cursor.recipients
        sent, failed, in_doubt, skipped = connection.execute(_TOTALS, {"u": update_id}).one()
        # Those counted when sending started whose turn never came: withdrawn, unsubscribed or purged since.
        unreached = max(0, recipients - sent - failed - in_doubt - skipped)
        if unreached:
            connection.execute(_COUNT, {**dict.fromkeys(COUNTERS, 0), "u": update_id, "shard": self.shard,
                                        "skipped": unreached})  # fmt: skip
        finished = connection.execute(
            update(CampaignUpdate)
            .where(CampaignUpdate.id == update_id, CampaignUpdate.status == UpdateStatus.SENDING)
            .values(status=UpdateStatus.SENT, finished_at=now)
        ).rowcount
        if finished:
            detail = f"{sent:,} sent, {failed:,} failed, {in_doubt:,} in doubt, {skipped + unreached:,} skipped"
            connection.execute(_EVENT, {"u": update_id, "detail": detail, "now": now})

    # Sending --------------------------------------------------------------------------------------
    def _send(self, session, engine, claimed: _Slice, report: SliceReport, now: datetime, preempt) -> None:
        for recipient, attempts in claimed.recipients:
            if preempt():
                break  # other mail is due: the rest of the slice is handed back below
            marked = self._step(engine, claimed, mark=recipient.signature_id, now=now)
            if marked is None:
                break  # the database refuses writes: stop here, record later
            if not marked:
                # Withdrawn (its row went with the signature), unsubscribed or purged since the walk
                # (dropped and counted here), paused (handed back below), or another worker's now.
                if _write(engine, lambda c, r=recipient: self._drop_if_ineligible(c, claimed, r.signature_id)):
                    claimed.handled.add(recipient.signature_id)
                    report.skipped += 1
                elif not _still_sending(engine, claimed.update_id):
                    break
                continue
            claimed.handled.add(recipient.signature_id)
            claimed.pending = self._attempt(session, claimed.update_id, recipient, attempts, now, report)
            if claimed.pending.stop:
                break  # no mail server: the rest waits for the next slice
        self._step(engine, claimed, mark=None, now=now, release=True)

    def _attempt(self, session, update_id: int, recipient: Recipient, attempts: int, now, report) -> _Outcome:
        signature_id = recipient.signature_id
        try:
            outgoing = self.composer.compose(session, update_id, recipient)
            self.backend.send(outgoing.data, self.sender, outgoing.recipient)
        except (Undeliverable, PermanentFailure, LookupError, ValueError) as error:
            report.failed += 1
            return _Outcome(signature_id, "failed", reason=str(error))
        except MaybeDelivered as error:
            report.in_doubt += 1
            return _Outcome(signature_id, "in_doubt", reason=str(error))
        except TemporaryFailure as error:
            tries = attempts + 1
            if tries >= MAX_ATTEMPTS:
                report.failed += 1
                return _Outcome(signature_id, "failed", reason=str(error))
            report.retried += 1
            return _Outcome(signature_id, None, tries, str(error), now + backoff(tries), isinstance(error, Unreachable))
        report.sent += 1
        return _Outcome(signature_id, "sent")

    def _step(self, engine, claimed: _Slice, *, mark: int | None, now: datetime, release: bool = False):
        """One transaction: record the previous message's outcome, then mark the next one `sending`
        (or, at the end, hand back what was not sent). True if marked; None if the database refused."""
        outcome = claimed.pending
        unsent = claimed.unsent() if release else []

        def step(connection: Connection) -> bool:
            if connection.dialect.name == "postgresql" and not unsent and (outcome is None or outcome.counter):
                return self._step_postgresql(connection, claimed, outcome, mark) == 1
            if outcome is not None:
                _record(connection, claimed, outcome)
            if unsent:
                connection.execute(_RELEASE, {"u": claimed.update_id, "ids": unsent, "w": claimed.worker})
            if mark is None:
                return False
            params = {"u": claimed.update_id, "s": mark, "w": claimed.worker, "until": utcnow() + self.lease}
            return connection.execute(_MARK_SENDING, params).rowcount == 1

        try:
            marked = _write(engine, step)
        except SQLAlchemyError as error:
            log.warning("mail worker: could not record an update message (%s)", type(error).__name__)
            return None
        claimed.pending = None
        if release:
            claimed.handled.update(unsent)
        return marked

    def _step_postgresql(self, connection: Connection, claimed: _Slice, outcome: _Outcome | None, mark) -> int:
        counts = claimed.counts(outcome)
        params = {**counts, "done": outcome.signature_id if outcome else -1, "s": -1 if mark is None else mark,
                  "w": claimed.worker, "until": utcnow() + self.lease}  # fmt: skip
        return connection.execute(_STEP_POSTGRESQL, params).scalar()

    def _drop_if_ineligible(self, connection: Connection, claimed: _Slice, signature_id: int) -> int:
        params = {"u": claimed.update_id, "s": signature_id, "w": claimed.worker}
        dropped = connection.execute(_DROP_INELIGIBLE, params).rowcount
        if dropped:
            connection.execute(_COUNT, claimed.counts(skipped=1))
        return dropped

    def _settle(self, engine: Engine) -> bool:
        """Record every slice's last outcome and hand back its unsent claims; True when nothing is owed."""
        for claimed in list(self.owed):
            for attempt in range(5):
                if not claimed.owes():
                    break
                if self._step(engine, claimed, mark=None, now=utcnow(), release=True) is not None:
                    break
                time.sleep(0.2 * 2**attempt)
            else:
                log.error("mail worker: the database refuses writes; an update slice awaits recording")
                return False
            self.owed.remove(claimed)
        return True


def _record(connection: Connection, claimed: _Slice, outcome: _Outcome) -> None:
    params = {"u": claimed.update_id, "s": outcome.signature_id, "w": claimed.worker}
    if outcome.counter is None:
        connection.execute(_AGAIN, {**params, "attempts": outcome.attempts, "next_attempt_at": outcome.retry_at,
                                    "last_error": outcome.reason[:500]})  # fmt: skip
    elif connection.execute(_DONE, params).rowcount:
        connection.execute(_COUNT, claimed.counts(outcome))


def _locked(connection: Connection, update_id: int):
    """The update's cursor and status, its row locked until the transaction ends (on PostgreSQL; on
    SQLite the transaction holds the one write lock anyway)."""
    return connection.execute(
        select(
            CampaignUpdate.status, CampaignUpdate.walked_at, CampaignUpdate.walked_id, CampaignUpdate.walk_done,
            CampaignUpdate.recipients,
        )
        .where(CampaignUpdate.id == update_id)
        .with_for_update()
    ).one()  # fmt: skip


def _still_sending(engine: Engine, update_id: int) -> bool:
    with engine.connect() as connection:
        status = connection.execute(select(CampaignUpdate.status).where(CampaignUpdate.id == update_id)).scalar()
        return status == UpdateStatus.SENDING


def _write(engine: Engine, work):
    """One write transaction, begun as a write (as in petition.mail.worker)."""
    with write_intent(), engine.begin() as connection:
        return work(connection)

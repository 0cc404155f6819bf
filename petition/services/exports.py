"""Exports of confirmed signatures and of per-country figures, as CSV streamed row by row.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula;
such cells get a leading apostrophe, which spreadsheets show as text. Files start with a UTF-8 BOM so
that Excel reads accents right. Every export is logged (who, when, which petition, how many rows).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from petition.db_engine import write_intent
from petition.models import ExportRecord, Organiser, Signature, SignatureStatus
from petition.services import personal
from petition.services.dashboard import Figures
from petition.timeutil import iso_z, utcnow

BOM = "\ufeff"
SIGNATURE_COLUMNS = ["first_name", "last_name", "email", "country", "confirmed_at", "source"]
SUMMARY_COLUMNS = [
    "country", "name", "threshold", "online", "paper", "total", "reached", "margin_target", "margin_reached",
]  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500
YIELD_PER = 1000


def neutralise(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The BOM and header, then the rows, a few hundred to a chunk: few writes, constant memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        pending += 1
        if pending == ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def signature_rows(session: Session, petition_id: int, country: str | None = None) -> Iterator[list]:
    """Confirmed signatures in the order they were confirmed, unsealed one batch at a time."""
    query = (
        select(
            Signature.first_name_sealed,
            Signature.last_name_sealed,
            Signature.email_sealed,
            Signature.country,
            Signature.confirmed_at,
            Signature.source,
        )
        .where(Signature.petition_id == petition_id, Signature.status == SignatureStatus.CONFIRMED)
        .order_by(Signature.confirmed_at)
        .execution_options(yield_per=YIELD_PER)
    )
    if country:
        query = query.where(Signature.country == country)
    for first, last, email, code, confirmed_at, source in session.execute(query):
        yield [
            personal.unseal(first) if first else "",
            personal.unseal(last) if last else "",
            personal.unseal(email) if email else "",
            code,
            iso_z(confirmed_at),
            source,
        ]


def summary_rows(figures: Figures) -> Iterator[list]:
    for c in figures.countries:
        yield [
            c.code,
            c.name,
            c.threshold or "",
            c.online,
            c.paper,
            c.total,
            "yes" if c.reached else "no",
            c.margin_target or "",
            "yes" if c.safe else "no",
        ]
    yield ["", "total", figures.goal_total or "", figures.online, figures.paper, figures.total, "", "", ""]


def begin_record(
    session: Session, petition_id: int, organiser: Organiser, kind: str, country: str | None, now: datetime
) -> int:
    """Log the export before any row leaves, in its own committed transaction."""
    session.commit()
    with write_intent():
        record = ExportRecord(
            petition_id=petition_id,
            organiser_id=organiser.id,
            organiser_email=organiser.email,
            kind=kind,
            country=country,
            started_at=now,
        )
        session.add(record)
        session.commit()
        return record.id


def finish_record(session: Session, record_id: int, rows: int, complete: bool) -> None:
    session.rollback()  # ends the long read of the export itself
    with write_intent():
        session.execute(
            update(ExportRecord)
            .where(ExportRecord.id == record_id)
            .values(rows=rows, finished_at=utcnow() if complete else None)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def logged_csv(session: Session, record_id: int, header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """`csv_chunks`, with the number of rows written to the export's log however the stream ends
    (finished, or cut short by the client going away)."""
    produced = 0

    def counted() -> Iterator[list]:
        nonlocal produced
        for row in rows:
            produced += 1
            yield row

    complete = False
    try:
        yield from csv_chunks(header, counted())
        complete = True
    finally:
        finish_record(session, record_id, produced, complete)


def records_of(session: Session, petition_id: int, limit: int = 50) -> list[ExportRecord]:
    return list(
        session.scalars(
            select(ExportRecord)
            .where(ExportRecord.petition_id == petition_id)
            .order_by(ExportRecord.started_at.desc(), ExportRecord.id.desc())
            .limit(limit)
        )
    )

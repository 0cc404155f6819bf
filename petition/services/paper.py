"""Signatures collected on paper: per-country tallies typed in by an organiser, and CSV uploads of
paper statements checked row by row. Both count towards the totals and thresholds like online ones."""

import csv
import io
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from petition.models import PaperEntry, PaperKind, Petition, Signature, SignatureStatus
from petition.rules.countries import normalise_country
from petition.services import activity, counting, personal
from petition.services.petitions import allowed_countries
from petition.services.signer_fields import FieldInvalid, clean_email, clean_name
from petition.services.sql import upsert_insert

SOURCE = "paper"
NOTE_MAX = 500
TALLY_MAX = 1_000_000
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_MAX_ROWS = 20_000
REQUIRED_COLUMNS = ("first_name", "last_name", "country")
OPTIONAL_COLUMNS = ("email",)


class PaperInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def record_tally(
    session: Session, petition: Petition, country: str, count: int, note: str, organiser_id: int, now: datetime
) -> PaperEntry:
    """Add (or, with a negative count, correct) paper signatures for one country. The caller commits,
    then stamps milestones."""
    errors = {}
    code = normalise_country(country or "")
    if code not in allowed_countries(petition):
        errors["country"] = "Choose a country this petition accepts."
    if count == 0 or abs(count) > TALLY_MAX:
        errors["count"] = f"Give a number of signatures between 1 and {TALLY_MAX:,} (negative to correct)."
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note to {NOTE_MAX} characters."
    if not errors and count < 0:
        on_paper = paper_count(session, petition.id, code)
        if on_paper + count < 0:
            errors["count"] = f"Only {on_paper:,} paper signatures are recorded for this country."
    if errors:
        raise PaperInvalid(errors)
    entry = PaperEntry(
        petition_id=petition.id,
        country=code,
        count=count,
        kind=PaperKind.TALLY,
        note=note,
        organiser_id=organiser_id,
        created_at=now,
    )
    session.add(entry)
    counting.add(session, petition.id, code, count, now)
    activity.record(session, petition.id, SOURCE, now, signed=count, confirmed=count)
    return entry


def paper_count(session: Session, petition_id: int, country: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PaperEntry.count), 0)).where(
                PaperEntry.petition_id == petition_id, PaperEntry.country == country
            )
        )
    )


def entries_of(session: Session, petition_id: int) -> list[PaperEntry]:
    return list(
        session.scalars(
            select(PaperEntry)
            .where(PaperEntry.petition_id == petition_id)
            .order_by(PaperEntry.created_at.desc(), PaperEntry.id.desc())
        )
    )


@dataclass
class RejectedRow:
    line: int
    reasons: list[str]


@dataclass
class ImportReport:
    accepted_by_country: Counter = field(default_factory=Counter)
    rejected: list[RejectedRow] = field(default_factory=list)
    saved: bool = False

    @property
    def accepted(self) -> int:
        return sum(self.accepted_by_country.values())


@dataclass(frozen=True)
class _Statement:
    line: int
    first_name: str
    last_name: str
    country: str
    email: str | None
    email_hash: str | None


def read_statements_csv(data: bytes) -> list[tuple[int, dict]]:
    """(line number, row as a dict keyed by normalised column names) for every non-empty row.
    Raises PaperInvalid for a file that cannot be read at all."""
    if len(data) > UPLOAD_MAX_BYTES:
        raise PaperInvalid({"file": f"The file is larger than {UPLOAD_MAX_BYTES // (1024 * 1024)} MB: split it."})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PaperInvalid({"file": "The file is not UTF-8 text: save it as 'CSV UTF-8'."}) from error
    if not text.strip():
        raise PaperInvalid({"file": "The file is empty."})
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in much of Europe save CSV with semicolons.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [" ".join(name.split()).lower().replace(" ", "_") for name in next(reader)]
    except csv.Error as error:
        raise PaperInvalid({"file": f"The file is not valid CSV: {error}"}) from error
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise PaperInvalid(
            {
                "file": f"The first line must name the columns; missing: {', '.join(missing)}. "
                f"Expected: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
            }
        )
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append(
                (reader.line_num, {name: (values[i] if i < len(values) else "") for i, name in enumerate(header)})
            )
            if len(rows) > UPLOAD_MAX_ROWS:
                raise PaperInvalid({"file": f"At most {UPLOAD_MAX_ROWS:,} statements per file: split it."})
    except csv.Error as error:
        raise PaperInvalid({"file": f"The file is not valid CSV (line {reader.line_num}): {error}"}) from error
    return rows


def _check_row(petition: Petition, line: int, row: dict, allowed: frozenset[str]) -> _Statement | RejectedRow:
    reasons = []
    names = {}
    for column in ("first_name", "last_name"):
        try:
            names[column] = clean_name(row.get(column, ""))
        except FieldInvalid as error:
            reasons.append(f"{column}: {error}")
    country = normalise_country(row.get("country", ""))
    if country not in allowed:
        reasons.append("country: not a country this petition accepts" if country else "country: missing")
    email = email_hash = None
    if (row.get("email") or "").strip():
        try:
            email, local_part, ascii_domain = clean_email(row["email"])
            email_hash = personal.email_hash(petition.id, personal.canonical_email(local_part, ascii_domain))
        except FieldInvalid:
            reasons.append("email: not a valid address")
    if reasons:
        return RejectedRow(line, reasons)
    return _Statement(line, names["first_name"], names["last_name"], country, email, email_hash)


def import_statements(
    session: Session, petition: Petition, data: bytes, organiser_id: int, now: datetime, *, save: bool
) -> ImportReport:
    """Check every row; with `save`, store the good ones as confirmed signatures with source `paper`
    (the caller commits, then stamps milestones). A row whose email already signed, online or on
    paper, is refused: a person counts once."""
    rows = read_statements_csv(data)
    allowed = allowed_countries(petition)
    report = ImportReport()
    good: list[_Statement] = []
    seen: set[str] = set()
    for line, row in rows:
        checked = _check_row(petition, line, row, allowed)
        if isinstance(checked, RejectedRow):
            report.rejected.append(checked)
        elif checked.email_hash and checked.email_hash in seen:
            report.rejected.append(RejectedRow(checked.line, ["email: appears twice in this file"]))
        else:
            if checked.email_hash:
                seen.add(checked.email_hash)
            good.append(checked)
    already = _already_signed(session, petition.id, [s.email_hash for s in good if s.email_hash])
    for statement in good:
        if statement.email_hash in already:
            report.rejected.append(RejectedRow(statement.line, ["email: this person has already signed"]))
        elif not save or _insert(session, petition, statement, now):
            report.accepted_by_country[statement.country] += 1
        else:
            report.rejected.append(RejectedRow(statement.line, ["email: this person has already signed"]))
    report.rejected.sort(key=lambda r: r.line)
    if save and report.accepted:
        for country, count in sorted(report.accepted_by_country.items()):
            session.add(
                PaperEntry(
                    petition_id=petition.id,
                    country=country,
                    count=count,
                    kind=PaperKind.STATEMENTS,
                    note="CSV upload",
                    organiser_id=organiser_id,
                    created_at=now,
                )
            )
            counting.add(session, petition.id, country, count, now)
        activity.record(session, petition.id, SOURCE, now, signed=report.accepted, confirmed=report.accepted)
    report.saved = save
    return report


def _already_signed(session: Session, petition_id: int, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        found.update(
            session.scalars(
                select(Signature.email_hash).where(
                    Signature.petition_id == petition_id, Signature.email_hash.in_(chunk)
                )
            )
        )
    return found


def _insert(session: Session, petition: Petition, statement: _Statement, now: datetime) -> bool:
    # A statement without an email cannot be matched with anyone: it gets a hash of its own.
    email_hash = statement.email_hash or personal.email_hash(petition.id, f"paper:{uuid.uuid4()}")
    inserted = session.execute(
        upsert_insert(session, Signature)
        .values(
            petition_id=petition.id,
            status=SignatureStatus.CONFIRMED,
            email_hash=email_hash,
            email_sealed=personal.seal(statement.email or ""),
            first_name_sealed=personal.seal(statement.first_name),
            last_name_sealed=personal.seal(statement.last_name),
            country=statement.country,
            keep_informed=False,
            source=SOURCE,
            locale="",
            emails_sent=0,
            created_at=now,
            confirmed_at=now,
        )
        .on_conflict_do_nothing(index_elements=["petition_id", "email_hash"])
        .returning(Signature.id)
    ).scalar()
    return inserted is not None

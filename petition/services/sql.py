"""Small portable SQL helpers for the two databases this service runs on."""

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_insert(session: Session, model):
    """An INSERT that understands ON CONFLICT on both PostgreSQL and SQLite."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def typed_text(sql: str, **types) -> TextClause:
    """A `text()` statement whose named parameters get column types (so that datetimes are stored as
    the ORM stores them, in UTC, and bytes as bytes). Only the parameters the text uses are typed."""
    return text(sql).bindparams(*(bindparam(name, type_=kind) for name, kind in types.items() if f":{name}" in sql))

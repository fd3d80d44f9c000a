"""Tables of the person index: entries (matching fields sealed) and tracing consents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from haven_shared.crypto import create_key_table
from haven_shared.inbox import create_inbox_tables
from haven_shared.outbox import JsonColumn, utcnow


class PersonEntryRow(SQLModel, table=True):
    """One intake record; `fields_sealed` is sealed with the registry's key of the subject."""

    __tablename__ = "person_index_entry"

    ref: str = Field(primary_key=True, max_length=200)
    case_id: uuid.UUID = Field(index=True)
    organisation_id: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    key_id: str = Field(max_length=64)
    sharing_scope: list[str] = Field(sa_type=JsonColumn)
    fields_sealed: dict[str, Any] = Field(sa_type=JsonColumn)
    indexed: bool = Field(default=False, index=True)
    is_minor: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True), default_factory=utcnow)


class TracingConsentRow(SQLModel, table=True):
    """A tracing consent intake recorded for a case (active until withdrawn)."""

    __tablename__ = "tracing_consent"

    consent_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    active: bool = True
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True), default_factory=utcnow)


PERSON_INDEX_TABLES = [PersonEntryRow.__table__,  # type: ignore[attr-defined]
                       TracingConsentRow.__table__]  # type: ignore[attr-defined]


def create_person_index_tables(engine: sa.Engine) -> None:
    """Create the person index's, the key store's and the inbox's tables when missing (unit
    tests; the service migrates with Alembic)."""
    create_key_table(engine)
    create_inbox_tables(engine)
    SQLModel.metadata.create_all(engine, tables=PERSON_INDEX_TABLES)

"""Table models of the registry (SQLModel), separate from the domain objects.

A service's value objects (eligibility, languages, locations, areas, opening hours) are stored as
JSON on the service row: they are always read and written with their service, and nothing
queries inside them except through the read model referral builds from the events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from haven_shared.outbox import JsonColumn, create_outbox_table


class OrganisationRow(SQLModel, table=True):
    """An organisation of the directory."""

    __tablename__ = "directory_organisation"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=300)
    description: str = Field(sa_type=sa.Text)
    code: str = Field(default="", max_length=100, index=True)
    website: str = Field(default="", max_length=500)
    email: str = Field(default="", max_length=300)


class ServiceRow(SQLModel, table=True):
    """A provider service with its routing details and current capacity."""

    __tablename__ = "directory_service"

    id: uuid.UUID = Field(primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="directory_organisation.id", index=True)
    name: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    kind: str = Field(max_length=50, index=True)
    status: str = Field(max_length=30, index=True)
    eligibility: dict[str, Any] = Field(sa_type=JsonColumn)
    languages: list[str] = Field(sa_type=JsonColumn)
    locations: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    areas: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    opening_hours: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    capacity_id: uuid.UUID | None = None
    capacity_unit: str | None = Field(default=None, max_length=100)
    capacity_available: int | None = None
    capacity_maximum: int | None = None
    capacity_updated_at: datetime | None = Field(default=None,
                                                 sa_type=sa.DateTime(timezone=True))
    version: int = 0
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class MatchCandidateRow(SQLModel, table=True):
    """A match candidate and its reviews; `pair` is unique, so a pair is proposed once."""

    __tablename__ = "match_candidate"

    id: uuid.UUID = Field(primary_key=True)
    pair: str = Field(max_length=401, sa_column_kwargs={"unique": True})
    record_ref: str = Field(max_length=200)
    record_kind: str = Field(max_length=20)
    candidate_ref: str = Field(max_length=200)
    candidate_kind: str = Field(max_length=20)
    probability: float = Field(index=True)
    weight: float
    evidence: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    status: str = Field(max_length=30, index=True)
    reviews: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    proposed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    version: int = 0
    involves_minor: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


REGISTRY_TABLES = [OrganisationRow.__table__, ServiceRow.__table__,  # type: ignore[attr-defined]
                   MatchCandidateRow.__table__]  # type: ignore[attr-defined]


def create_directory_tables(engine: sa.Engine) -> None:
    """Create the registry's and the outbox's tables when missing (unit tests on SQLite; the
    service itself migrates with Alembic, `registry.adapters.schema.create_schema`)."""
    create_outbox_table(engine)
    SQLModel.metadata.create_all(engine, tables=REGISTRY_TABLES)

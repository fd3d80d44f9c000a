"""Intake's tables. Personal fields are stored only sealed (`*_sealed` columns, JSON of
`SealedPersonalData`); the clear columns hold routing facts and workflow state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from haven_shared.outbox import JsonColumn


def _now() -> datetime:
    return datetime.now(UTC)


_TS = sa.DateTime(timezone=True)


class CaseRow(SQLModel, table=True):
    """A case; `person_sealed` holds who it is about."""

    __tablename__ = "intake_case"

    id: uuid.UUID = Field(primary_key=True)
    organisation_id: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=40)
    status: str = Field(max_length=40)
    risk_level: str = Field(max_length=20)
    is_minor: bool
    subject_key_id: str = Field(max_length=64)
    person_sealed: dict[str, Any] = Field(sa_type=JsonColumn)
    assignees: list[str] = Field(sa_type=JsonColumn)
    opened_by: str = Field(max_length=100)
    opened_at: datetime = Field(sa_type=_TS)
    updated_at: datetime = Field(sa_type=_TS, default_factory=_now)
    version: int = 1


class PersonRecordRow(SQLModel, table=True):
    """A missing-person report, found-person record or unidentified-remains record."""

    __tablename__ = "intake_person_record"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    kind: str = Field(max_length=40)
    sex: str = Field(max_length=20)
    is_minor: bool
    sharing_scope: list[str] = Field(sa_type=JsonColumn)
    subject_key_id: str = Field(max_length=64)
    details_sealed: dict[str, Any] = Field(sa_type=JsonColumn)
    # The enquirer of a missing-person report is a data subject of their own.
    enquirer_key_id: str | None = Field(default=None, max_length=64)
    enquirer_sealed: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=_TS, default_factory=_now)


class IdempotencyRow(SQLModel, table=True):
    """A request already carried out under an `Idempotency-Key` (per caller), and its result."""

    __tablename__ = "intake_idempotency"

    scope_key: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(max_length=64)
    case_id: uuid.UUID
    resource_id: uuid.UUID
    created_at: datetime = Field(sa_type=_TS, default_factory=_now)


class ScreeningRow(SQLModel, table=True):
    """A trafficking screening; notes and each decision's reasons are sealed."""

    __tablename__ = "intake_screening"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    indicators: list[str] = Field(sa_type=JsonColumn)
    result: str = Field(max_length=40)
    notes_sealed: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    decisions: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    reconsideration_requested: str | None = Field(default=None, max_length=40)
    screened_by: str = Field(max_length=100)
    screened_at: datetime = Field(sa_type=_TS)


class NeedsAssessmentRow(SQLModel, table=True):
    """A needs assessment; the needs and preferences are routing facts, notes are sealed."""

    __tablename__ = "intake_needs_assessment"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    needs: list[dict[str, str]] = Field(sa_type=JsonColumn)
    languages: list[str] = Field(sa_type=JsonColumn)
    staff_gender: str = Field(max_length=20)
    women_only_shelter: bool
    notes_sealed: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    assessed_by: str = Field(max_length=100)
    assessed_at: datetime = Field(sa_type=_TS)


class ConsentRow(SQLModel, table=True):
    """A consent record (or child-protection override, its reason sealed)."""

    __tablename__ = "intake_consent"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="intake_case.id", index=True)
    purpose: str = Field(max_length=40)
    partner_kinds: list[str] = Field(sa_type=JsonColumn)
    given_by: str = Field(max_length=20)
    override_reason_sealed: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=_TS)
    withdrawn_at: datetime | None = Field(default=None, sa_type=_TS)
    withdrawn_by: str | None = Field(default=None, max_length=100)


class ReferralViewRow(SQLModel, table=True):
    """Read model: the latest state of a referral made for one of intake's cases."""

    __tablename__ = "intake_referral_view"

    referral_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    status: str = Field(max_length=40)
    need: str | None = Field(default=None, max_length=60)
    partner_org: str | None = Field(default=None, max_length=100)
    updated_at: datetime = Field(sa_type=_TS)


class MatchViewRow(SQLModel, table=True):
    """Read model: a match candidate involving one of intake's records."""

    __tablename__ = "intake_match_view"

    candidate_id: uuid.UUID = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    other_ref: str = Field(max_length=200)
    other_kind: str = Field(max_length=20)
    state: str = Field(max_length=40)
    probability: float | None = None
    updated_at: datetime = Field(sa_type=_TS)

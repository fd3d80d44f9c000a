"""Referral's tables: the provider read model and referrals (with offers and routing as JSON).

No table holds a name or anything else that identifies the survivor: referrals keep the case id,
routing facts and the facts consented for sharing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from haven_shared.outbox import JsonColumn

_TS = sa.DateTime(timezone=True)


def _now() -> datetime:
    return datetime.now(UTC)


class ProviderRow(SQLModel, table=True):
    """One provider service as registry last described it (the newest `version` wins)."""

    __tablename__ = "referral_provider"

    service_id: uuid.UUID = Field(primary_key=True)
    org: str = Field(max_length=100, index=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=40, index=True)
    status: str = Field(max_length=40)
    # None: the directory does not meter this service's capacity.
    capacity: int | None = None
    areas: list[str] = Field(sa_type=JsonColumn)
    languages: list[str] = Field(sa_type=JsonColumn)
    genders: list[str] = Field(sa_type=JsonColumn)
    women_only: bool = False
    child_qualified: bool = False
    min_age: int | None = None
    max_age: int | None = None
    version: int
    changed_at: datetime = Field(sa_type=_TS)


class ReferralRow(SQLModel, table=True):
    """A referral of one need of a case, its offers and the explanation of its routing."""

    __tablename__ = "referral"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    organisation_id: str = Field(max_length=100, index=True)
    need: dict[str, Any] = Field(sa_type=JsonColumn)
    mode: str = Field(max_length=20)
    status: str = Field(max_length=30)
    candidates: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    offers: list[dict[str, Any]] = Field(sa_type=JsonColumn)
    routing: dict[str, Any] = Field(sa_type=JsonColumn)
    shared: dict[str, Any] = Field(sa_type=JsonColumn)
    consent: dict[str, Any] = Field(sa_type=JsonColumn)
    unmet: bool = False
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=_TS)
    updated_at: datetime = Field(sa_type=_TS, default_factory=_now)
    # Incremented by every save; a save that finds another version lost a race.
    version: int = 1


class DeadlineRow(SQLModel, table=True):
    """A legal clock of a case (reflection period end, residence-permit expiry)."""

    __tablename__ = "referral_deadline"

    id: str = Field(primary_key=True, max_length=100)
    case_id: uuid.UUID = Field(index=True)
    organisation_id: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=40)
    due: datetime = Field(sa_type=_TS, index=True)
    caseworker: str = Field(default="", max_length=100)


class DeadlineAlertRow(SQLModel, table=True):
    """An alert already published, so each fires once however often the clock ticks."""

    __tablename__ = "referral_deadline_alert"

    key: str = Field(primary_key=True, max_length=200)
    deadline_id: str = Field(max_length=100, index=True)
    sent_at: datetime = Field(sa_type=_TS, default_factory=_now)


class IdempotencyRow(SQLModel, table=True):
    """A referral already requested under an `Idempotency-Key` (scoped to the caller)."""

    __tablename__ = "referral_idempotency"

    scope_key: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(max_length=64)
    referral_id: uuid.UUID
    created_at: datetime = Field(sa_type=_TS, default_factory=_now)


class CaseConsentRow(SQLModel, table=True):
    """The partner kinds a case's survivor consented to share referral data with (from intake)."""

    __tablename__ = "referral_case_consent"

    case_id: uuid.UUID = Field(primary_key=True)
    organisation_id: str = Field(max_length=100)
    partner_kinds: list[str] = Field(sa_type=JsonColumn)
    override: bool = False
    updated_at: datetime = Field(sa_type=_TS, default_factory=_now)


class PendingNeedRow(SQLModel, table=True):
    """An assessed need waiting for consent before it may be referred."""

    __tablename__ = "referral_pending_need"

    referral_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    organisation_id: str = Field(max_length=100)
    need: dict[str, Any] = Field(sa_type=JsonColumn)
    is_minor: bool
    created_at: datetime = Field(sa_type=_TS, default_factory=_now)

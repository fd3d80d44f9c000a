"""Request and response bodies of intake's API (separate from domain objects and tables)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from intake.api.fields import (
    Circumstances,
    CountryCode,
    FoundSetting,
    LanguageTag,
    LongText,
    Name,
    PartnerKind,
    Relationship,
    SampleReference,
    ScriptCode,
    Sex,
    ShortText,
    Username,
)
from intake.domain.case import CaseKind, CaseStatus, RiskLevel


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonIn(_In):
    display_name: Name | None = None
    date_of_birth: date | None = None
    estimated_age: int | None = Field(default=None, ge=0, le=120)


class CaseCreate(_In):
    kind: CaseKind
    risk_level: RiskLevel = RiskLevel.MEDIUM
    person: PersonIn = PersonIn()
    is_minor: bool = Field(default=False, description="Declared a minor regardless of age.")


class CasePublic(BaseModel):
    id: UUID
    organisation_id: str
    kind: CaseKind
    status: CaseStatus
    risk_level: RiskLevel
    is_minor: bool
    person: PersonIn
    assignees: list[str]
    opened_by: str
    opened_at: datetime
    records: list[RecordRef] = []


class CaseSummaryPublic(BaseModel):
    id: UUID
    kind: CaseKind
    status: CaseStatus
    risk_level: RiskLevel
    is_minor: bool
    assignees: list[str]
    opened_at: datetime


class RecordRef(BaseModel):
    id: UUID
    kind: str
    is_minor: bool


class StatusChange(_In):
    status: CaseStatus | None = None
    risk_level: RiskLevel | None = None


class Assignment(_In):
    username: Username


class NameIn(_In):
    text: Name
    script: ScriptCode | None = None
    romanised: bool = False


class LastSeenIn(_In):
    place: ShortText
    date: dt.date | None = None
    circumstances: Circumstances
    route: ShortText | None = None
    details: LongText | None = None


class EnquirerIn(_In):
    name: Name
    relationship: Relationship
    contact: ShortText


class _PersonRecord(_In):
    names: list[NameIn] = Field(max_length=10)
    sex: Sex
    date_of_birth: date | None = None
    estimated_age: int | None = Field(default=None, ge=0, le=120)
    nationalities: list[CountryCode] = Field(default=[], max_length=5)
    languages: list[LanguageTag] = Field(default=[], max_length=10)
    physical_description: LongText | None = None
    sharing_scope: list[PartnerKind] = Field(default=["tracing-service"], max_length=8)


class MissingPersonReportIn(_PersonRecord):
    names: list[NameIn] = Field(min_length=1, max_length=10)
    last_seen: LastSeenIn
    enquirer: EnquirerIn


class MissingPersonReportPublic(MissingPersonReportIn):
    id: UUID
    case_id: UUID


class FoundPersonIn(_PersonRecord):
    found_setting: FoundSetting
    found_place: ShortText
    found_date: date


class FoundPersonPublic(FoundPersonIn):
    id: UUID
    case_id: UUID


class RemainsIn(_In):
    found_place: ShortText
    found_date: date
    estimated_sex: Sex = "unknown"
    estimated_age_min: int | None = Field(default=None, ge=0, le=120)
    estimated_age_max: int | None = Field(default=None, ge=0, le=120)
    date_of_death: date | None = None
    date_of_birth: date | None = Field(default=None,
                                       description="From documents found with the remains.")
    post_mortem_interval_days: int | None = Field(default=None, ge=0, le=36_500)
    description: LongText | None = None
    personal_effects: list[ShortText] = Field(default=[], max_length=50)
    dna_sample_reference: SampleReference | None = Field(
        default=None, description="Reference of a sample held by a laboratory; never DNA data.")


class RemainsPublic(RemainsIn):
    id: UUID
    case_id: UUID


CasePublic.model_rebuild()

"""Bodies of screening, needs-assessment and consent requests and responses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.api.fields import LanguageTag, LongText, PartnerKind

IndicatorCode = Annotated[str, StringConstraints(max_length=50)]
NeedKind = Literal[
    "shelter", "medical-care", "psychological-counselling", "legal-aid", "interpretation",
    "education", "vocational-training", "residence-permit-support", "child-guardian",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScreeningIn(_In):
    indicators: list[IndicatorCode] = Field(max_length=40)
    notes: LongText | None = None


class DecisionIn(_In):
    stage: Literal["reasonable-grounds", "conclusive-grounds"]
    outcome: Literal["positive", "negative"]
    decision_date: date
    reasons: LongText


class ReconsiderationIn(_In):
    stage: Literal["reasonable-grounds", "conclusive-grounds"]


class DecisionPublic(BaseModel):
    stage: str
    outcome: str
    decision_date: date
    reasons: str
    decided_by: str
    decided_at: datetime
    superseded: bool


class ScreeningPublic(BaseModel):
    id: UUID
    case_id: UUID
    indicators: list[str]
    categories: list[str]
    result: str
    notes: str | None
    screened_by: str
    screened_at: datetime
    decisions: list[DecisionPublic]
    reconsideration_requested: str | None


class NeedIn(_In):
    kind: NeedKind
    urgency: Literal["immediate", "high", "routine"] = "routine"


class NeedsAssessmentIn(_In):
    needs: list[NeedIn] = Field(min_length=1, max_length=20)
    languages: list[LanguageTag] = Field(default=[], max_length=10)
    staff_gender: Literal["female", "male", "any"] = "any"
    women_only_shelter: bool = False
    notes: LongText | None = None


class NeedsAssessmentPublic(NeedsAssessmentIn):
    id: UUID
    case_id: UUID
    assessed_by: str
    assessed_at: datetime


class ConsentIn(_In):
    purpose: Literal["tracing", "services", "disclosure"]
    partner_kinds: list[PartnerKind] = Field(default=[], max_length=8)
    given_by: Literal["person", "guardian", "none"] = "person"
    override_reason: LongText | None = Field(
        default=None, description="Only to protect a child in danger, without consent.")


class ConsentPublic(ConsentIn):
    id: UUID
    case_id: UUID
    override: bool
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class ReferralStatePublic(BaseModel):
    referral_id: UUID
    status: str
    need: str | None
    partner_org: str | None
    updated_at: datetime


class MatchStatePublic(BaseModel):
    candidate_id: UUID
    record_id: UUID
    other_ref: str
    other_kind: str
    state: str
    probability: float | None
    updated_at: datetime


class FamilyNotificationPublic(BaseModel):
    """A registry task: the family awaits news about this record (open, in-progress, done)."""

    task_id: UUID
    record_id: UUID
    state: str
    updated_at: datetime


class CaseOutcomesPublic(BaseModel):
    case_id: UUID
    referrals: list[ReferralStatePublic]
    matches: list[MatchStatePublic]
    family_notifications: list[FamilyNotificationPublic] = []

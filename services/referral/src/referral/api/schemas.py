"""Request and response bodies of the referral API (separate from tables and domain objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from haven_shared.events.registry import ServiceKindName

SharedFieldName = Literal["is_minor", "sex", "age", "languages", "area", "staff_gender"]
ReasonCode = Literal[
    "no-capacity", "not-eligible", "cannot-meet-need", "survivor-declined", "unreachable",
    "safety-concern", "other",
]
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NeedIn(_In):
    kind: ServiceKindName
    urgency: Literal["emergency", "high", "routine"] = "routine"
    area: str | None = Field(default=None, min_length=1, max_length=200)
    languages: list[Language] = Field(default_factory=list, max_length=10)
    women_only_shelter: bool = False
    staff_gender: Literal["female", "male", "non_binary"] | None = None


class SurvivorIn(_In):
    """Routing facts only: nothing that identifies the person."""

    is_minor: bool
    sex: Literal["female", "male", "non_binary", "unknown"] | None = None
    age: int | None = Field(default=None, ge=0, le=130)


class ConsentIn(_In):
    given: bool
    shared_fields: list[SharedFieldName] = Field(default_factory=list, max_length=6)


class OverrideIn(_In):
    """A child-protection override of missing consent, for a minor, with its reason."""

    reason: str = Field(min_length=3, max_length=500)


class ReferralCreate(_In):
    case_id: UUID
    need: NeedIn
    survivor: SurvivorIn
    consent: ConsentIn
    child_protection_override: OverrideIn | None = None
    mode: Literal["sequential", "broadcast"] = "sequential"


class PartnerAnswer(_In):
    """A reason code is required to reject and to fail; free text is not accepted."""

    reason: ReasonCode | None = None


class OfferOut(BaseModel):
    provider_id: str
    org: str
    status: str
    respond_by: datetime


class AssessmentOut(BaseModel):
    provider_id: str
    org: str
    reasons: list[str]


class RoutingOut(BaseModel):
    chosen: list[AssessmentOut]
    excluded: list[AssessmentOut]


class AlertOut(BaseModel):
    kind: Literal["unmet-need"]
    detail: str


class ReferralOut(BaseModel):
    """The referring organisation's view: state, offers, routing explanation and alerts."""

    id: str
    case_id: str
    status: str
    mode: str
    need: ServiceKindName
    urgency: str
    offers: list[OfferOut]
    routing: RoutingOut
    shared_fields: list[str]
    child_protection_override: bool
    alerts: list[AlertOut]
    created_at: datetime


class PartnerReferralOut(BaseModel):
    """What a partner's staff see of a referral offered to them: its state, their offer, and
    (while the offer is theirs) the need and the consented facts under their pseudonym."""

    id: str
    status: str
    offer_status: str
    subject: str | None = None
    need: ServiceKindName | None = None
    urgency: str | None = None
    respond_by: datetime | None = None
    shared: dict[str, Any] | None = None


class AwaitingConsentOut(BaseModel):
    need: ServiceKindName
    urgency: str


class CaseReferralsOut(BaseModel):
    """A case's referrals, and the assessed needs that wait for the survivor's consent."""

    referrals: list[ReferralOut]
    awaiting_consent: list[AwaitingConsentOut]

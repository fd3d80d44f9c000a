"""Events of the referral service (`haven.referral.*`) and of its partner topics.

Internal events go to `referral.referral`, keyed by referral id, so one referral's history stays
in order. They carry routing facts and states only: no name, no free text a person wrote.

Partner events (`haven.partner.referral.*`) go to `partner.<org>.referrals`, one topic per partner
organisation (the relay picks the topic from `partner_org`). They carry only the fields the
survivor consented to share, and the case appears only as a pseudonym specific to that partner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from haven_shared.events.catalogue import event
from haven_shared.events.model import Event
from haven_shared.events.registry import ServiceKindName

TOPIC = "referral.referral"
#: Template of the partner topics; `{org}` is the partner organisation's code.
PARTNER_REFERRALS_TOPIC = "partner.{org}.referrals"

UrgencyName = Literal["emergency", "high", "routine"]
ReferralStatusName = Literal[
    "requested", "accepted", "rejected", "cancelled", "in-progress", "on-hold", "completed",
    "failed", "entered-in-error",
]
OfferOutcomeName = Literal["rejected", "cancelled", "expired"]

_REFERRAL = UUID("3e7a9c21-5b4d-4f60-8e1a-2c9d7b6f0a34")
_CASE = UUID("0b5c3f7e-5d2a-4c1e-9a57-3f1f2b9d6a10")
_SERVICE = UUID("5f0c8a52-3f7e-4b8e-9a61-0d2b6c1e4f70")
_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def partner_topic(org: str) -> str:
    """The topic carrying referrals offered to partner organisation `org`."""
    return PARTNER_REFERRALS_TOPIC.format(org=org)


class _ReferralEvent(Event):
    aggregate_type = "referral"
    aggregate_id_field = "referral_id"
    topic = TOPIC

    referral_id: UUID
    case_id: UUID
    organisation_id: str = Field(max_length=100, description="Organisation that referred.")


@event
class ReferralRequested(_ReferralEvent):
    """A caseworker asked for a service for a case's need, and routing ran."""

    event_type = "haven.referral.requested.v1"
    summary = "A referral was requested for one need of a case; routing chose its candidates."

    need: ServiceKindName
    urgency: UrgencyName
    mode: Literal["sequential", "broadcast"]
    candidates: list[UUID] = Field(default_factory=list, max_length=200,
                                   description="Eligible provider services, best first.")
    child_protection_override: bool = False
    requested_at: datetime

    @classmethod
    def example(cls) -> ReferralRequested:
        return cls(referral_id=_REFERRAL, case_id=_CASE, organisation_id="ngo-a",
                   need="shelter", urgency="high", mode="sequential", candidates=[_SERVICE],
                   requested_at=_TIME)


@event
class ReferralOffered(_ReferralEvent):
    """The referral was offered to one provider service, to answer before `deadline`."""

    event_type = "haven.referral.offered.v1"
    summary = "A referral was offered to a provider service."

    provider_id: UUID
    partner_org: str = Field(max_length=100)
    deadline: datetime

    @classmethod
    def example(cls) -> ReferralOffered:
        return cls(referral_id=_REFERRAL, case_id=_CASE, organisation_id="ngo-a",
                   provider_id=_SERVICE, partner_org="shelter-a",
                   deadline=datetime(2026, 11, 3, 9, 30, tzinfo=UTC))


@event
class ReferralOfferClosed(_ReferralEvent):
    """An offer ended without acceptance: the partner declined, it expired or was withdrawn."""

    event_type = "haven.referral.offer.closed.v1"
    summary = "An offer to a provider was rejected, expired or cancelled."

    provider_id: UUID
    partner_org: str = Field(max_length=100)
    outcome: OfferOutcomeName

    @classmethod
    def example(cls) -> ReferralOfferClosed:
        return cls(referral_id=_REFERRAL, case_id=_CASE, organisation_id="ngo-a",
                   provider_id=_SERVICE, partner_org="shelter-a", outcome="expired")


@event
class ReferralStatusChanged(_ReferralEvent):
    """The referral moved through its lifecycle (FHIR Task states)."""

    event_type = "haven.referral.status.changed.v1"
    summary = "The referral's status changed; reasons are codes, never free text."

    status: ReferralStatusName
    partner_org: str | None = Field(default=None, max_length=100)
    reason_code: str | None = Field(default=None, max_length=60)
    changed_at: datetime

    @classmethod
    def example(cls) -> ReferralStatusChanged:
        return cls(referral_id=_REFERRAL, case_id=_CASE, organisation_id="ngo-a",
                   status="accepted", partner_org="shelter-a", changed_at=_TIME)


@event
class UnmetNeed(_ReferralEvent):
    """No provider in the directory can take this need now: an alert, never silence."""

    event_type = "haven.referral.unmet-need.v1"
    summary = "No eligible provider was found for a need."

    need: ServiceKindName
    urgency: UrgencyName
    providers_considered: int = Field(ge=0)
    at: datetime

    @classmethod
    def example(cls) -> UnmetNeed:
        return cls(referral_id=_REFERRAL, case_id=_CASE, organisation_id="ngo-a",
                   need="shelter", urgency="emergency", providers_considered=3, at=_TIME)


DeadlineKindName = Literal["reflection-period-end", "residence-permit-expiry", "offer-response"]


class _DeadlineEvent(Event):
    aggregate_type = "case-deadline"
    aggregate_id_field = "case_id"
    topic = TOPIC

    case_id: UUID
    organisation_id: str = Field(max_length=100)
    deadline_id: str = Field(max_length=100)
    kind: DeadlineKindName
    due: datetime


@event
class DeadlineApproaching(_DeadlineEvent):
    """A legal deadline of a case is `offset_hours` away (one event per configured offset)."""

    event_type = "haven.referral.deadline.approaching.v1"
    summary = "A legal deadline of a case (e.g. end of the reflection period) is approaching."

    offset_hours: int = Field(ge=0)

    @classmethod
    def example(cls) -> DeadlineApproaching:
        return cls(case_id=_CASE, organisation_id="ngo-a",
                   deadline_id=f"reflection-period-end:{_CASE}", kind="reflection-period-end",
                   due=datetime(2026, 12, 2, 9, 30, tzinfo=UTC), offset_hours=168)


@event
class DeadlineBreached(_DeadlineEvent):
    """A legal deadline of a case has passed."""

    event_type = "haven.referral.deadline.breached.v1"
    summary = "A legal deadline of a case has passed."

    @classmethod
    def example(cls) -> DeadlineBreached:
        return cls(case_id=_CASE, organisation_id="ngo-a",
                   deadline_id=f"reflection-period-end:{_CASE}", kind="reflection-period-end",
                   due=datetime(2026, 12, 2, 9, 30, tzinfo=UTC))


class SharedFacts(BaseModel):
    """The survivor's facts a partner may see: only those consented to, each optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    is_minor: bool | None = None
    sex: Literal["female", "male", "non_binary", "unknown"] | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    languages: list[str] | None = Field(default=None, max_length=10)
    area: str | None = Field(default=None, max_length=200)
    staff_gender: Literal["female", "male", "non_binary"] | None = None


class _PartnerEvent(Event):
    aggregate_type = "partner-referral"
    aggregate_id_field = "referral_id"
    topic = PARTNER_REFERRALS_TOPIC

    referral_id: UUID
    partner_org: str = Field(max_length=100, description="Names the topic: partner.<org>.*")
    subject: str = Field(max_length=100,
                         description="Pseudonym of the person, specific to this partner.")


@event
class PartnerReferralOffered(_PartnerEvent):
    """What a partner receives with an offer: the need and the consented facts, no identity."""

    event_type = "haven.partner.referral.offered.v1"
    summary = "A referral offered to this partner, with only the consented, non-identifying facts."

    provider_id: UUID
    need: ServiceKindName
    urgency: UrgencyName
    respond_by: datetime
    shared: SharedFacts

    @classmethod
    def example(cls) -> PartnerReferralOffered:
        return cls(referral_id=_REFERRAL, partner_org="shelter-a",
                   subject="p-4c1d9e2f7a6b3c0d8e5f1a2b", provider_id=_SERVICE, need="shelter",
                   urgency="high", respond_by=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
                   shared=SharedFacts(is_minor=True, sex="female", languages=["ti"]))


@event
class PartnerReferralWithdrawn(_PartnerEvent):
    """The offer is no longer open to this partner (taken by another, expired or cancelled)."""

    event_type = "haven.partner.referral.withdrawn.v1"
    summary = "An offer to this partner was withdrawn; discard what it shared."

    outcome: Literal["taken-by-another", "expired", "cancelled", "consent-withdrawn"]

    @classmethod
    def example(cls) -> PartnerReferralWithdrawn:
        return cls(referral_id=_REFERRAL, partner_org="shelter-a",
                   subject="p-4c1d9e2f7a6b3c0d8e5f1a2b", outcome="taken-by-another")


@event
class PartnerSubjectErased(_PartnerEvent):
    """The person was erased at the referring organisation: the partner must delete everything
    it holds under this pseudonym for this referral, whatever the referral's state."""

    event_type = "haven.partner.subject.erased.v1"
    summary = "The person behind this pseudonym was erased; delete all data received for them."

    erased_at: datetime

    @classmethod
    def example(cls) -> PartnerSubjectErased:
        return cls(referral_id=_REFERRAL, partner_org="shelter-a",
                   subject="p-4c1d9e2f7a6b3c0d8e5f1a2b", erased_at=_TIME)


#: Template of the topics partners answer on; `{org}` is the partner organisation's code.
PARTNER_RESPONSES_TOPIC = "partner.{org}.responses"


@event
class PartnerReferralAnswered(Event):
    """A partner's answer to a referral, produced by the partner to its own responses topic.

    Who answered is the topic's organisation (Kafka ACLs let each partner write only its own
    topics); referral ignores any other claim in the body.
    """

    event_type = "haven.partner.referral.answered.v1"
    aggregate_type = "partner-referral"
    aggregate_id_field = "referral_id"
    topic = PARTNER_RESPONSES_TOPIC
    summary = "A partner accepted, rejected or progressed a referral offered to it."

    referral_id: UUID
    partner_org: str = Field(default="", max_length=100,
                             description="Set by referral from the topic the answer came on.")
    action: Literal["accept", "reject", "start", "hold", "resume", "complete", "fail"]
    reason: Literal["no-capacity", "not-eligible", "cannot-meet-need", "survivor-declined",
                    "unreachable", "safety-concern", "other"] | None = None

    @classmethod
    def example(cls) -> PartnerReferralAnswered:
        return cls(referral_id=_REFERRAL, partner_org="shelter-a", action="accept")

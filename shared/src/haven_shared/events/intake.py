"""Integration events the intake service publishes (all on topic `intake.case`, keyed by case).

`haven.intake.case.opened.v1` lives in `events/types.py`. Personal fields travel only as
`SealedPersonalData`, sealed with the data subject's key; the clear fields are routing facts
that identify no one (record kind, whether the person is a minor, sex, needs, consent purposes,
sharing scope).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from haven_shared.events.catalogue import event
from haven_shared.events.model import Event, SealedPersonalData

TOPIC = "intake.case"

Sex = Literal["female", "male", "other", "unknown"]
PartnerKind = Literal[
    "tracing-service", "forensic-service", "authority", "shelter", "clinic",
    "legal-aid", "counselling", "ngo",
]
NeedKind = Literal[
    "shelter", "medical-care", "psychological-counselling", "legal-aid", "interpretation",
    "education", "vocational-training", "residence-permit-support", "child-guardian",
]
Urgency = Literal["immediate", "high", "routine"]
ConsentPurpose = Literal["tracing", "services", "disclosure"]
ErasureReason = Literal[
    "data-subject-request", "consent-withdrawn", "retention-expired", "unlawful-processing",
    "legal-obligation",
]

_CASE = UUID("0b5c3f7e-5d2a-4c1e-9a57-3f1f2b9d6a10")
_RECORD = UUID("5d1f0c2a-7b7e-4f35-9c3b-21a4e8f0d913")
_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
_MATCHING_DOC = (
    "Only what matching needs (names, sex, birth, nationalities, languages, place and date), "
    "sealed for the registry: with alg 'A256GCM-MK', AES-256-GCM under the subject's matching "
    "key (HKDF-SHA256 of the subject's data key, info 'haven matching key v2:' + key_id), the "
    "key_id as associated data; the registry fetches that key from intake "
    "(GET /internal/matching-keys/{key_id}), and erasing the subject destroys it. With alg "
    "'A256GCM' (history only): under a key derived from the secret intake and registry share, "
    "info 'haven matching v1:' + key_id. `key_id` is the data subject's key id.")
_SEALED = SealedPersonalData(
    key_id="sk-2f6a0c4e9b7d4e1fa3c5b8d7e6f50123",
    nonce="0o3QnJ7m2Yw9b0Zk",
    ciphertext="q6Xo7QnqgV1l0z3p2n8X9eR4Uu7YbJk1Zc0aHfV5wq8",
)


class _IntakeEvent(Event):
    aggregate_type = "case"
    aggregate_id_field = "case_id"
    topic = TOPIC

    case_id: UUID
    organisation_id: str = Field(max_length=100, description="Organisation owning the case.")


@event
class CaseStatusChanged(_IntakeEvent):
    """A case moved along its workflow (or was reopened); no personal data."""

    event_type = "haven.intake.case.status-changed.v1"
    summary = "A case's workflow status or risk level changed."

    status: Literal["open", "assessment", "support-plan", "services-in-progress", "closed",
                    "reopened"]
    risk_level: Literal["low", "medium", "high", "critical"]
    is_minor: bool
    changed_at: datetime

    @classmethod
    def example(cls) -> CaseStatusChanged:
        return cls(case_id=_CASE, organisation_id="ngo-a", status="assessment",
                   risk_level="high", is_minor=False, changed_at=_TIME)


@event
class MissingPersonRecorded(_IntakeEvent):
    """A relative's tracing request: who is sought, sealed; the enquirer is not on the topic."""

    event_type = "haven.intake.missing-person.recorded.v1"
    summary = "A missing-person report was filed; the sought person's details are sealed."

    report_id: UUID
    recorded_at: datetime
    sex: Sex
    is_minor: bool
    sharing_scope: list[PartnerKind] = Field(
        max_length=8, description="Kinds of partner the enquirer allows to see the report.")
    subject: SealedPersonalData
    matching: SealedPersonalData | None = Field(default=None, description=_MATCHING_DOC)

    @classmethod
    def example(cls) -> MissingPersonRecorded:
        return cls(case_id=_CASE, organisation_id="ngo-a", report_id=_RECORD, recorded_at=_TIME,
                   sex="female", is_minor=False, sharing_scope=["tracing-service"],
                   subject=_SEALED)


@event
class FoundPersonRecorded(_IntakeEvent):
    """A living person seeking family, or found in a hospital, detention or shelter."""

    event_type = "haven.intake.found-person.recorded.v1"
    summary = "A found person was recorded; their details are sealed."

    record_id: UUID
    recorded_at: datetime
    sex: Sex
    is_minor: bool
    found_setting: Literal["seeking-family", "hospital", "detention", "shelter", "other"]
    sharing_scope: list[PartnerKind] = Field(max_length=8)
    subject: SealedPersonalData
    matching: SealedPersonalData | None = Field(default=None, description=_MATCHING_DOC)

    @classmethod
    def example(cls) -> FoundPersonRecorded:
        return cls(case_id=_CASE, organisation_id="ngo-a", record_id=_RECORD, recorded_at=_TIME,
                   sex="male", is_minor=True, found_setting="shelter",
                   sharing_scope=["tracing-service"], subject=_SEALED)


@event
class RemainsRecorded(_IntakeEvent):
    """Unidentified remains (post-mortem record); DNA only ever as a reference to a sample."""

    event_type = "haven.intake.remains.recorded.v1"
    summary = "Unidentified remains were recorded; the post-mortem details are sealed."

    remains_id: UUID
    recorded_at: datetime
    estimated_sex: Sex
    is_minor: bool = Field(description="The estimated age range lies (partly) under 18.")
    subject: SealedPersonalData
    matching: SealedPersonalData | None = Field(default=None, description=_MATCHING_DOC)

    @classmethod
    def example(cls) -> RemainsRecorded:
        return cls(case_id=_CASE, organisation_id="ngo-a", remains_id=_RECORD,
                   recorded_at=_TIME, estimated_sex="unknown", is_minor=False, subject=_SEALED)


@event
class PersonRecordAmended(_IntakeEvent):
    """A missing-person report, found-person record or remains record was corrected; `subject`
    holds the whole record as it now stands (sealed with the same subject key as before)."""

    event_type = "haven.intake.person-record.amended.v1"
    summary = "A tracing record was amended; the record as it now stands is sealed."

    record_id: UUID
    record_kind: Literal["missing-person", "found-person", "unidentified-remains"]
    amended_at: datetime
    sex: Sex
    is_minor: bool
    sharing_scope: list[PartnerKind] = Field(max_length=8)
    subject: SealedPersonalData
    matching: SealedPersonalData | None = Field(default=None, description=_MATCHING_DOC)

    @classmethod
    def example(cls) -> PersonRecordAmended:
        return cls(case_id=_CASE, organisation_id="ngo-a", record_id=_RECORD,
                   record_kind="missing-person", amended_at=_TIME, sex="female",
                   is_minor=False, sharing_scope=["tracing-service"], subject=_SEALED)


class _VictimDecision(_IntakeEvent):
    screening_id: UUID
    decided_at: datetime
    decision_date: date
    is_minor: bool
    reasons: SealedPersonalData


@event
class VictimPresumed(_VictimDecision):
    """Reasonable-grounds decision: the person is presumed a victim of trafficking."""

    event_type = "haven.intake.victim.presumed.v1"
    summary = "Reasonable grounds: presumed victim of trafficking; reasons sealed."

    @classmethod
    def example(cls) -> VictimPresumed:
        return cls(case_id=_CASE, organisation_id="ngo-a", screening_id=_RECORD,
                   decided_at=_TIME, decision_date=date(2026, 11, 2), is_minor=False,
                   reasons=_SEALED)


@event
class VictimIdentified(_VictimDecision):
    """Conclusive-grounds decision: the person is identified as a victim of trafficking."""

    event_type = "haven.intake.victim.identified.v1"
    summary = "Conclusive grounds: identified victim of trafficking; reasons sealed."

    @classmethod
    def example(cls) -> VictimIdentified:
        return cls(case_id=_CASE, organisation_id="ngo-a", screening_id=_RECORD,
                   decided_at=_TIME, decision_date=date(2026, 11, 20), is_minor=False,
                   reasons=_SEALED)


class AssessedNeed(BaseModel):
    """One need and how urgent it is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    need: NeedKind
    urgency: Urgency


@event
class NeedsAssessed(_IntakeEvent):
    """A needs assessment (§17) for a case, with the preferences referral must honour."""

    event_type = "haven.intake.needs.assessed.v1"
    summary = "A survivor's needs were assessed; only routing facts, no personal details."

    assessment_id: UUID
    assessed_at: datetime
    is_minor: bool
    needs: list[AssessedNeed] = Field(max_length=20)
    languages: list[str] = Field(default_factory=list, max_length=10,
                                 description="Preferred languages (BCP 47 tags).")
    staff_gender: Literal["female", "male", "any"] = "any"
    women_only_shelter: bool = False

    @classmethod
    def example(cls) -> NeedsAssessed:
        return cls(case_id=_CASE, organisation_id="ngo-a", assessment_id=_RECORD,
                   assessed_at=_TIME, is_minor=False,
                   needs=[AssessedNeed(need="shelter", urgency="immediate")],
                   languages=["ti"], staff_gender="female", women_only_shelter=True)


class _ConsentEvent(_IntakeEvent):
    consent_id: UUID
    purpose: ConsentPurpose
    partner_kinds: list[PartnerKind] = Field(default_factory=list, max_length=8)
    at: datetime


@event
class ConsentGiven(_ConsentEvent):
    """Consent for a purpose was recorded (or a child-protection override was recorded)."""

    event_type = "haven.intake.consent.given.v1"
    summary = "Consent was recorded for a purpose (or overridden to protect a child)."

    override: bool = Field(default=False,
                           description="Recorded without consent to protect a child in danger.")

    @classmethod
    def example(cls) -> ConsentGiven:
        return cls(case_id=_CASE, organisation_id="ngo-a", consent_id=_RECORD,
                   purpose="disclosure", partner_kinds=["shelter"], at=_TIME)


@event
class ConsentWithdrawn(_ConsentEvent):
    """Consent for a purpose was withdrawn; partners must stop using the data for it."""

    event_type = "haven.intake.consent.withdrawn.v1"
    summary = "Consent for a purpose was withdrawn."

    @classmethod
    def example(cls) -> ConsentWithdrawn:
        return cls(case_id=_CASE, organisation_id="ngo-a", consent_id=_RECORD,
                   purpose="tracing", at=_TIME)


@event
class DataSubjectErased(_IntakeEvent):
    """Data subjects of a case were erased (crypto-shredding): intake destroyed their keys, so
    everything sealed with them, on any topic or in any store, can no longer be opened.

    Consumers destroy their own copies: the registry its keys of `key_ids` and their index
    entries, referral stops the case's referrals (when `case_subject`) and tells every partner
    that received data to delete it. No personal data: key ids are random.
    """

    event_type = "haven.intake.subject.erased.v1"
    summary = "Data subjects of a case were erased; every copy of their data must go."

    erasure_id: UUID
    erased_at: datetime
    reason: ErasureReason
    key_ids: list[str] = Field(max_length=200,
                               description="Subject key ids destroyed (random, identify no one).")
    record_ids: list[UUID] = Field(default_factory=list, max_length=200,
                                   description="Tracing records whose subject was erased.")
    case_subject: bool = Field(description="The person the case is about was erased (the "
                                           "case's referrals and shared data must go).")

    @classmethod
    def example(cls) -> DataSubjectErased:
        return cls(case_id=_CASE, organisation_id="ngo-a",
                   erasure_id=UUID("9a4e2c71-0d3b-4f8a-b6e5-7c1d2f3a4b50"), erased_at=_TIME,
                   reason="data-subject-request", key_ids=[_SEALED.key_id],
                   record_ids=[_RECORD], case_subject=True)

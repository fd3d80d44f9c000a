"""Events of the registry: the service-provider directory (`haven.registry.provider.*`) and
match review (`haven.registry.match.*`, family links, identifications).

Each provider event carries the whole routing state of one provider service
(`ProviderServiceState`), so the referral service can keep its read model from the latest event
of each key alone: the key is the service id, and the events of one service arrive in order.
Providers are organisations, so these events hold no personal data. Match events name person
records only by their pseudonymous person-index references and fields only by name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from haven_shared.events.catalogue import event
from haven_shared.events.model import Event

ServiceKindName = Literal[
    "shelter", "medical", "counselling", "legal_aid", "interpretation", "reintegration",
    "residence_permit_support", "guardian",
]
ServiceStatusName = Literal["active", "temporarily_closed", "withdrawn"]
GenderName = Literal["female", "male", "non_binary"]

_TOPIC = "registry.provider"
_EXAMPLE_SERVICE = UUID("5f0c8a52-3f7e-4b8e-9a61-0d2b6c1e4f70")
_EXAMPLE_ORG = UUID("a8e1d6c4-2b9f-4e57-8c3a-7d1f0e5b9a26")
_EXAMPLE_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ProviderEligibility(_Part):
    """Who the service accepts; an empty `genders` list means every gender."""

    genders: list[GenderName] = Field(default_factory=list)
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    women_only: bool = False
    child_qualified: bool = Field(
        default=False, description="May take minors (child-sensitive routing).")


class ProviderLocation(_Part):
    """A premises of the organisation where the service is delivered."""

    location_id: UUID
    name: str = Field(max_length=300)
    city: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=100)
    latitude: float | None = None
    longitude: float | None = None


class ProviderArea(_Part):
    """An area the service covers."""

    area_id: UUID
    name: str = Field(max_length=300)
    extent: str = Field(default="", description="e.g. GeoJSON of the area, when known")
    extent_type: str = Field(default="", max_length=50)


class ProviderOpeningHours(_Part):
    """A weekly opening window, local time of the service."""

    day: Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    opens_at: str = Field(pattern=r"^\d{2}:\d{2}$")
    closes_at: str = Field(pattern=r"^\d{2}:\d{2}$")


class ProviderCapacity(_Part):
    """Free capacity (e.g. beds) as of `updated_at` (HSDS 3.1 draft `service_capacity`)."""

    unit: str = Field(max_length=100)
    available: int = Field(ge=0)
    maximum: int | None = Field(default=None, ge=0)
    updated_at: datetime


class ProviderServiceState(_Part):
    """Everything referral needs to decide whether to offer this service to a survivor."""

    service_id: UUID
    organisation_id: UUID
    organisation_code: str = Field(
        default="", max_length=100,
        description="The organisation's claim in Keycloak, naming its partner topics.")
    organisation_name: str = Field(max_length=300)
    name: str = Field(max_length=300)
    kind: ServiceKindName
    status: ServiceStatusName
    eligibility: ProviderEligibility
    languages: list[str] = Field(default_factory=list, description="BCP 47 language tags.")
    locations: list[ProviderLocation] = Field(default_factory=list)
    areas: list[ProviderArea] = Field(default_factory=list)
    opening_hours: list[ProviderOpeningHours] = Field(default_factory=list)
    capacity: ProviderCapacity | None = None
    version: int = Field(ge=1, description="Increases with every change of the service.")
    changed_at: datetime


def _example_state(**changes: object) -> ProviderServiceState:
    state = ProviderServiceState(
        service_id=_EXAMPLE_SERVICE,
        organisation_id=_EXAMPLE_ORG,
        organisation_code="shelter-a",
        organisation_name="Safe Harbour Women's Shelter",
        name="Emergency shelter for women and their children",
        kind="shelter",
        status="active",
        eligibility=ProviderEligibility(genders=["female"], minimum_age=0, women_only=True,
                                        child_qualified=True),
        languages=["en", "ar", "ti"],
        locations=[ProviderLocation(location_id=UUID("1c9e2f4a-6b3d-4f8e-a7c5-9e0d1b2a3c4f"),
                                    name="Main house", city="Catania", region="Sicily",
                                    country="IT")],
        areas=[ProviderArea(area_id=UUID("7d4b1e9c-2a6f-4c3d-8e5b-0f1a2b3c4d5e"),
                            name="Province of Catania")],
        opening_hours=[ProviderOpeningHours(day="MO", opens_at="00:00", closes_at="23:59")],
        capacity=ProviderCapacity(unit="bed", available=4, maximum=12,
                                  updated_at=_EXAMPLE_TIME),
        version=1,
        changed_at=_EXAMPLE_TIME,
    )
    return state.model_copy(update=changes)


class _ProviderEvent(Event):
    aggregate_type = "provider-service"
    aggregate_id_field = "service_id"
    topic = _TOPIC

    service_id: UUID
    provider: ProviderServiceState


@event
class ProviderUpserted(_ProviderEvent):
    """A provider service was added to the directory or its details changed."""

    event_type = "haven.registry.provider.upserted.v1"
    summary = "A provider service was added or changed; carries its whole routing state."

    @classmethod
    def example(cls) -> ProviderUpserted:
        return cls(service_id=_EXAMPLE_SERVICE, provider=_example_state())


@event
class ProviderCapacityChanged(_ProviderEvent):
    """A provider service's free capacity changed (e.g. a bed was taken)."""

    event_type = "haven.registry.provider.capacity.changed.v1"
    summary = "A provider service's free capacity changed; carries its whole routing state."

    previous_available: int | None = Field(default=None, ge=0)

    @classmethod
    def example(cls) -> ProviderCapacityChanged:
        return cls(service_id=_EXAMPLE_SERVICE, previous_available=5,
                   provider=_example_state(version=2))


@event
class ProviderWithdrawn(_ProviderEvent):
    """A provider service left the directory; referral must stop offering it."""

    event_type = "haven.registry.provider.withdrawn.v1"
    summary = "A provider service was withdrawn; referral stops offering it."

    reason: str = Field(default="", max_length=500)

    @classmethod
    def example(cls) -> ProviderWithdrawn:
        return cls(service_id=_EXAMPLE_SERVICE, reason="The shelter closed.",
                   provider=_example_state(version=3, status="withdrawn"))


# ---- match review (`haven.registry.match.*`, family links, identifications) ----------------

_MATCH_TOPIC = "registry.match"
_EXAMPLE_CANDIDATE = UUID("c3a1f7e2-8d4b-4f6a-9e2c-5b7d0a1e3f48")
RecordKindName = Literal["missing", "found", "remains", "other"]


class MatchFieldEvidence(_Part):
    """How one field contributed to a match score: the field's name, never its values."""

    field: str = Field(max_length=100)
    level: int = Field(description="Agreement level; -1 when absent on either side.")
    label: str = Field(max_length=100)
    weight: float = Field(description="log2 Bayes factor the field added.")


class _MatchEvent(Event):
    aggregate_type = "match-candidate"
    aggregate_id_field = "candidate_id"
    topic = _MATCH_TOPIC

    candidate_id: UUID
    record_ref: str = Field(max_length=200, description="Pseudonymous person-index reference.")
    record_kind: RecordKindName
    candidate_ref: str = Field(max_length=200)
    candidate_kind: RecordKindName


@event
class MatchProposed(_MatchEvent):
    """The matching engine proposed two records as the same person; a reviewer decides."""

    event_type = "haven.registry.match.proposed.v1"
    summary = "Two person-index records were proposed as one person, with the evidence."

    probability: float = Field(ge=0, le=1)
    weight: float
    explanation: list[MatchFieldEvidence]
    proposed_at: datetime

    @classmethod
    def example(cls) -> MatchProposed:
        return cls(candidate_id=_EXAMPLE_CANDIDATE, record_ref="case-0b5c/found-1",
                   record_kind="found", candidate_ref="case-7d21/missing-1",
                   candidate_kind="missing", probability=0.97, weight=11.4,
                   explanation=[MatchFieldEvidence(field="name", level=3,
                                                   label="transliteration", weight=8.1),
                                MatchFieldEvidence(field="birth_date", level=-1,
                                                   label="absent", weight=0.0)],
                   proposed_at=_EXAMPLE_TIME)


@event
class FamilyLinkRestored(_MatchEvent):
    """A tracing officer confirmed that a found living person is the one a family looks for."""

    event_type = "haven.registry.family-link.restored.v1"
    summary = "A match of living people was confirmed: a family link is restored."

    confirmed_at: datetime
    reviewer_org: str = Field(max_length=100)

    @classmethod
    def example(cls) -> FamilyLinkRestored:
        return cls(candidate_id=_EXAMPLE_CANDIDATE, record_ref="case-0b5c/found-1",
                   record_kind="found", candidate_ref="case-7d21/missing-1",
                   candidate_kind="missing", confirmed_at=_EXAMPLE_TIME,
                   reviewer_org="tracing-service")


@event
class IdentificationConfirmed(_MatchEvent):
    """Two forensic reviewers confirmed that unidentified remains are a sought person."""

    event_type = "haven.registry.identification.confirmed.v1"
    summary = "Remains were identified, confirmed by two different forensic reviewers."

    confirmed_at: datetime
    reviewer_orgs: list[str] = Field(min_length=2)

    @classmethod
    def example(cls) -> IdentificationConfirmed:
        return cls(candidate_id=_EXAMPLE_CANDIDATE, record_ref="case-5e90/remains-1",
                   record_kind="remains", candidate_ref="case-7d21/missing-1",
                   candidate_kind="missing", confirmed_at=_EXAMPLE_TIME,
                   reviewer_orgs=["forensic-institute", "forensic-institute"])


@event
class MatchRejected(_MatchEvent):
    """A reviewer rejected a candidate; the pair is never proposed again."""

    event_type = "haven.registry.match.rejected.v1"
    summary = "A proposed match was rejected (the reason stays in the registry)."

    rejected_at: datetime

    @classmethod
    def example(cls) -> MatchRejected:
        return cls(candidate_id=_EXAMPLE_CANDIDATE, record_ref="case-0b5c/found-1",
                   record_kind="found", candidate_ref="case-7d21/missing-1",
                   candidate_kind="missing", rejected_at=_EXAMPLE_TIME)


@event
class MatchWithdrawn(_MatchEvent):
    """An undecided candidate was closed because one of its records left the person index
    (its case's tracing consent was withdrawn, or its subject erased); it is not proposed
    again and nobody needs to review it."""

    event_type = "haven.registry.match.withdrawn.v1"
    summary = "An undecided match was closed: one of its records left the person index."

    withdrawn_at: datetime

    @classmethod
    def example(cls) -> MatchWithdrawn:
        return cls(candidate_id=_EXAMPLE_CANDIDATE, record_ref="case-0b5c/found-1",
                   record_kind="found", candidate_ref="case-7d21/missing-1",
                   candidate_kind="missing", withdrawn_at=_EXAMPLE_TIME)


# ---- family notification (`haven.registry.family-notification.*`) -----------------------

_EXAMPLE_TASK = UUID("0e6f3b9a-7c21-4d58-a4e0-93b2c5d1f7a6")
NotificationKindName = Literal["family-link", "identification"]
NotificationStateName = Literal["open", "in-progress", "done"]


class _FamilyNotificationEvent(Event):
    # Keyed by the candidate, so a task's events follow the confirmation they come from.
    aggregate_type = "family-notification-task"
    aggregate_id_field = "candidate_id"
    topic = _MATCH_TOPIC

    task_id: UUID
    candidate_id: UUID
    kind: NotificationKindName
    record_ref: str = Field(max_length=200,
                            description="The enquirer's record (pseudonymous reference).")
    organisation_id: str = Field(max_length=100,
                                 description="The enquirer's organisation, assigned the task.")
    state: NotificationStateName
    changed_at: datetime


@event
class FamilyNotificationRequested(_FamilyNotificationEvent):
    """A confirmed match (family link restored, remains identified) asks the enquirer's
    organisation to tell the family: a task, open until its caseworker reports it done."""

    event_type = "haven.registry.family-notification.requested.v1"
    summary = "A family must be told of a confirmed match: a task for the enquirer's organisation."

    @classmethod
    def example(cls) -> FamilyNotificationRequested:
        return cls(task_id=_EXAMPLE_TASK, candidate_id=_EXAMPLE_CANDIDATE, kind="family-link",
                   record_ref="case-7d21/missing-1", organisation_id="ngo-a", state="open",
                   changed_at=_EXAMPLE_TIME)


@event
class FamilyNotificationUpdated(_FamilyNotificationEvent):
    """The enquirer's caseworker moved a family-notification task on (in progress, done)."""

    event_type = "haven.registry.family-notification.updated.v1"
    summary = "A family-notification task changed state (open → in-progress → done)."

    @classmethod
    def example(cls) -> FamilyNotificationUpdated:
        return cls(task_id=_EXAMPLE_TASK, candidate_id=_EXAMPLE_CANDIDATE, kind="family-link",
                   record_ref="case-7d21/missing-1", organisation_id="ngo-a",
                   state="in-progress", changed_at=_EXAMPLE_TIME)

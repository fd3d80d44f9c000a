"""Sample directory objects for the registry's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import UUID, uuid4

from registry.domain.directory import (
    Capacity,
    Eligibility,
    Gender,
    Location,
    OpeningHours,
    Organisation,
    ProviderService,
    ServiceArea,
    ServiceDetails,
    ServiceKind,
    Weekday,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def organisation(code: str = "shelter-a") -> Organisation:
    return Organisation(id=uuid4(), name="Safe Harbour", description="Shelter for women.",
                        code=code, website="https://safe-harbour.example.org",
                        email="intake@safe-harbour.example.org")


def shelter_details(**changes: object) -> ServiceDetails:
    values: dict[str, object] = dict(
        name="Emergency shelter for women", kind=ServiceKind.SHELTER,
        description="Beds for women and their children.",
        eligibility=Eligibility(genders=frozenset({Gender.FEMALE}), minimum_age=0,
                                maximum_age=120, women_only=True, child_qualified=True),
        languages=("en", "ar", "ti"),
        locations=(Location(id=uuid4(), name="Main house", address="Via Etnea 1",
                            city="Catania", region="Sicily", postal_code="95100",
                            country="IT", latitude=37.5, longitude=15.08),),
        areas=(ServiceArea(id=uuid4(), name="Province of Catania"),),
        opening_hours=(OpeningHours(id=uuid4(), day=Weekday.MO, opens_at=time(9),
                                    closes_at=time(17, 30)),),
    )
    values.update(changes)
    return ServiceDetails(**values)  # type: ignore[arg-type]


def beds(available: int = 4, maximum: int | None = 12) -> Capacity:
    return Capacity(id=uuid4(), unit="bed", available=available, maximum=maximum,
                    updated_at=NOW)


def shelter(service_id: UUID | None = None) -> ProviderService:
    return ProviderService.register(service_id or uuid4(), organisation(), shelter_details(),
                                    NOW, beds())

"""Builders shared by referral's unit and integration tests: registry provider events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from haven_shared.events.registry import (
    ProviderArea,
    ProviderCapacity,
    ProviderEligibility,
    ProviderServiceState,
    ProviderUpserted,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def provider_state(org: str, kind: str = "shelter", area: str = "Catania", *,
                   version: int = 1, available: int | None = 3, women_only: bool = False,
                   child_qualified: bool = False, genders: tuple[str, ...] = (),
                   status: str = "active", service_id: uuid.UUID | None = None,
                   languages: tuple[str, ...] = ("en",)) -> ProviderServiceState:
    """A provider service of organisation `org` serving `area`."""
    capacity = None if available is None else ProviderCapacity(
        unit="bed", available=available, maximum=10, updated_at=T0)
    values: dict[str, Any] = {
        "service_id": service_id or uuid.uuid4(), "organisation_id": uuid.uuid4(),
        "organisation_code": org, "organisation_name": f"{org} organisation",
        "name": f"{kind} of {org}", "kind": kind, "status": status,
        "eligibility": ProviderEligibility(genders=list(genders), women_only=women_only,
                                           child_qualified=child_qualified),
        "languages": list(languages),
        "areas": [ProviderArea(area_id=uuid.uuid4(), name=area)],
        "capacity": capacity, "version": version, "changed_at": T0,
    }
    return ProviderServiceState(**values)


def upserted(state: ProviderServiceState) -> ProviderUpserted:
    return ProviderUpserted(service_id=state.service_id, provider=state)


def referral_body(case_id: uuid.UUID, area: str, kind: str = "shelter", *,
                  is_minor: bool = True, sex: str = "female", age: int = 16,
                  women_only: bool = True, consent: bool = True,
                  fields: tuple[str, ...] = ("is_minor", "sex", "languages"),
                  mode: str = "sequential", **extra: Any) -> dict[str, Any]:
    """The body of POST /referrals for one need."""
    return {
        "case_id": str(case_id),
        "need": {"kind": kind, "urgency": "high", "area": area, "languages": ["ti"],
                 "women_only_shelter": women_only},
        "survivor": {"is_minor": is_minor, "sex": sex, "age": age},
        "consent": {"given": consent, "shared_fields": list(fields)},
        "mode": mode,
        **extra,
    }


#: The purpose-of-use header every read of a case's referrals needs.
READ = {"X-Purpose-Of-Use": "service-referral"}

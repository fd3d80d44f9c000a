"""Rules of the service directory's domain: capacity, kinds, eligibility, withdrawal."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from registry_samples import NOW, beds, shelter, shelter_details

from registry.domain.directory import (
    CapacityChanged,
    DirectoryError,
    Eligibility,
    Gender,
    InvalidCapacity,
    InvalidEligibility,
    ServiceKind,
    ServiceStatus,
    ServiceUpserted,
    ServiceWithdrawn,
    ServiceWithdrawnEvent,
    UnknownServiceKind,
)


def test_registering_a_service_records_an_upsert_at_version_one() -> None:
    service = shelter()
    assert [type(e) for e in service.events] == [ServiceUpserted]
    assert service.version == 1
    assert service.events[0].service.events == []  # the snapshot carries no events


def test_capacity_below_zero_is_refused() -> None:
    with pytest.raises(InvalidCapacity):
        beds(available=-1)
    service = shelter()
    with pytest.raises(InvalidCapacity):
        service.update_capacity(-3, NOW)
    assert service.capacity is not None and service.capacity.available == 4


def test_more_available_than_the_maximum_is_refused() -> None:
    with pytest.raises(InvalidCapacity):
        shelter().update_capacity(13, NOW)


def test_a_capacity_update_records_the_previous_value_and_bumps_the_version() -> None:
    service = shelter()
    service.events.clear()
    service.update_capacity(2, NOW + timedelta(hours=1))
    [event] = service.events
    assert isinstance(event, CapacityChanged)
    assert event.previous_available == 4
    assert event.service.capacity is not None and event.service.capacity.available == 2
    assert event.service.capacity.maximum == 12
    assert service.version == 2


def test_unknown_service_kinds_are_refused_without_quoting_them() -> None:
    with pytest.raises(UnknownServiceKind) as info:
        ServiceKind.parse("haircut-for-Amina")
    assert "Amina" not in str(info.value)
    assert ServiceKind.parse("legal_aid") is ServiceKind.LEGAL_AID


@pytest.mark.parametrize("rules", [
    {"minimum_age": 18, "maximum_age": 12},
    {"minimum_age": -1},
    {"women_only": True, "genders": frozenset({Gender.MALE})},
])
def test_contradictory_eligibility_is_refused(rules: dict[str, object]) -> None:
    with pytest.raises(InvalidEligibility):
        Eligibility(**rules)  # type: ignore[arg-type]


def test_minors_go_only_to_child_qualified_services() -> None:
    assert Eligibility(child_qualified=True).accepts_minors()
    assert not Eligibility(child_qualified=False).accepts_minors()
    assert not Eligibility(child_qualified=True, minimum_age=18).accepts_minors()


def test_a_withdrawn_service_changes_no_more() -> None:
    service = shelter()
    service.withdraw("The shelter closed.", NOW)
    assert service.status is ServiceStatus.WITHDRAWN
    assert isinstance(service.events[-1], ServiceWithdrawnEvent)
    with pytest.raises(ServiceWithdrawn):
        service.update_capacity(1, NOW)
    with pytest.raises(ServiceWithdrawn):
        service.revise(shelter_details(), NOW)
    with pytest.raises(ServiceWithdrawn):
        service.withdraw("again", NOW)


def test_revising_cannot_withdraw_without_a_reason() -> None:
    service = shelter()
    with pytest.raises(DirectoryError):
        service.revise(replace(shelter_details(), status=ServiceStatus.WITHDRAWN), NOW)


def test_opening_hours_must_close_after_they_open() -> None:
    from datetime import time

    from registry.domain.directory import OpeningHours, Weekday
    with pytest.raises(DirectoryError):
        OpeningHours(id=uuid4(), day=Weekday.TU, opens_at=time(18), closes_at=time(9))

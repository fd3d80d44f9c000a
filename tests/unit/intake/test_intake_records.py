"""Cross-field rules of missing-person reports, found persons and unidentified remains."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from intake.domain.errors import InvalidField
from intake.domain.records import (
    Enquirer,
    LastSeen,
    MissingPersonReport,
    PersonName,
    UnidentifiedRemains,
)

TODAY = date(2026, 11, 23)


def _report(**changes: object) -> MissingPersonReport:
    report = MissingPersonReport(
        id=uuid.uuid4(), names=(PersonName("Amani"),), sex="female",
        date_of_birth=date(1996, 3, 14), estimated_age=None, nationalities=("ER",),
        languages=("ti",), physical_description=None,
        last_seen=LastSeen("Zuwara", date(2025, 6, 2), "shipwreck"),
        enquirer=Enquirer("Selam", "sibling", "+31 6"), sharing_scope=("tracing-service",))
    return replace(report, **changes)  # type: ignore[arg-type]


def _remains(**changes: object) -> UnidentifiedRemains:
    remains = UnidentifiedRemains(
        id=uuid.uuid4(), found_place="Lampedusa", found_date=date(2025, 7, 1),
        estimated_sex="male", estimated_age_min=25, estimated_age_max=35,
        date_of_death=date(2025, 6, 20), date_of_birth=None, post_mortem_interval_days=11,
        description=None, personal_effects=(), dna_sample_reference=None)
    return replace(remains, **changes)  # type: ignore[arg-type]


def test_a_valid_report_passes_with_names_normalised() -> None:
    clean = _report(names=(PersonName("Jose\u0301"),)).validated(TODAY)
    assert clean.names[0].text == "Jos\u00e9"


def test_born_after_last_seen_is_refused_on_the_last_seen_date() -> None:
    with pytest.raises(InvalidField) as e:
        _report(date_of_birth=date(2025, 7, 1)).validated(TODAY)
    assert e.value.field == "last_seen.date"


def test_a_last_seen_date_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _report(last_seen=LastSeen("Zuwara", date(2027, 1, 1), "shipwreck")).validated(TODAY)
    assert e.value.code == "future-date"


def test_an_impossible_birth_date_is_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _report(date_of_birth=date(1880, 1, 1)).validated(TODAY)
    assert e.value.field == "date_of_birth"


def test_a_bidi_override_in_the_enquirers_name_is_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _report(enquirer=Enquirer("Se\u202elam", "sibling", "x")).validated(TODAY)
    assert e.value.field == "enquirer.name"


def test_death_before_birth_is_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _remains(date_of_birth=date(2025, 6, 21)).validated(TODAY)
    assert e.value.field == "date_of_death"


def test_remains_found_before_death_are_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _remains(found_date=date(2025, 6, 1)).validated(TODAY)
    assert e.value.field == "found_date"


def test_remains_whose_age_range_reaches_below_18_count_as_a_minor() -> None:
    assert _remains(estimated_age_min=15, estimated_age_max=19).is_minor()
    assert not _remains().is_minor()

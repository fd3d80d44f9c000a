"""Field comparisons: partial dates, age estimates, chronology and distance."""

import datetime as dt

from registry.matching.comparison import MISSING, Frequencies, compare, field_specs
from registry.matching.features import Features
from registry.matching.records import AgeEstimate, BirthDate, PersonRecord, RecordKind, Sighting

FIELDS = [f.name for f in field_specs(())]


def _levels(a: PersonRecord, b: PersonRecord) -> dict[str, int]:
    fa, fb = Features(a, ()), Features(b, ())
    freq = Frequencies(0)
    freq.add(fa)
    freq.add(fb)
    return dict(zip(FIELDS, compare(fa, fb, freq)[0], strict=True))


def test_year_only_birth_date_agrees_with_full_date_of_that_year() -> None:
    a = PersonRecord("a", birth_date=BirthDate(1994, 3, 2))
    b = PersonRecord("b", birth_date=BirthDate(1994))
    assert _levels(a, b)["birth"] == 2


def test_day_and_month_swapped_is_a_near_agreement() -> None:
    a = PersonRecord("a", birth_date=BirthDate(1994, 3, 7))
    b = PersonRecord("b", birth_date=BirthDate(1994, 7, 3))
    assert _levels(a, b)["birth"] == 3


def test_age_estimate_is_compared_as_a_birth_year_range() -> None:
    found = dt.date(2020, 6, 1)
    a = PersonRecord("a", birth_date=BirthDate(1995, 1, 1))
    consistent = PersonRecord("b", age_estimate=AgeEstimate(20, 30, found))
    too_old = PersonRecord("c", age_estimate=AgeEstimate(50, 60, found))
    assert _levels(a, consistent)["birth"] == 1
    assert _levels(a, too_old)["birth"] == 0


def test_found_before_last_seen_is_impossible() -> None:
    report = PersonRecord(
        "a", RecordKind.MISSING_PERSON_REPORT, last_seen=Sighting(dt.date(2021, 5, 1), 32.9, 13.2)
    )
    early = PersonRecord("b", found=Sighting(dt.date(2021, 1, 1), 32.9, 13.2))
    later = PersonRecord("c", found=Sighting(dt.date(2021, 6, 1), 35.5, 12.6))
    assert _levels(report, early)["place_and_time"] == 0
    assert _levels(report, later)["place_and_time"] == 2


def test_remains_dead_long_before_last_seen_are_impossible() -> None:
    report = PersonRecord("a", last_seen=Sighting(dt.date(2021, 5, 1)))
    remains = PersonRecord(
        "b",
        RecordKind.UNIDENTIFIED_REMAINS,
        found=Sighting(dt.date(2021, 6, 1)),
        post_mortem_interval_days=(200, 300),
    )
    assert _levels(report, remains)["place_and_time"] == 0


def test_far_away_within_a_day_is_implausible() -> None:
    report = PersonRecord("a", last_seen=Sighting(dt.date(2021, 5, 1), 34.5, 69.2))  # Kabul
    found = PersonRecord("b", found=Sighting(dt.date(2021, 5, 2), 39.1, 26.5))  # Lesbos
    assert _levels(report, found)["place_and_time"] == 1


def test_height_ranges_and_marks_compare_as_ranges_and_terms() -> None:
    a = PersonRecord("a", height_cm=(170, 178), distinguishing_marks=("Scar left forearm",))
    b = PersonRecord("b", height_cm=(172, 180), distinguishing_marks=("scar  LEFT forearm",))
    c = PersonRecord("c", height_cm=(150, 155), distinguishing_marks=("gold tooth",))
    assert _levels(a, b)["height"] == 2 and _levels(a, b)["distinguishing_marks"] == 1
    assert _levels(a, c)["height"] == 0 and _levels(a, c)["distinguishing_marks"] == 0


def test_swapped_name_order_still_agrees_on_given_name() -> None:
    a = PersonRecord("a", given_names=("Yonas",), family_names=("Tesfay", "Gebre"))
    b = PersonRecord("b", given_names=("Tesfay",), family_names=("Yonas", "Gebre"))
    levels = _levels(a, b)
    assert levels["given_name"] == 3
    assert levels["other_names"] >= 2


def test_siblings_disagree_on_given_name_though_they_share_father_and_grandfather() -> None:
    a = PersonRecord("a", given_names=("Yonas",), family_names=("Tesfay", "Gebre"))
    b = PersonRecord("b", given_names=("Selam",), family_names=("Tesfay", "Gebre"))
    assert _levels(a, b)["given_name"] == 0


def test_absent_fields_are_reported_missing() -> None:
    levels = _levels(PersonRecord("a"), PersonRecord("b", sex="f"))
    assert set(levels.values()) == {MISSING}

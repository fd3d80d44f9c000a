"""Incremental index: add one record at a time, match a new record against all of them."""

import datetime as dt

from registry.matching import (
    AgeEstimate,
    BirthDate,
    MatchIndex,
    PersonRecord,
    RecordKind,
    Sighting,
)
from registry.matching.synthetic import generate

SEEN = Sighting(dt.date(2022, 3, 1), 15.5, 32.56)
FOUND = Sighting(dt.date(2022, 9, 1), 32.9, 13.2)


def _report(rid: str, given: str, *family: str, year: int = 1996) -> PersonRecord:
    return PersonRecord(
        rid,
        RecordKind.MISSING_PERSON_REPORT,
        (given,),
        family,
        sex="m",
        birth_date=BirthDate(year, 4, 12),
        nationality="so",
        last_seen=SEEN,
    )


def _index_with_background() -> MatchIndex:
    index = MatchIndex()
    index.add_many(generate(2000, seed=3).reports)
    return index


def test_a_just_added_record_is_returned_by_the_next_query() -> None:
    index = _index_with_background()
    index.add(_report("target", "Maxamed", "Cabdiraxmaan", "Xasan"))
    found = PersonRecord(
        "probe",
        RecordKind.FOUND_PERSON,
        ("Mohamed",),
        ("Abdelrahman", "Hassan"),
        sex="m",
        birth_date=BirthDate(1996),
        found=FOUND,
    )
    candidates = index.query(found, limit=5)
    assert candidates and candidates[0].record_id == "target"
    assert candidates[0].probability > 0.5


def test_swapped_name_order_and_dropped_grandfather_still_rank_first() -> None:
    index = _index_with_background()
    index.add(_report("target", "Yonas", "Tesfay", "Gebremedhin"))
    probe = PersonRecord(
        "probe",
        RecordKind.FOUND_PERSON,
        ("Tesfay",),
        ("Yonas",),
        sex="m",
        birth_date=BirthDate(1996),
        found=FOUND,
    )
    assert index.query(probe, limit=3)[0].record_id == "target"


def test_a_query_never_returns_the_record_itself() -> None:
    index = MatchIndex()
    record = _report("same", "Ahmed", "Ali", "Omar")
    index.add(record)
    assert index.query(record) == []


def test_query_can_be_limited_to_record_kinds() -> None:
    index = MatchIndex()
    index.add(_report("r1", "Ahmed", "Ali", "Omar"))
    probe = _report("r2", "Ahmed", "Ali", "Omar")
    assert index.query(probe, kinds={RecordKind.UNIDENTIFIED_REMAINS}) == []
    reports = index.query(probe, kinds={RecordKind.MISSING_PERSON_REPORT})
    assert [c.record_id for c in reports] == ["r1"]


def test_explanations_name_the_agreeing_and_absent_fields() -> None:
    index = MatchIndex()
    index.add(_report("r1", "Ahmed", "Ali", "Omar"))
    probe = PersonRecord("p", given_names=("Ahmad",), family_names=("Ali", "Omar"))
    (candidate,) = index.query(probe)
    explanation = candidate.explanation
    assert "given_name" in explanation.agreeing and "other_names" in explanation.agreeing
    assert {"sex", "birth", "nationality", "place_and_time"} <= set(explanation.absent)
    assert round(sum(f.weight for f in explanation.fields), 2) == round(explanation.weight, 2)


def test_match_and_add_returns_earlier_records_then_indexes_the_new_one() -> None:
    index = MatchIndex()
    assert index.match_and_add(_report("r1", "Ahmed", "Ali", "Omar")) == []
    second = index.match_and_add(_report("r2", "Ahmed", "Ali", "Omar"))
    assert [c.record_id for c in second] == ["r1"]
    assert len(index) == 2


def test_records_with_only_an_age_or_no_name_do_not_crash_the_index() -> None:
    index = _index_with_background()
    bare = PersonRecord("bare")
    age_only = PersonRecord(
        "age",
        RecordKind.UNIDENTIFIED_REMAINS,
        sex="f",
        found=FOUND,
        post_mortem_interval_days=(10, 40),
    )
    for record in (bare, age_only):
        index.add(record)
        assert isinstance(index.query(record), list)


def test_a_removed_record_is_never_returned_and_can_be_added_again() -> None:
    index = _index_with_background()
    size = len(index)
    index.add(_report("target", "Yonas", "Tesfay", "Gebremedhin"))
    probe = _report("probe", "Yonas", "Tesfay", "Gebremedhin")
    assert index.query(probe, limit=1)[0].record_id == "target"
    assert index.remove("target") is True
    assert "target" not in index and len(index) == size
    assert all(c.record_id != "target" for c in index.query(probe, limit=50))
    assert index.remove("target") is False
    index.add(_report("target", "Yonas", "Tesfay", "Gebremedhin"))
    assert index.query(probe, limit=1)[0].record_id == "target"


def test_adding_a_record_id_again_replaces_the_earlier_version() -> None:
    index = MatchIndex()
    index.add(_report("r1", "Ahmed", "Ali", "Omar"))
    index.add(_report("r1", "Selam", "Haile", "Gebre", year=1970))
    assert len(index) == 1
    assert index.query(_report("p", "Ahmed", "Ali", "Omar")) == []
    found = index.query(_report("p", "Selam", "Haile", "Gebre", year=1970))
    assert [c.record_id for c in found] == ["r1"]


def test_a_just_added_record_with_a_very_common_name_is_found_by_the_next_query() -> None:
    # Thousands of records share the names: the block is read newest first, never skipped.
    index = MatchIndex(max_block=500)
    index.add_many(
        _report(f"bg{i}", "Mohamed", "Ali", "Hassan", year=1940 + i % 40) for i in range(3000)
    )
    index.add(_report("target", "Maxamed", "Cali", "Xasan", year=1996))
    probe = PersonRecord(
        "probe",
        RecordKind.FOUND_PERSON,
        ("Muhammad",),
        ("Ali", "Hasan"),
        sex="m",
        birth_date=BirthDate(1996, 4, 12),
        found=FOUND,
    )
    found = index.query(probe, limit=5)
    assert found and found[0].record_id == "target"


def test_a_nameless_remains_record_is_proposed_for_a_missing_person_report() -> None:
    index = _index_with_background()
    remains = PersonRecord(
        "remains",
        RecordKind.UNIDENTIFIED_REMAINS,
        sex="m",
        age_estimate=AgeEstimate(24, 30, dt.date(2022, 9, 1)),
        found=FOUND,
        height_cm=(170, 180),
        post_mortem_interval_days=(20, 60),
    )
    index.add(remains)
    report = _report("report", "Yonas", "Tesfay", "Gebremedhin")
    found = index.query(report, limit=10, kinds={RecordKind.UNIDENTIFIED_REMAINS})
    assert "remains" in [c.record_id for c in found]
    (candidate,) = [c for c in found if c.record_id == "remains"]
    assert {"given_name", "other_names"} <= set(candidate.explanation.absent)

"""Incremental index: add one record at a time, match a new record against all of them."""

import datetime as dt

from registry.matching import BirthDate, MatchIndex, PersonRecord, RecordKind, Sighting
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

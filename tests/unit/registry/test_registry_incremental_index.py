"""The in-memory person index changes for one record at a time: an amended or withdrawn record
is retired without rebuilding the whole index, its old version never answers again, and the
index is rebuilt only when retired versions pile up."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from registry.domain.person_index import IntakeKind, PersonEntry
from registry.service_layer.person_index import PersonIndex

PERSON = {"names": ["Mohammed Abdelrahman"], "sex": "male", "date_of_birth": "1994-03-12",
          "nationalities": ["SD"], "languages": ["ar"], "place": "Agadez, Niger",
          "date": "2026-05-01"}
FOUND = {**PERSON, "names": ["Muhammad Abd al-Rahman"], "place": "Agadez hospital",
         "date": "2026-06-10"}
OTHER = {**PERSON, "names": ["Fatima Osman"], "sex": "female", "date_of_birth": "1990-01-02"}


def entry(kind: IntakeKind, fields: dict[str, Any], ref: str | None = None) -> PersonEntry:
    return PersonEntry(ref=ref or f"intake/{kind.value}/{uuid4()}", case_id=uuid4(),
                       organisation_id="ngo-a", kind=kind, key_id="k", sharing_scope=(),
                       fields=fields, indexed=True)


def filler(n: int) -> list[PersonEntry]:
    names = ["Amina Yusuf", "Tesfaye Bekele", "Omar Farah", "Lina Haddad", "Samuel Okoro"]
    return [entry(IntakeKind.FOUND_PERSON,
                  {**OTHER, "names": [f"{names[i % 5]} {i}"],
                   "date_of_birth": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 9}"})
            for i in range(n)]


def test_a_removed_record_is_no_longer_proposed_and_nothing_is_rebuilt() -> None:
    index = PersonIndex()
    index.rebuild(filler(20))
    report = entry(IntakeKind.MISSING_PERSON, PERSON)
    assert index.match(report, threshold=0.5) == []
    assert index.rebuilds == 1 and len(index) == 21
    assert index.remove(report.ref) is True
    assert report.ref not in index and len(index) == 20
    assert index.match(entry(IntakeKind.FOUND_PERSON, FOUND), threshold=0.5) == []
    assert index.rebuilds == 1, "one record left: the index was not rebuilt"
    assert index.remove(report.ref) is False


def test_an_amended_record_answers_with_its_new_fields_only() -> None:
    index = PersonIndex()
    report = entry(IntakeKind.MISSING_PERSON, OTHER)
    index.match(report, threshold=0.5)
    # The family corrects the name: the old version is retired, the new one indexed.
    index.remove(report.ref)
    amended = entry(IntakeKind.MISSING_PERSON, PERSON, ref=report.ref)
    assert index.match(amended, threshold=0.5) == [], "the old version is not its own match"
    found = index.match(entry(IntakeKind.FOUND_PERSON, FOUND), threshold=0.5)
    assert [c.record_id for c in found] == [report.ref]
    sister = index.match(entry(IntakeKind.FOUND_PERSON, OTHER), threshold=0.5)
    assert report.ref not in [c.record_id for c in sister], "the retired fields never answer"
    assert index.dead == 1 and index.rebuilds == 0


def test_matching_an_indexed_record_again_adds_nothing() -> None:
    index = PersonIndex()
    report = entry(IntakeKind.MISSING_PERSON, PERSON)
    index.match(report, threshold=0.5)
    index.match(report, threshold=0.5)
    assert len(index) == 1 and len(index.index) == 1


def test_the_index_is_rebuilt_only_when_retired_versions_pile_up() -> None:
    index = PersonIndex(max_dead_share=0.1, min_dead=5)
    entries = filler(40)
    index.rebuild(entries)
    for e in entries[:4]:
        index.remove(e.ref)
    assert not index.needs_compaction()
    index.remove(entries[4].ref)
    assert index.needs_compaction(), "5 retired of 40 held is more than 10 %"
    index.rebuild(entries[5:])
    assert index.dead == 0 and len(index.index) == 35 and index.rebuilds == 2

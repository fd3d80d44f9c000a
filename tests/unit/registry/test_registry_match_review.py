"""Match review: four eyes for remains, rejection for good, permissions, and proposals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from registry_samples import NOW

from haven_shared.db import make_engine
from haven_shared.outbox import OutboxMessage
from registry.adapters.match_repository import MatchCandidateRepository
from registry.adapters.tables import create_directory_tables
from registry.bootstrap import unit_of_work_factory
from registry.domain.match_review import (
    AlreadyDecided,
    Evidence,
    MatchCandidate,
    MatchStatus,
    Reviewer,
    ReviewError,
    ReviewNotPermitted,
    SameReviewerTwice,
)
from registry.matching import BirthDate, MatchIndex, PersonRecord, RecordKind, Sighting
from registry.service_layer import match_review as uc
from registry.service_layer.errors import NotFoundError

TOM = Reviewer("tom", "tracing-service", frozenset({"tracing_officer"}))
FIONA = Reviewer("fiona", "forensic-institute",
                 frozenset({"forensic_reviewer", "deceased_records"}))
FELIX = Reviewer("felix", "forensic-institute",
                 frozenset({"forensic_reviewer", "deceased_records"}))
NO_DECEASED = Reviewer("frank", "forensic-institute", frozenset({"forensic_reviewer"}))


def candidate(kinds: tuple[str, str] = ("found", "missing")) -> MatchCandidate:
    return MatchCandidate.propose(uuid4(), "case-1/found-1", kinds[0], "case-2/missing-1",
                                  kinds[1], 0.97, 11.2,
                                  (Evidence("name", 3, "transliteration", 8.0),), NOW)


def test_a_tracing_officer_confirming_a_living_match_completes_it() -> None:
    c = candidate()
    c.confirm(TOM, NOW)
    assert c.status is MatchStatus.CONFIRMED
    assert type(c.events[-1]).__name__ == "MatchConfirmed"


def test_remains_need_two_different_forensic_reviewers() -> None:
    c = candidate(("remains", "missing"))
    c.confirm(FIONA, NOW)
    assert c.status is MatchStatus.AWAITING_SECOND_REVIEW
    assert [type(e).__name__ for e in c.events] == ["MatchProposed"]
    with pytest.raises(SameReviewerTwice):
        c.confirm(FIONA, NOW)
    c.confirm(FELIX, NOW)
    assert c.status is MatchStatus.CONFIRMED
    assert type(c.events[-1]).__name__ == "MatchConfirmed"


def test_remains_need_the_deceased_records_permission_and_a_tracing_officer_is_not_enough(
) -> None:
    c = candidate(("remains", "missing"))
    for reviewer in (TOM, NO_DECEASED):
        assert not c.visible_to(reviewer)
        with pytest.raises(ReviewNotPermitted):
            c.confirm(reviewer, NOW)


def test_confirming_a_rejected_candidate_is_refused() -> None:
    c = candidate()
    c.reject(TOM, "Different mothers' names.", NOW)
    with pytest.raises(AlreadyDecided):
        c.confirm(TOM, NOW)


def test_a_rejection_needs_a_reason() -> None:
    with pytest.raises(ReviewError):
        candidate().reject(TOM, "  ", NOW)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    create_directory_tables(engine)
    yield engine
    engine.dispose()


def _records() -> tuple[PersonRecord, PersonRecord]:
    seen = Sighting(dt.date(2025, 6, 1), 35.9, 14.4)
    missing = PersonRecord("case-7/missing-1", RecordKind.MISSING_PERSON_REPORT,
                           given_names=("Mohammed",), family_names=("Abdullahi", "Hassan"),
                           sex="m", birth_date=BirthDate(1994, 3, 2), last_seen=seen)
    found = PersonRecord("case-9/found-1", RecordKind.FOUND_PERSON,
                         given_names=("Maxamed",), family_names=("Cabdullaahi", "Xasan"),
                         sex="m", birth_date=BirthDate(1994, 3, 2),
                         found=Sighting(dt.date(2025, 6, 20), 37.5, 15.1))
    return missing, found


def test_an_arriving_record_is_proposed_once_and_a_rejected_pair_never_again(engine) -> None:
    uow = unit_of_work_factory(engine)
    index = MatchIndex()
    missing, found = _records()
    assert uc.propose_matches(uow(), index, missing, NOW, threshold=0.5) == []
    [proposed] = uc.propose_matches(uow(), index, found, NOW, threshold=0.5)
    assert {proposed.record_ref, proposed.candidate_ref} == {missing.record_id,
                                                             found.record_id}
    assert any(e.field for e in proposed.evidence)
    uc.reject_match(uow(), proposed.id, TOM, "Different people.", NOW)
    rebuilt = MatchIndex()  # e.g. after a restart, the same pair scores again
    rebuilt.add(missing)
    assert uc.propose_matches(uow(), rebuilt, found, NOW, threshold=0.5) == []
    with engine.connect() as conn:
        types = [r.type for r in conn.execute(sa.select(OutboxMessage.__table__))]
    assert types == ["haven.registry.match.proposed.v1", "haven.registry.match.rejected.v1"]


def test_a_hidden_candidate_is_not_found_for_a_reviewer_without_permission(engine) -> None:
    uow = unit_of_work_factory(engine)
    c = candidate(("remains", "missing"))
    with uow() as w:
        MatchCandidateRepository(w.session).save(c)
        w.commit()
    assert uc.list_candidates(uow(), TOM) == []
    with pytest.raises(NotFoundError):
        uc.get_candidate(uow(), c.id, TOM)
    assert [x.id for x in uc.list_candidates(uow(), FIONA)] == [c.id]


# ---- a child's match: a tracing officer and child protection confirm it ------------------

CHRIS = Reviewer("chris", "ngo-a", frozenset({"caseworker", "child_protection"}))
TESS = Reviewer("tess", "tracing-service", frozenset({"tracing_officer"}))
BOTH = Reviewer("bo", "tracing-service", frozenset({"tracing_officer", "child_protection"}))


def childs_candidate() -> MatchCandidate:
    return MatchCandidate.propose(uuid4(), "case-1/found-1", "found", "case-2/missing-1",
                                  "missing", 0.97, 11.2,
                                  (Evidence("name", 3, "transliteration", 8.0),), NOW,
                                  involves_minor=True)


@pytest.mark.parametrize("first, second", [(TOM, CHRIS), (CHRIS, TOM), (BOTH, TOM),
                                           (CHRIS, BOTH)])
def test_a_child_s_match_needs_a_tracing_officer_and_child_protection(
        first: Reviewer, second: Reviewer) -> None:
    c = childs_candidate()
    assert c.confirmations_needed == 2
    c.confirm(first, NOW)
    assert c.status is MatchStatus.AWAITING_SECOND_REVIEW
    assert [type(e).__name__ for e in c.events] == ["MatchProposed"]
    c.confirm(second, NOW)
    assert c.status is MatchStatus.CONFIRMED
    assert type(c.events[-1]).__name__ == "MatchConfirmed"


@pytest.mark.parametrize("first, second", [(TOM, TESS), (TOM, TOM), (BOTH, BOTH)])
def test_two_tracing_officers_or_one_person_twice_do_not_confirm_a_child_s_match(
        first: Reviewer, second: Reviewer) -> None:
    c = childs_candidate()
    c.confirm(first, NOW)
    with pytest.raises(ReviewError):
        c.confirm(second, NOW)
    assert c.status is MatchStatus.AWAITING_SECOND_REVIEW


def test_child_protection_sees_and_reviews_only_children_s_living_matches() -> None:
    assert childs_candidate().visible_to(CHRIS)
    assert not candidate().visible_to(CHRIS)
    with pytest.raises(ReviewNotPermitted):
        candidate().confirm(CHRIS, NOW)
    remains = MatchCandidate.propose(uuid4(), "case-1/remains-1", "remains", "case-2/missing-1",
                                     "missing", 0.9, 9.0, (), NOW, involves_minor=True)
    assert not remains.visible_to(CHRIS)
    assert remains.confirmations_needed == 2
    with pytest.raises(ReviewNotPermitted):
        remains.confirm(CHRIS, NOW)
    c = childs_candidate()
    c.reject(CHRIS, "Not the same child.", NOW)
    assert c.status is MatchStatus.REJECTED
    with pytest.raises(ReviewNotPermitted):
        childs_candidate().confirm(FIONA, NOW)


def test_a_child_s_candidate_and_its_reviewers_roles_survive_storage(tmp_path: Path) -> None:
    from registry.adapters.schema import create_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    create_schema(engine)
    uow = unit_of_work_factory(engine)
    c = childs_candidate()
    c.confirm(TOM, NOW)
    with uow() as w:
        MatchCandidateRepository(w.session).save(c)
        w.commit()
    assert [x.id for x in uc.list_candidates(uow(), CHRIS)] == [c.id]
    uc.confirm_match(uow(), c.id, CHRIS, NOW)
    stored = uc.get_candidate(uow(), c.id, TOM)
    assert stored.involves_minor and stored.status is MatchStatus.CONFIRMED
    assert [r.roles for r in stored.reviews] == [("tracing_officer",), ("child_protection",)]
    engine.dispose()

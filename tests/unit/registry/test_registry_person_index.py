"""The person index: intake's tracing events are indexed only with tracing consent and within
the sharing scope, matched as they arrive, indexed once, and taken out on withdrawal."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from haven_shared.crypto import SealBroken, SubjectKeyring, new_subject_key_id
from haven_shared.db import make_engine
from haven_shared.events.intake import (
    ConsentGiven,
    ConsentWithdrawn,
    FoundPersonRecorded,
    MissingPersonRecorded,
    PersonRecordAmended,
    RemainsRecorded,
)
from haven_shared.events.model import Event, SealedPersonalData
from haven_shared.outbox import Outbox, OutboxMessage
from haven_shared.uow import UnitOfWork
from intake.adapters.mapping import missing_person_details
from intake.adapters.matching_seal import matching_fields, seal_for_matching
from intake.domain.records import Enquirer, LastSeen, MissingPersonReport, PersonName
from registry.adapters.intake_matching import MatchingOpener
from registry.adapters.person_repository import PersonIndexRepository
from registry.adapters.person_tables import PersonEntryRow, create_person_index_tables
from registry.adapters.tables import MatchCandidateRow, create_directory_tables
from registry.bootstrap import load_person_index
from registry.domain.person_index import IntakeKind, PersonEntry, may_pair
from registry.service_layer.person_index import PersonIndex, PersonIndexer

SECRET = "unit-test-matching-secret"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
PERSON = {"names": ["Mohammed Abdelrahman"], "sex": "male", "date_of_birth": "1994-03-12",
          "estimated_age": None, "nationalities": ["SD"], "languages": ["ar"],
          "place": "Agadez, Niger", "date": "2026-05-01"}
FOUND = {**PERSON, "names": ["Muhammad Abd al-Rahman"], "place": "Agadez hospital",
         "date": "2026-06-10"}
OTHER = {**PERSON, "names": ["Fatima Osman"], "sex": "female", "date_of_birth": "1990-01-02"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    create_directory_tables(engine)
    create_person_index_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def index() -> PersonIndex:
    return PersonIndex()


@pytest.fixture
def indexer(index: PersonIndex) -> PersonIndexer:
    return PersonIndexer(index, SubjectKeyring("unit-test-master-key"), MatchingOpener(SECRET),
                         lambda: NOW, threshold=0.5)


def apply(engine: sa.Engine, indexer: PersonIndexer, event: Event, *, commit: bool = True
          ) -> None:
    """Run the event's handler as the inbox consumer does: in a unit of work it commits."""
    with UnitOfWork(engine, Outbox("/haven/registry")) as uow:
        indexer.handlers()[type(event)](event, uow)
        if commit:
            uow.commit()


def sealed(fields: dict[str, Any]) -> SealedPersonalData:
    return seal_for_matching(SECRET.encode(), new_subject_key_id(), fields)


def missing(case_id: UUID, fields: dict[str, Any] = PERSON, scope: tuple[str, ...] = (
        "tracing-service",), report_id: UUID | None = None) -> MissingPersonRecorded:
    opaque = SealedPersonalData(key_id="sk-intake", nonce="AAAA", ciphertext="AAAA")
    return MissingPersonRecorded(case_id=case_id, organisation_id="ngo-a",
                                 report_id=report_id or uuid4(), recorded_at=NOW, sex="male",
                                 is_minor=False, sharing_scope=list(scope), subject=opaque,
                                 matching=sealed(fields))


def found(case_id: UUID, fields: dict[str, Any] = FOUND) -> FoundPersonRecorded:
    opaque = SealedPersonalData(key_id="sk-intake", nonce="AAAA", ciphertext="AAAA")
    return FoundPersonRecorded(case_id=case_id, organisation_id="ngo-b", record_id=uuid4(),
                               recorded_at=NOW, sex="male", is_minor=False,
                               found_setting="hospital", sharing_scope=["tracing-service"],
                               subject=opaque, matching=sealed(fields))


def consent(case_id: UUID, consent_id: UUID | None = None) -> ConsentGiven:
    return ConsentGiven(case_id=case_id, organisation_id="ngo-a",
                        consent_id=consent_id or uuid4(), purpose="tracing", at=NOW)


def proposals(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(OutboxMessage.__table__.c.type,  # type: ignore[attr-defined]
                                      OutboxMessage.__table__.c.payload)).all()  # type: ignore[attr-defined]
    return [json.loads(p) if isinstance(p, str) else p for t, p in rows
            if t == "haven.registry.match.proposed.v1"]


def statuses(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(MatchCandidateRow.__table__.c.status)).scalars())  # type: ignore[attr-defined]


def test_differently_romanised_records_with_consent_are_proposed_with_both_references(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    apply(engine, indexer, consent(case_a))
    apply(engine, indexer, consent(case_b))
    report = missing(case_a)
    apply(engine, indexer, report)
    apply(engine, indexer, missing(case_a, OTHER))  # someone else on another report
    record = found(case_b)
    apply(engine, indexer, record)

    [proposal] = proposals(engine)
    assert proposal["record_ref"] == f"intake/found-person/{record.record_id}"
    assert proposal["candidate_ref"] == f"intake/missing-person/{report.report_id}"
    assert proposal["probability"] >= 0.5
    fields = {e["field"] for e in proposal["explanation"]}
    assert {"given_name", "birth"} <= fields
    assert "Agadez" not in json.dumps(proposal) and "Muhammad" not in json.dumps(proposal)
    assert len(index) == 3


def test_the_stored_match_fields_are_sealed_at_rest(engine: sa.Engine,
                                                    indexer: PersonIndexer) -> None:
    case = uuid4()
    apply(engine, indexer, consent(case))
    apply(engine, indexer, missing(case))
    with engine.connect() as conn:
        stored = json.dumps([list(r) for r in conn.execute(sa.select(
            PersonEntryRow.__table__)).all()], default=str)  # type: ignore[attr-defined]
    assert "Abdelrahman" not in stored and "Agadez" not in stored


def test_a_record_without_tracing_consent_is_not_indexed_until_consent_is_given(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    apply(engine, indexer, missing(case_a))  # no consent on this case yet
    apply(engine, indexer, consent(case_b))
    apply(engine, indexer, found(case_b))
    assert proposals(engine) == [] and len(index) == 1

    apply(engine, indexer, consent(case_a))
    assert len(proposals(engine)) == 1 and len(index) == 2


def test_a_sharing_scope_without_tracing_services_keeps_the_record_out(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    for case in (case_a, case_b):
        apply(engine, indexer, consent(case))
    apply(engine, indexer, missing(case_a, scope=("forensic-service",)))
    apply(engine, indexer, found(case_b))
    assert proposals(engine) == [] and len(index) == 1


def test_the_same_record_arriving_again_is_indexed_and_proposed_once(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    for case in (case_a, case_b):
        apply(engine, indexer, consent(case))
    report = missing(case_a)
    apply(engine, indexer, report)
    record = found(case_b)
    apply(engine, indexer, record)
    # Re-sent under new event ids (the inbox skips the same id), with fresh ciphertexts.
    apply(engine, indexer, report.model_copy(update={"matching": sealed(PERSON)}))
    apply(engine, indexer, record.model_copy(update={"matching": sealed(FOUND)}))
    assert len(index) == 2 and len(proposals(engine)) == 1


def test_withdrawing_tracing_consent_takes_the_records_out_and_closes_open_candidates(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    given = consent(case_a)
    apply(engine, indexer, given)
    apply(engine, indexer, consent(case_b))
    report = missing(case_a)
    apply(engine, indexer, report)
    apply(engine, indexer, found(case_b))
    assert statuses(engine) == ["proposed"]

    apply(engine, indexer, ConsentWithdrawn(case_id=case_a, organisation_id="ngo-a",
                                            consent_id=given.consent_id, purpose="tracing",
                                            at=NOW))
    assert statuses(engine) == ["withdrawn"] and len(index) == 1
    apply(engine, indexer, found(case_b, {**FOUND, "place": "Niamey"}))  # the same person
    ref = f"intake/missing-person/{report.report_id}"
    assert [p for p in proposals(engine)[1:] if ref in (p["record_ref"], p["candidate_ref"])
            ] == []


def test_an_amended_record_is_matched_as_it_now_stands(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    for case in (case_a, case_b):
        apply(engine, indexer, consent(case))
    report = missing(case_a, OTHER)
    apply(engine, indexer, report)
    apply(engine, indexer, found(case_b))
    assert proposals(engine) == []

    apply(engine, indexer, PersonRecordAmended(
        case_id=case_a, organisation_id="ngo-a", record_id=report.report_id,
        record_kind="missing-person", amended_at=NOW, sex="male", is_minor=False,
        sharing_scope=["tracing-service"], subject=report.subject, matching=sealed(PERSON)))
    assert len(proposals(engine)) == 1 and len(index) == 2


def test_a_rolled_back_record_leaves_the_index_and_a_restart_rebuilds_it(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    for case in (case_a, case_b):
        apply(engine, indexer, consent(case))
    apply(engine, indexer, missing(case_a), commit=False)  # its transaction rolled back
    apply(engine, indexer, found(case_b))
    assert proposals(engine) == [] and len(index) == 1

    restarted = PersonIndex()
    load_person_index(engine, indexer.keyring, restarted)
    assert len(restarted) == 1


REMAINS = {"sex": "male", "date_of_birth": None, "estimated_age_min": 28,
           "estimated_age_max": 36, "date_of_death": "2026-05-20",
           "post_mortem_interval_days": 20, "place": "Agadez, Niger", "date": "2026-06-09"}


def remains(case_id: UUID) -> RemainsRecorded:
    opaque = SealedPersonalData(key_id="sk-intake", nonce="AAAA", ciphertext="AAAA")
    return RemainsRecorded(case_id=case_id, organisation_id="forensic-institute",
                           remains_id=uuid4(), recorded_at=NOW, estimated_sex="male",
                           is_minor=False, subject=opaque, matching=sealed(REMAINS))


def test_remains_are_indexed_without_consent_with_their_age_estimate(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    apply(engine, indexer, remains(uuid4()))  # no consent: the dead cannot give it
    assert len(index) == 1
    [entry] = indexer_entries(engine, indexer)
    record = entry.as_person_record()
    assert record.age_estimate is not None and (record.age_estimate.low,
                                                record.age_estimate.high) == (28, 36)


def indexer_entries(engine: sa.Engine, indexer: PersonIndexer) -> list[PersonEntry]:
    with Session(engine) as session:
        return list(PersonIndexRepository(session, indexer.keyring).indexed())


def _entry(kind: IntakeKind, scope: tuple[str, ...] = ()) -> PersonEntry:
    return PersonEntry(ref=f"intake/{kind.value}/{uuid4()}", case_id=uuid4(),
                       organisation_id="ngo-a", kind=kind, key_id="sk-1",
                       sharing_scope=scope, fields={}, indexed=True)


def test_a_pair_with_remains_needs_the_living_persons_scope_to_include_forensic_services(
        ) -> None:
    dead = _entry(IntakeKind.REMAINS)
    assert not may_pair(_entry(IntakeKind.MISSING_PERSON, ("tracing-service",)), dead)
    assert may_pair(dead, _entry(IntakeKind.MISSING_PERSON,
                                 ("tracing-service", "forensic-service")))
    assert may_pair(_entry(IntakeKind.MISSING_PERSON, ("tracing-service",)),
                    _entry(IntakeKind.FOUND_PERSON, ("tracing-service",)))


def test_intakes_matching_part_opens_here_and_holds_only_what_matching_needs() -> None:
    report = MissingPersonReport(
        id=uuid4(), names=(PersonName("Mohammed Abdelrahman", "Latn", True),), sex="male",
        date_of_birth=dt.date(1994, 3, 12), estimated_age=None, nationalities=("SD",),
        languages=("ar",), physical_description="Scar on the left hand.",
        last_seen=LastSeen("Agadez, Niger", dt.date(2026, 5, 1), "desert-crossing"),
        enquirer=Enquirer("Amna Abdelrahman", "sibling", "+249 000"),
        sharing_scope=("tracing-service",))
    details = missing_person_details(report)
    fields = MatchingOpener(SECRET).open(
        seal_for_matching(SECRET.encode(), "sk-1", matching_fields("male", details)))
    assert fields["names"] == ["Mohammed Abdelrahman"] and fields["place"] == "Agadez, Niger"
    assert "Scar" not in json.dumps(fields) and "Amna" not in json.dumps(fields)
    with pytest.raises(SealBroken):
        MatchingOpener("another-secret").open(
            seal_for_matching(SECRET.encode(), "sk-1", matching_fields("male", details)))


@pytest.mark.parametrize("minor_side", ["found", "missing", None])
def test_a_candidate_involves_a_minor_when_either_record_is_of_a_child(
        engine: sa.Engine, indexer: PersonIndexer, minor_side: str | None) -> None:
    case_a, case_b = uuid4(), uuid4()
    apply(engine, indexer, consent(case_a))
    apply(engine, indexer, consent(case_b))
    report = missing(case_a)
    record = found(case_b)
    if minor_side == "missing":
        report = report.model_copy(update={"is_minor": True})
    elif minor_side == "found":
        record = record.model_copy(update={"is_minor": True})
    apply(engine, indexer, report)
    apply(engine, indexer, record)
    with engine.connect() as conn:
        flags = list(conn.execute(sa.select(
            MatchCandidateRow.__table__.c.involves_minor)).scalars())  # type: ignore[attr-defined]
    assert flags == [minor_side is not None]


def test_the_family_of_a_child_s_match_is_told_with_child_protection(
        engine: sa.Engine, indexer: PersonIndexer) -> None:
    from registry.adapters.notification_repository import NOTIFICATION_TABLES
    from registry.bootstrap import unit_of_work_factory
    from registry.domain.match_review import MatchStatus, Reviewer
    from registry.service_layer import match_review as uc

    for table in NOTIFICATION_TABLES:
        table.create(engine, checkfirst=True)
    case_a, case_b = uuid4(), uuid4()
    apply(engine, indexer, consent(case_a))
    apply(engine, indexer, consent(case_b))
    apply(engine, indexer, missing(case_a))
    apply(engine, indexer, found(case_b).model_copy(update={"is_minor": True}))
    uow = unit_of_work_factory(engine)
    [candidate] = uc.list_candidates(uow(), Reviewer("tom", "t", frozenset({"tracing_officer"})))
    uc.confirm_match(uow(), candidate.id, Reviewer("tom", "t", frozenset({"tracing_officer"})),
                     NOW)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM family_notification_task")).scalar() == 0
    confirmed = uc.confirm_match(uow(), candidate.id,
                                 Reviewer("chris", "ngo-a", frozenset({"child_protection"})), NOW)
    assert confirmed.status is MatchStatus.CONFIRMED
    with engine.connect() as conn:
        tasks = conn.execute(sa.text(
            "SELECT organisation_id, involves_minor FROM family_notification_task")).all()
    assert [(org, bool(flag)) for org, flag in tasks] == [("ngo-a", True)]

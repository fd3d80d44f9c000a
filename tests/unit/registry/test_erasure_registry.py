"""The person index on intake's erasure: the subject's entry and the registry's key of it go,
its undecided candidates are closed, the index forgets it, and a replayed record stays out."""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_registry_person_index import (  # noqa: E402
    NOW,
    PersonIndex,
    PersonIndexer,
    apply,
    consent,
    engine,
    found,
    index,
    indexer,
    missing,
    statuses,
)

from haven_shared.events.intake import DataSubjectErased  # noqa: E402
from registry.adapters.person_tables import PersonEntryRow  # noqa: E402

__all__ = ["engine", "index", "indexer"]  # fixtures


def _erased(case_id, key_ids, case_subject=True):  # type: ignore[no-untyped-def]
    return DataSubjectErased(case_id=case_id, organisation_id="ngo-a", erasure_id=uuid4(),
                             erased_at=NOW, reason="data-subject-request", key_ids=key_ids,
                             case_subject=case_subject)


def test_an_erased_subject_leaves_the_index_and_its_candidates_close(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a, case_b = uuid4(), uuid4()
    for case in (case_a, case_b):
        apply(engine, indexer, consent(case))
    report = missing(case_a)
    apply(engine, indexer, report)
    apply(engine, indexer, found(case_b))
    assert statuses(engine) == ["proposed"] and len(index) == 2
    key_id = report.matching.key_id  # type: ignore[union-attr]

    apply(engine, indexer, _erased(case_a, [key_id]))
    assert statuses(engine) == ["withdrawn"] and len(index) == 1
    with Session(engine) as session:
        refs = list(session.execute(sa.select(PersonEntryRow.ref)).scalars())
        assert refs == [r for r in refs if str(report.report_id) not in r] and len(refs) == 1
        assert indexer.keyring.is_erased(session, key_id)

    # The recorded event again (a replayed dead letter, a redelivery): it stays out.
    apply(engine, indexer, report.model_copy(update={"event_id": uuid4()}))
    assert len(index) == 1
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(PersonEntryRow)
                               ).scalar_one() == 1


def test_an_erasure_of_other_keys_leaves_the_case_alone(
        engine: sa.Engine, indexer: PersonIndexer, index: PersonIndex) -> None:
    case_a = uuid4()
    apply(engine, indexer, consent(case_a))
    apply(engine, indexer, missing(case_a))
    apply(engine, indexer, _erased(case_a, ["sk-someone-else"]))
    assert len(index) == 1

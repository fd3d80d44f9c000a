"""Intake's use cases leave audit entries in their own transaction; refusals and failures are
recorded apart; entries carry ids only (SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit import AuditLog, checkpoint_key, verify_chain
from haven_shared.audit.model import AuditEntry, audit_entry_table
from haven_shared.crypto import SubjectKeyring
from haven_shared.db import make_engine
from intake.adapters.schema import create_schema
from intake.domain.access import Actor
from intake.domain.case import CaseKind, CaseStatus, PersonInNeed, RiskLevel
from intake.domain.errors import CaseNotFound, InvalidTransition, NotPermitted
from intake.domain.screening import Outcome, Stage
from intake.domain.support import ConsentRecord
from intake.service_layer import cases, screening, support
from intake.service_layer.common import UowFactory
from intake.service_layer.unit_of_work import AuditLogMissing, IntakeUnitOfWork

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
KEY = checkpoint_key("unit-test")
ANA = Actor("s-ana", "ana", "ngo-a", frozenset({"caseworker"}))
SUE = Actor("s-sue", "sue", "ngo-a", frozenset({"supervisor"}))
CP = Actor("s-sara", "sara", "ngo-a", frozenset({"caseworker", "child_protection"}))
CARLA = Actor("s-carla", "carla", "ngo-b", frozenset({"caseworker"}))
PURPOSE = "family-tracing"
CANARY = "Zebulon Quixwhistle"


@pytest.fixture
def engine(tmp_path) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def uows(engine: sa.Engine) -> UowFactory:
    return partial(IntakeUnitOfWork, engine, SubjectKeyring("unit-test"),
                   audit=AuditLog("intake", KEY))


def _entries(engine: sa.Engine) -> list[AuditEntry]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_entry_table).order_by(audit_entry_table.c.seq))
        return [AuditEntry.from_row(r) for r in rows]


def _open(uows: UowFactory) -> uuid.UUID:
    cmd = cases.OpenCase(CaseKind.SURVIVOR_SUPPORT, RiskLevel.HIGH,
                         PersonInNeed(display_name=CANARY))
    return cases.open_case(uows, ANA, cmd, NOW).id


def test_opening_and_reading_a_case_are_audited_with_ids_only(uows: UowFactory,
                                                            engine: sa.Engine) -> None:
    case_id = _open(uows)
    cases.get_case(uows, ANA, case_id, PURPOSE)
    entries = _entries(engine)
    assert [(e.action, e.object_type, e.object_id, e.purpose, e.outcome) for e in entries] == [
        ("case.open", "case", str(case_id), None, "success"),
        ("case.read", "case", str(case_id), PURPOSE, "success"),
    ]
    assert {(e.actor, e.organisation, e.roles) for e in entries} == {
        ("s-ana", "ngo-a", ("caseworker",))}
    assert all(CANARY.split()[0] not in repr(e) for e in entries)
    with Session(engine) as session:
        assert verify_chain(session, KEY).ok


def test_another_organisations_read_is_recorded_as_denied_and_nothing_else(
        uows: UowFactory, engine: sa.Engine) -> None:
    case_id = _open(uows)
    with pytest.raises(CaseNotFound):
        cases.get_case(uows, CARLA, case_id, PURPOSE)
    denied = _entries(engine)[-1]
    assert (denied.actor, denied.organisation, denied.action, denied.object_id,
            denied.purpose, denied.outcome) == (
        "s-carla", "ngo-b", "case.read", str(case_id), PURPOSE, "denied")
    assert len(_entries(engine)) == 2


def test_a_failed_action_is_rolled_back_and_recorded_as_failed(uows: UowFactory,
                                                               engine: sa.Engine) -> None:
    case_id = _open(uows)
    with pytest.raises(InvalidTransition):
        cases.change_status(uows, ANA, case_id, CaseStatus.SERVICES_IN_PROGRESS, NOW)
    assert [(e.action, e.outcome) for e in _entries(engine)] == [
        ("case.open", "success"), ("case.status-change", "failed")]
    assert cases.get_case(uows, ANA, case_id, PURPOSE)[0].status is CaseStatus.OPEN


def test_a_caseworkers_decision_is_denied_and_a_supervisors_is_audited_as_the_decision(
        uows: UowFactory, engine: sa.Engine) -> None:
    case_id = _open(uows)
    sc = screening.screen(uows, ANA, case_id, ["false-job-offer", "debt-bondage"],
                          None, NOW)
    with pytest.raises(NotPermitted):
        screening.decide(uows, ANA, case_id, sc.id, Stage.REASONABLE_GROUNDS,
                         Outcome.POSITIVE, date(2026, 11, 20), "indicators found", NOW)
    screening.decide(uows, SUE, case_id, sc.id, Stage.REASONABLE_GROUNDS, Outcome.POSITIVE,
                     date(2026, 11, 20), "indicators found", NOW)
    assert [(e.actor, e.action, e.outcome) for e in _entries(engine)][1:] == [
        ("s-ana", "screening.create", "success"),
        ("s-ana", "victim.presumed", "denied"),
        ("s-sue", "victim.presumed", "success"),
    ]


def test_an_action_without_an_audit_log_is_refused_not_left_unaudited(
        engine: sa.Engine) -> None:
    bare = partial(IntakeUnitOfWork, engine, SubjectKeyring("unit-test"))
    with pytest.raises(AuditLogMissing):
        _open(bare)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM intake_case")).scalar() == 0


def _consent(case_id: uuid.UUID, override_reason: str | None = None) -> ConsentRecord:
    return ConsentRecord(id=uuid.UUID(int=0), case_id=case_id, purpose="services",
                         partner_kinds=(), given_by="guardian", recorded_by="",
                         recorded_at=NOW, override_reason=override_reason)


def test_consent_given_overridden_and_withdrawn_are_audited_as_decisions(
        uows: UowFactory, engine: sa.Engine) -> None:
    adult = _open(uows)
    given = support.record_consent(uows, ANA, adult, _consent(adult), NOW)
    support.withdraw_consent(uows, ANA, adult, given.id, NOW)
    with pytest.raises(InvalidTransition):
        support.withdraw_consent(uows, ANA, adult, given.id, NOW)
    child = cases.open_case(uows, CP, cases.OpenCase(
        CaseKind.SURVIVOR_SUPPORT, RiskLevel.HIGH, PersonInNeed(estimated_age=12)), NOW).id
    support.record_consent(uows, CP, child, _consent(child, "in danger at home"), NOW)
    assert [(e.action, e.object_id, e.outcome) for e in _entries(engine)][1:] == [
        ("consent.give", str(adult), "success"),
        ("consent.withdraw", str(adult), "success"),
        ("consent.withdraw", str(adult), "failed"),
        ("case.open", str(child), "success"),
        ("consent.override", str(child), "success"),
    ]
    assert all("danger" not in repr(e) and "guardian" not in repr(e)
               for e in _entries(engine))


def test_a_failed_chaining_pass_keeps_the_case_and_its_entry_queued(
    uows: UowFactory, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: AuditLog, _engine: sa.Engine) -> None:
        raise sa.exc.OperationalError("pass", {}, Exception("database away"))

    monkeypatch.setattr(AuditLog, "chain_after_commit", broken)
    case_id = _open(uows)  # the action commits; only the linking failed
    assert _entries(engine) == []
    with Session(engine) as session:
        queued = verify_chain(session, KEY)
    assert queued.ok and queued.queued == 1
    monkeypatch.undo()
    AuditLog("intake", KEY).chain_pending(engine)  # the next pass (or the checkpoint job)
    assert [(e.action, e.object_id) for e in _entries(engine)] == [("case.open", str(case_id))]

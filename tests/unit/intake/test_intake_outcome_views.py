"""The case views of referral states and matches, fed by the outcome handlers (SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace

import pytest

from haven_shared.audit import AuditLog, checkpoint_key
from haven_shared.crypto import SubjectKeyring
from haven_shared.db import make_engine
from intake.adapters.orm import PersonRecordRow
from intake.adapters.schema import create_schema
from intake.domain.access import Actor
from intake.domain.case import CaseKind, PersonInNeed, RiskLevel
from intake.domain.errors import CaseNotFound
from intake.service_layer.cases import OpenCase, open_case
from intake.service_layer.common import UowFactory
from intake.service_layer.outcomes import case_outcomes, on_match_event, on_referral_event
from intake.service_layer.unit_of_work import IntakeUnitOfWork

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
ANA = Actor("s-ana", "ana", "ngo-a", frozenset({"caseworker"}))
FORENSIC = Actor("s-fo", "fo", "ngo-a", frozenset({"caseworker", "deceased_records"}))
PURPOSE = "family-tracing"
CARLA = Actor("s-carla", "carla", "ngo-b", frozenset({"caseworker"}))


@pytest.fixture
def uows(tmp_path) -> Iterator[UowFactory]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    create_schema(engine)
    yield partial(IntakeUnitOfWork, engine, SubjectKeyring("unit-test"),
                  audit=AuditLog("intake", checkpoint_key("unit-test")))
    engine.dispose()


def _case(uows: UowFactory) -> uuid.UUID:
    cmd = OpenCase(CaseKind.SURVIVOR_SUPPORT, RiskLevel.HIGH, PersonInNeed())
    return open_case(uows, ANA, cmd, NOW).id


def _apply(uows: UowFactory, handler, event) -> None:  # type: ignore[no-untyped-def]
    with uows() as uow:
        handler(event, uow)
        uow.commit()


def test_a_referral_shows_its_latest_state_on_the_case(uows: UowFactory) -> None:
    case_id, referral_id = _case(uows), uuid.uuid4()
    _apply(uows, on_referral_event, SimpleNamespace(
        event_type="haven.referral.requested.v1", referral_id=referral_id, case_id=case_id,
        organisation_id="ngo-a", need="shelter", requested_at=NOW))
    _apply(uows, on_referral_event, SimpleNamespace(
        event_type="haven.referral.status.changed.v1", referral_id=referral_id,
        case_id=case_id, organisation_id="ngo-a", status="accepted", partner_org="shelter-a",
        changed_at=NOW))
    referrals, _ = case_outcomes(uows, ANA, case_id, PURPOSE)
    assert [(r.status, r.need, r.partner_org) for r in referrals] == [
        ("accepted", "shelter", "shelter-a")]


def test_referrals_of_cases_intake_does_not_hold_are_ignored(uows: UowFactory) -> None:
    _apply(uows, on_referral_event, SimpleNamespace(
        event_type="haven.referral.requested.v1", referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(), organisation_id="ngo-a", need="shelter", requested_at=NOW))
    case_id = _case(uows)
    assert case_outcomes(uows, ANA, case_id, PURPOSE) == ([], [])


def test_the_outcomes_of_another_organisations_case_are_not_found(uows: UowFactory) -> None:
    case_id = _case(uows)
    with pytest.raises(CaseNotFound):
        case_outcomes(uows, CARLA, case_id, PURPOSE)


def test_matches_with_remains_need_the_deceased_records_role(uows: UowFactory) -> None:
    case_id = _case(uows)
    with uows() as uow:
        # A record of the case, so that the match can be tied to it.
        record_id = uuid.uuid4()
        uow.session.add(PersonRecordRow(
            id=record_id, case_id=case_id, kind="missing-person", sex="female", is_minor=False,
            sharing_scope=[], subject_key_id="sk-x", details_sealed={}, recorded_by="ana"))
        uow.commit()
    _apply(uows, on_match_event, SimpleNamespace(
        event_type="haven.registry.match.proposed.v1", candidate_id=uuid.uuid4(),
        record_ref=f"remains/{uuid.uuid4()}", record_kind="remains",
        candidate_ref=f"missing/{record_id}", candidate_kind="missing", probability=0.8,
        proposed_at=NOW))
    assert case_outcomes(uows, ANA, case_id, PURPOSE)[1] == []
    matches = case_outcomes(uows, FORENSIC, case_id, PURPOSE)[1]
    assert [(m.record_id, m.other_kind, m.state) for m in matches] == [
        (record_id, "remains", "proposed")]

"""Case workflow, screening decisions, needs and consent: the aggregates' own rules."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from intake.domain.access import Actor, may_see
from intake.domain.case import Case, CaseKind, CaseStatus, PersonInNeed, RiskLevel
from intake.domain.errors import InvalidField, InvalidTransition, NotPermitted
from intake.domain.screening import Outcome, Stage, TraffickingScreening
from intake.domain.support import ConsentRecord, Need, NeedsAssessment

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
TODAY = NOW.date()


def _case() -> Case:
    return Case(uuid.uuid4(), "ngo-a", CaseKind.SURVIVOR_SUPPORT, RiskLevel.HIGH,
                PersonInNeed(), "sk-1", "ana", NOW)


def test_a_case_moves_step_by_step_and_can_be_reopened() -> None:
    case = _case()
    for status in (CaseStatus.ASSESSMENT, CaseStatus.SUPPORT_PLAN,
                   CaseStatus.SERVICES_IN_PROGRESS, CaseStatus.CLOSED, CaseStatus.REOPENED):
        case.move_to(status)
    assert case.status is CaseStatus.REOPENED


def test_a_case_cannot_skip_to_services() -> None:
    with pytest.raises(InvalidTransition):
        _case().move_to(CaseStatus.SERVICES_IN_PROGRESS)


def test_visibility_needs_the_organisation_a_case_role_and_for_minors_child_protection() -> None:
    ana = Actor("s1", "ana", "ngo-a", frozenset({"caseworker"}))
    chris = Actor("s2", "chris", "ngo-a", frozenset({"caseworker", "child_protection"}))
    carla = Actor("s3", "carla", "ngo-b", frozenset({"caseworker"}))
    auditor = Actor("s4", "aud", "ngo-a", frozenset({"auditor"}))
    assert may_see(ana, "ngo-a", False) and not may_see(ana, "ngo-a", True)
    assert may_see(chris, "ngo-a", True)
    assert not may_see(carla, "ngo-a", False)
    assert not may_see(auditor, "ngo-a", False)


def _screening() -> TraffickingScreening:
    return TraffickingScreening.screen(uuid.uuid4(), uuid.uuid4(),
                                       ["false-job-offer", "confined"], None, "ana", NOW)


def test_indicators_in_two_categories_are_a_strong_indication() -> None:
    s = _screening()
    assert s.categories == ["recruitment-deception", "movement-control"]
    assert s.result == "strong-indication"


def test_conclusive_grounds_need_positive_reasonable_grounds_first() -> None:
    s = _screening()
    with pytest.raises(InvalidTransition):
        s.decide(Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE, TODAY, "r", "sara", NOW, TODAY)
    s.decide(Stage.REASONABLE_GROUNDS, Outcome.POSITIVE, date(2026, 10, 1), "r", "sara", NOW,
             TODAY)
    with pytest.raises(InvalidField):
        s.decide(Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE, date(2026, 9, 1), "r", "sara",
                 NOW, TODAY)
    s.decide(Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE, TODAY, "r", "sara", NOW, TODAY)
    assert s.current(Stage.CONCLUSIVE_GROUNDS) is not None


def test_only_a_negative_decision_can_be_reconsidered() -> None:
    s = _screening()
    s.decide(Stage.REASONABLE_GROUNDS, Outcome.POSITIVE, TODAY, "r", "sara", NOW, TODAY)
    with pytest.raises(InvalidTransition):
        s.request_reconsideration(Stage.REASONABLE_GROUNDS)


def _needs(*needs: Need, shelter_only_women: bool = False) -> NeedsAssessment:
    return NeedsAssessment(uuid.uuid4(), uuid.uuid4(), needs, (), "any", shelter_only_women,
                           None, "ana", NOW)


def test_a_need_listed_twice_is_refused() -> None:
    with pytest.raises(InvalidField) as e:
        _needs(Need("shelter", "high"), Need("shelter", "routine")).validated(False)
    assert e.value.field == "needs.1.kind"


def test_a_women_only_shelter_needs_a_shelter_need() -> None:
    with pytest.raises(InvalidField):
        _needs(Need("legal-aid", "high"), shelter_only_women=True).validated(False)


def test_a_guardian_is_a_need_of_children_only() -> None:
    assert _needs(Need("child-guardian", "immediate")).validated(True)
    with pytest.raises(InvalidField):
        _needs(Need("child-guardian", "immediate")).validated(False)


def _consent(purpose: str = "services", override: str | None = None) -> ConsentRecord:
    return ConsentRecord(uuid.uuid4(), uuid.uuid4(), purpose, (), "person", "ana", NOW,
                         override_reason=override)


def test_disclosure_consent_names_the_partner_kinds() -> None:
    with pytest.raises(InvalidField):
        _consent("disclosure").validate(False, False)


def test_an_override_needs_a_minor_and_child_protection() -> None:
    with pytest.raises(InvalidField):
        _consent(override="danger").validate(False, True)
    with pytest.raises(NotPermitted):
        _consent(override="danger").validate(True, False)
    _consent(override="danger").validate(True, True)


def test_consent_is_withdrawn_once() -> None:
    c = _consent()
    c.withdraw("ana", NOW)
    with pytest.raises(InvalidTransition):
        c.withdraw("ana", NOW)


def test_the_risk_level_can_be_reassessed_on_a_closed_case() -> None:
    case = _case()
    case.move_to(CaseStatus.CLOSED)
    case.set_risk(RiskLevel.CRITICAL)
    assert case.risk_level is RiskLevel.CRITICAL and case.status is CaseStatus.CLOSED

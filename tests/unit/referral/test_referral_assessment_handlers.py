"""Intake's needs assessments and consents become referrals (SQLite, inbox handlers called in a
unit of work as the consumer calls them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from referral_builders import T0, provider_state, upserted

from haven_shared.db import make_engine
from haven_shared.events.intake import AssessedNeed, ConsentGiven, ConsentWithdrawn, NeedsAssessed
from haven_shared.outbox import OutboxMessage
from referral.adapters.schema import create_schema
from referral.bootstrap import make_deps
from referral.config import Settings
from referral.service_layer import referrals as uc
from referral.service_layer.assessments import consent_given_handler, needs_assessed_handler
from referral.service_layer.consent import consent_withdrawn_handler
from referral.service_layer.providers import project_provider

ANA = uc.Actor("ana", "ngo-a")


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[uc.Deps]:
    engine = make_engine(f"sqlite:///{tmp_path / 'referral.db'}")
    create_schema(engine)
    d = make_deps(Settings(environment="test", database_url=str(engine.url)), engine)
    with d.uows() as uow:
        for state in (provider_state("shelter-a", women_only=True, child_qualified=True),
                      provider_state("clinic-b", "counselling", child_qualified=True)):
            project_provider(upserted(state), uow)
        uow.commit()
    yield d
    engine.dispose()


def deliver(deps: uc.Deps, handler: Any, event: Any) -> None:
    with deps.uows() as uow:
        handler(event, uow)
        uow.commit()


def assessment(case_id: uuid.UUID, assessment_id: uuid.UUID) -> NeedsAssessed:
    return NeedsAssessed(
        case_id=case_id, organisation_id="ngo-a", assessment_id=assessment_id,
        assessed_at=T0, is_minor=True, languages=["ti"], women_only_shelter=True,
        needs=[AssessedNeed(need="shelter", urgency="immediate"),
               AssessedNeed(need="psychological-counselling", urgency="routine")])


def consent(case_id: uuid.UUID, kinds: list[str], override: bool = False) -> ConsentGiven:
    return ConsentGiven(case_id=case_id, organisation_id="ngo-a", consent_id=uuid.uuid4(),
                        purpose="services", partner_kinds=kinds, at=T0,  # type: ignore[arg-type]
                        override=override)


def view(deps: uc.Deps, case_id: uuid.UUID) -> tuple[dict[str, list[str]], list[str]]:
    found, waiting = uc.case_referrals(deps, case_id, ANA)
    return ({r.candidates[0].org if r.candidates else "unmet": [o.org for o in r.offers]
             for r, _ in found}, sorted(n.kind.value for n in waiting))


def types(deps: uc.Deps) -> list[str]:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with deps.uows() as uow:
        return [r.type for r in uow.session.execute(sa.select(table).order_by(table.c.seq))]


def test_assessed_needs_are_referred_as_consent_covers_them_and_wait_otherwise(
        deps: uc.Deps) -> None:
    case_id, assessment_id, clock = uuid.uuid4(), uuid.uuid4(), (lambda: T0)
    deliver(deps, consent_given_handler(deps, clock), consent(case_id, ["shelter"]))
    for _ in range(2):  # a redelivered assessment refers nothing twice
        deliver(deps, needs_assessed_handler(deps, clock), assessment(case_id, assessment_id))
    assert view(deps, case_id) == ({"shelter-a": ["shelter-a"]}, ["counselling", "guardian"])
    assert len(uc.case_referrals(deps, case_id, ANA)[0]) == 1

    deliver(deps, consent_given_handler(deps, clock), consent(case_id, ["counselling",
                                                                        "authority"]))
    referred, waiting = view(deps, case_id)
    assert referred == {"shelter-a": ["shelter-a"], "clinic-b": ["clinic-b"], "unmet": []}
    assert waiting == []
    assert types(deps).count("haven.referral.unmet-need.v1") == 1  # no guardian in the directory


def test_a_recorded_override_refers_a_minor_s_needs_sharing_only_that_they_are_a_minor(
        deps: uc.Deps) -> None:
    case_id, clock = uuid.uuid4(), (lambda: T0)
    deliver(deps, needs_assessed_handler(deps, clock), assessment(case_id, uuid.uuid4()))
    assert view(deps, case_id)[1] == ["counselling", "guardian", "shelter"]
    # Consent for tracing is not consent to refer.
    deliver(deps, consent_given_handler(deps, clock),
            consent(case_id, []).model_copy(update={"purpose": "tracing"}))
    assert view(deps, case_id)[1] == ["counselling", "guardian", "shelter"]
    deliver(deps, consent_given_handler(deps, clock),
            consent(case_id, ["ngo"], override=True))
    found, waiting = uc.case_referrals(deps, case_id, ANA)
    assert waiting == [] and len(found) == 3
    assert all(c.consent.overridden and c.shared == {"is_minor": True} for _, c in found)


def test_after_withdrawal_new_needs_wait_again(deps: uc.Deps) -> None:
    case_id, clock = uuid.uuid4(), (lambda: T0)
    deliver(deps, consent_given_handler(deps, clock), consent(case_id, []))
    deliver(deps, consent_withdrawn_handler(deps, clock), ConsentWithdrawn(
        case_id=case_id, organisation_id="ngo-a", consent_id=uuid.uuid4(), purpose="services",
        at=T0))
    deliver(deps, needs_assessed_handler(deps, clock), assessment(case_id, uuid.uuid4()))
    assert view(deps, case_id) == ({}, ["counselling", "guardian", "shelter"])

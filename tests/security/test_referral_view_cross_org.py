"""No organisation can write into another's case view through a referral naming its case id.

The referral service takes a case id from the referring caseworker and cannot know whose case
it is, so intake's projection of referral events must: a referral by ngo-b naming ngo-a's case
must not appear among that case's outcomes (ngo-a would see a referral it never made, with a
partner and a state chosen by someone else). Regression test of a hole the matrix work found.
"""

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
from intake.adapters.schema import create_schema
from intake.domain.access import Actor
from intake.domain.case import CaseKind, PersonInNeed, RiskLevel
from intake.service_layer.cases import OpenCase, open_case
from intake.service_layer.common import UowFactory
from intake.service_layer.outcomes import case_outcomes, on_referral_event
from intake.service_layer.unit_of_work import IntakeUnitOfWork

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
ANA = Actor("s-ana", "ana", "ngo-a", frozenset({"caseworker"}))


@pytest.fixture
def uows(tmp_path) -> Iterator[UowFactory]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    create_schema(engine)
    yield partial(
        IntakeUnitOfWork,
        engine,
        SubjectKeyring("unit-test"),
        audit=AuditLog("intake", checkpoint_key("unit-test")),
    )
    engine.dispose()


def _refer(uows: UowFactory, case_id: uuid.UUID, org: str) -> uuid.UUID:
    referral_id = uuid.uuid4()
    for event in (
        SimpleNamespace(
            event_type="haven.referral.requested.v1",
            referral_id=referral_id,
            case_id=case_id,
            organisation_id=org,
            need="shelter",
            requested_at=NOW,
        ),
        SimpleNamespace(
            event_type="haven.referral.status.changed.v1",
            referral_id=referral_id,
            case_id=case_id,
            organisation_id=org,
            status="accepted",
            partner_org="shelter-a",
            changed_at=NOW,
        ),
    ):
        with uows() as uow:
            on_referral_event(event, uow)
            uow.commit()
    return referral_id


def test_another_organisations_referral_naming_our_case_stays_out_of_its_view(
    uows: UowFactory,
) -> None:
    case_id = open_case(
        uows, ANA, OpenCase(CaseKind.SURVIVOR_SUPPORT, RiskLevel.HIGH, PersonInNeed()), NOW
    ).id
    _refer(uows, case_id, "ngo-b")
    assert case_outcomes(uows, ANA, case_id, "case-management")[0] == []
    ours = _refer(uows, case_id, "ngo-a")
    referrals = case_outcomes(uows, ANA, case_id, "case-management")[0]
    assert [(r.referral_id, r.status) for r in referrals] == [(ours, "accepted")]

"""Referral's audit entries on SQLite: every read, write and decision of a use case appends an
entry in its own transaction, refusals are recorded apart, decisions driven by events or the
clock name the service or the partner as actor, and the chain verifies afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from referral_builders import T0, provider_state, upserted
from sqlalchemy.orm import Session

from haven_shared.audit import checkpoint_key, verify_chain
from haven_shared.audit.model import audit_entry_table
from haven_shared.db import make_engine
from haven_shared.events.intake import ConsentWithdrawn
from haven_shared.events.referral import PartnerReferralAnswered
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from referral.adapters.schema import create_schema
from referral.bootstrap import make_deps
from referral.config import Settings
from referral.domain.deadlines import DeadlineKind
from referral.domain.lifecycle import IllegalTransition
from referral.domain.request import ReferralRequest
from referral.domain.routing import Need, ServiceKind, Survivor, Urgency
from referral.domain.sharing import Consent, SharedField
from referral.service_layer import deadlines
from referral.service_layer import referrals as uc
from referral.service_layer.consent import consent_withdrawn_handler
from referral.service_layer.partner_responses import answer_handler
from referral.service_layer.providers import project_provider

ANA = uc.Actor("ana", "ngo-a", subject="sub-ana", roles=("caseworker",))
PAULA = uc.Actor("paula", "shelter-a", subject="sub-paula", roles=("provider_staff",))
CARLA = uc.Actor("carla", "ngo-b", subject="sub-carla", roles=("caseworker",))
SETTINGS = Settings(environment="test", master_key="referral-unit-audit-key")


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[uc.Deps]:
    engine = make_engine(f"sqlite:///{tmp_path / 'referral.db'}")
    create_schema(engine)
    yield make_deps(SETTINGS.model_copy(update={"database_url": str(engine.url)}), engine)
    engine.dispose()


def engine_of(deps: uc.Deps) -> sa.Engine:
    return deps.uows().engine


def entries(deps: uc.Deps) -> list[tuple[str, str, str, str, str | None, str]]:
    """(actor, organisation, action, object, purpose, outcome) of every entry, in order."""
    t = audit_entry_table
    with engine_of(deps).connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.seq)).all()
    return [(r.actor, r.organisation, r.action, f"{r.object_type}:{r.object_id}", r.purpose,
             r.outcome) for r in rows]


def chain_ok(deps: uc.Deps) -> bool:
    with Session(engine_of(deps)) as s:
        return verify_chain(s, checkpoint_key(SETTINGS.master_key.get_secret_value())).ok


def referred(deps: uc.Deps) -> tuple[uuid.UUID, str]:
    with deps.uows() as uow:
        project_provider(upserted(provider_state("shelter-a", women_only=True,  # type: ignore[arg-type]
                                                 child_qualified=True)), uow)
        uow.commit()
    request = ReferralRequest(
        referral_id=str(uuid.uuid4()), case_id=str(uuid.uuid4()), organisation_id="ngo-a",
        need=Need(kind=ServiceKind.SHELTER, urgency=Urgency.HIGH, area="catania",
                  languages=("ti",), women_only_shelter=True),
        survivor=Survivor(is_minor=True, sex="female", age=16),
        consent=Consent(True, frozenset({SharedField.IS_MINOR})))
    referral, context = uc.request_referral(deps, request, ANA, T0)
    return uuid.UUID(referral.referral_id), context.case_id


def test_a_referrers_create_read_list_and_cancel_are_entries_on_the_case(deps: uc.Deps
                                                                         ) -> None:
    rid, case = referred(deps)
    uc.get_referral(deps, rid, ANA, "service-referral")
    uc.case_referrals(deps, uuid.UUID(case), ANA, "service-referral")
    uc.cancel_referral(deps, rid, ANA, T0)
    assert entries(deps) == [
        ("sub-ana", "ngo-a", "referral.create", f"case:{case}", None, "success"),
        ("sub-ana", "ngo-a", "referral.read", f"case:{case}", "service-referral", "success"),
        ("sub-ana", "ngo-a", "referral.list", f"case:{case}", "service-referral", "success"),
        ("sub-ana", "ngo-a", "referral.cancel", f"case:{case}", None, "success"),
    ]
    assert chain_ok(deps)


def test_another_organisations_attempts_are_denied_entries_naming_only_the_referral(
        deps: uc.Deps) -> None:
    rid, _ = referred(deps)
    with pytest.raises(uc.ReferralNotFound):
        uc.get_referral(deps, rid, CARLA, "service-referral")
    with pytest.raises(uc.ReferralNotFound):
        uc.cancel_referral(deps, rid, CARLA, T0)
    assert entries(deps)[1:] == [
        ("sub-carla", "ngo-b", "referral.read", f"referral:{rid}", "service-referral",
         "denied"),
        ("sub-carla", "ngo-b", "referral.cancel", f"referral:{rid}", None, "denied"),
    ]


def test_a_partners_rest_answers_are_entries_and_an_illegal_step_is_a_failed_one(
        deps: uc.Deps) -> None:
    rid, case = referred(deps)
    uc.get_offered(deps, rid, PAULA, "service-provision")
    uc.partner_answer(deps, rid, PAULA, uc.PartnerAction.ACCEPT, None, T0)
    with pytest.raises(IllegalTransition):
        uc.partner_answer(deps, rid, PAULA, uc.PartnerAction.COMPLETE, None, T0)
    assert entries(deps)[1:] == [
        ("sub-paula", "shelter-a", "partner-referral.read", f"case:{case}",
         "service-provision", "success"),
        ("sub-paula", "shelter-a", "referral.accept", f"case:{case}", None, "success"),
        ("sub-paula", "shelter-a", "referral.complete", f"referral:{rid}", None, "failed"),
    ]
    assert chain_ok(deps)


def _consume(deps: uc.Deps, handler, event) -> None:  # type: ignore[no-untyped-def]
    """As the inbox does: the handler in a unit of work the consumer commits."""
    with UnitOfWork(engine_of(deps), Outbox("/haven/referral")) as uow:
        handler(event, uow)
        uow.commit()


def test_answers_on_the_responses_topic_name_the_partner_as_actor(deps: uc.Deps) -> None:
    rid, case = referred(deps)
    handle = answer_handler(deps, lambda: T0)
    _consume(deps, handle, PartnerReferralAnswered(referral_id=rid, partner_org="clinic-b",
                                                   action="accept"))
    _consume(deps, handle, PartnerReferralAnswered(referral_id=rid, partner_org="shelter-a",
                                                   action="accept"))
    _consume(deps, handle, PartnerReferralAnswered(referral_id=rid, partner_org="shelter-a",
                                                   action="complete"))
    assert entries(deps)[1:] == [
        ("partner:clinic-b", "clinic-b", "referral.accept", f"referral:{rid}", None, "denied"),
        ("partner:shelter-a", "shelter-a", "referral.accept", f"case:{case}", None, "success"),
        ("partner:shelter-a", "shelter-a", "referral.complete", f"referral:{rid}", None,
         "failed"),
    ]
    assert uc.get_referral(deps, rid, ANA, "check")[0].status.value == "accepted"
    assert chain_ok(deps)


def test_an_entry_queued_by_a_handler_is_gone_when_its_transaction_rolls_back(
        deps: uc.Deps) -> None:
    rid, _ = referred(deps)
    handle = answer_handler(deps, lambda: T0)
    with UnitOfWork(engine_of(deps), Outbox("/haven/referral")) as uow:
        handle(PartnerReferralAnswered(referral_id=rid, partner_org="shelter-a",
                                       action="accept"), uow)
        uow.rollback()
        uow.session.commit()  # a later commit of the same session appends nothing
    assert [e[2] for e in entries(deps)] == ["referral.create"]


def test_a_consent_withdrawal_stop_is_the_services_decision_for_the_referrer(
        deps: uc.Deps) -> None:
    rid, case = referred(deps)
    withdrawn = ConsentWithdrawn(case_id=uuid.UUID(case), organisation_id="ngo-a",
                                 consent_id=uuid.uuid4(), purpose="services",
                                 partner_kinds=["shelter"], at=datetime.now(UTC))
    _consume(deps, consent_withdrawn_handler(deps, lambda: T0), withdrawn)
    assert entries(deps)[-1] == ("system:consent-withdrawal", "ngo-a",
                                 "referral.stop-consent-withdrawn", f"case:{case}", None,
                                 "success")


def test_escalations_and_deadline_alerts_are_the_clocks_decisions(deps: uc.Deps) -> None:
    rid, case = referred(deps)
    offered = uc.get_referral(deps, rid, ANA, "check")[0].offers[0]
    assert uc.escalate_overdue(deps, offered.deadline) == 1
    due = T0 + timedelta(days=30)
    deadlines.record_deadline(deps.uows, ANA, uuid.UUID(case),
                              DeadlineKind.RESIDENCE_PERMIT_EXPIRY, due)
    deadlines.upcoming(deps.uows, ANA, T0)
    assert deadlines.alert_tick(deps.uows, due, (timedelta(hours=24),)) == 1
    assert [e for e in entries(deps) if e[2] != "referral.read"][1:] == [
        ("system:referral-clock", "ngo-a", "referral.escalate", f"case:{case}", None,
         "success"),
        ("sub-ana", "ngo-a", "deadline.record", f"case:{case}", None, "success"),
        ("sub-ana", "ngo-a", "deadline.list", "organisation:ngo-a", None, "success"),
        ("system:referral-clock", "ngo-a", "deadline.breached", f"case:{case}", None,
         "success"),
    ]
    assert chain_ok(deps)

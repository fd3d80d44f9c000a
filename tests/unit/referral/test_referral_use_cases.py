"""Referral use cases on SQLite: provider read model, routing to offers, partner answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from referral_builders import T0, provider_state, upserted

from haven_shared.db import make_engine
from haven_shared.events.registry import ProviderCapacityChanged
from haven_shared.outbox import OutboxMessage
from referral.adapters.schema import create_schema
from referral.bootstrap import make_deps
from referral.config import Settings
from referral.domain.lifecycle import IllegalTransition, Status
from referral.domain.offers import OfferClosed, OfferMode
from referral.domain.request import ReferralRequest
from referral.domain.routing import Need, ServiceKind, Survivor, Urgency
from referral.domain.sharing import Consent, ConsentRequired, SharedField
from referral.service_layer import referrals as uc
from referral.service_layer.providers import project_provider

CASEWORKER = uc.Actor("ana", "ngo-a")


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[uc.Deps]:
    engine = make_engine(f"sqlite:///{tmp_path / 'referral.db'}")
    create_schema(engine)
    yield make_deps(Settings(environment="test", database_url=str(engine.url)), engine)
    engine.dispose()


def seed(deps: uc.Deps, *events: object) -> None:
    with deps.uows() as uow:
        for e in events:
            project_provider(e, uow)  # type: ignore[arg-type]
        uow.commit()


def request(kind: ServiceKind = ServiceKind.SHELTER, *, minor: bool = True,
            women_only: bool = True, consent: Consent | None = None,
            mode: OfferMode = OfferMode.SEQUENTIAL) -> ReferralRequest:
    return ReferralRequest(
        referral_id=str(uuid.uuid4()), case_id=str(uuid.uuid4()), organisation_id="ngo-a",
        need=Need(kind=kind, urgency=Urgency.HIGH, area="catania", languages=("ti",),
                  women_only_shelter=women_only),
        survivor=Survivor(is_minor=minor, sex="female", age=16 if minor else 30),
        consent=consent or Consent(True, frozenset({SharedField.IS_MINOR, SharedField.SEX})),
        mode=mode)


def outbox(deps: uc.Deps) -> list[sa.Row]:  # type: ignore[type-arg]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with deps.uows() as uow:
        return list(uow.session.execute(sa.select(table).order_by(table.c.seq)).all())


def test_provider_events_replayed_or_out_of_order_leave_the_newest_version(deps: uc.Deps
                                                                            ) -> None:
    sid = uuid.uuid4()
    v1 = provider_state("shelter-a", service_id=sid, version=1, available=5)
    v2 = provider_state("shelter-a", service_id=sid, version=2, available=1)
    seed(deps, upserted(v1))
    seed(deps, ProviderCapacityChanged(service_id=sid, provider=v2), upserted(v1), upserted(v1))
    with deps.uows() as uow:
        row = uow.providers.get(sid)
        assert row is not None and (row.version, row.capacity) == (2, 1)


def test_a_girl_of_16_asking_for_women_only_shelter_is_offered_only_the_child_qualified_one(
        deps: uc.Deps) -> None:
    good = provider_state("shelter-a", women_only=True, child_qualified=True)
    adults = provider_state("shelter-c", women_only=True, child_qualified=False)
    mixed = provider_state("clinic-b", women_only=False, child_qualified=True)
    seed(deps, upserted(good), upserted(adults), upserted(mixed))
    referral, context = uc.request_referral(deps, request(), CASEWORKER, T0)
    assert [(o.org, o.provider_id) for o in referral.offers] == [
        ("shelter-a", str(good.service_id))]
    excluded = {e["org"]: e["reasons"] for e in context.routing["excluded"]}
    assert excluded["shelter-c"] == ["not qualified to serve children"]
    assert excluded["clinic-b"] == ["not a women-only shelter, which was requested"]
    partner = [m for m in outbox(deps) if m.type == "haven.partner.referral.offered.v1"]
    assert [m.payload["partner_org"] for m in partner] == ["shelter-a"]
    text = json.dumps(partner[0].payload)
    assert context.case_id not in text
    # Facts not consented to (age, area, languages here) travel as null: not shared.
    assert partner[0].payload["shared"] == {"is_minor": True, "sex": "female", "age": None,
                                            "languages": None, "area": None,
                                            "staff_gender": None}


def test_no_eligible_provider_is_an_unmet_need_event_and_alert(deps: uc.Deps) -> None:
    referral, context = uc.request_referral(deps, request(ServiceKind.GUARDIAN), CASEWORKER, T0)
    assert context.unmet and referral.offers == []
    assert "haven.referral.unmet-need.v1" in [m.type for m in outbox(deps)]


def test_without_consent_nothing_is_stored_or_sent(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)))
    with pytest.raises(ConsentRequired):
        uc.request_referral(deps, request(consent=Consent(False)), CASEWORKER, T0)
    assert outbox(deps) == []


def test_an_override_lets_a_minors_referral_leave_and_is_recorded(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)))
    consent = Consent(False, override_reason="child alone at the port", override_by="ana")
    referral, context = uc.request_referral(deps, request(consent=consent), CASEWORKER, T0)
    assert context.consent.overridden and context.shared == {}
    got = uc.get_referral(deps, uuid.UUID(referral.referral_id), CASEWORKER)
    assert got[1].consent.override_reason == "child alone at the port"


def test_another_organisation_neither_reads_nor_answers(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)))
    referral, _ = uc.request_referral(deps, request(), CASEWORKER, T0)
    rid = uuid.UUID(referral.referral_id)
    with pytest.raises(uc.ReferralNotFound):
        uc.get_referral(deps, rid, uc.Actor("carla", "ngo-b"))
    with pytest.raises(uc.ReferralNotFound):
        uc.partner_answer(deps, rid, uc.Actor("pedro", "clinic-b"), uc.PartnerAction.ACCEPT,
                          None, T0)
    assert uc.get_referral(deps, rid, CASEWORKER)[0].status == Status.REQUESTED


def test_partner_lifecycle_and_an_illegal_step(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)))
    referral, _ = uc.request_referral(deps, request(), CASEWORKER, T0)
    rid, paula = uuid.UUID(referral.referral_id), uc.Actor("paula", "shelter-a")
    uc.partner_answer(deps, rid, paula, uc.PartnerAction.ACCEPT, None, T0)
    with pytest.raises(IllegalTransition):  # accepted, not yet in progress
        uc.partner_answer(deps, rid, paula, uc.PartnerAction.COMPLETE, None, T0)
    for action in (uc.PartnerAction.START, uc.PartnerAction.COMPLETE):
        uc.partner_answer(deps, rid, paula, action, None, T0)
    assert uc.get_referral(deps, rid, CASEWORKER)[0].status == Status.COMPLETED
    statuses = [m.payload["status"] for m in outbox(deps)
                if m.type == "haven.referral.status.changed.v1"]
    assert statuses == ["accepted", "in-progress", "completed"]


def test_broadcast_first_acceptance_wins_and_the_other_partner_is_told(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", "counselling")),
         upserted(provider_state("clinic-b", "counselling")))
    referral, _ = uc.request_referral(
        deps, request(ServiceKind.COUNSELLING, minor=False, mode=OfferMode.BROADCAST),
        CASEWORKER, T0)
    rid = uuid.UUID(referral.referral_id)
    assert {o.org for o in referral.offers} == {"shelter-a", "clinic-b"}
    uc.partner_answer(deps, rid, uc.Actor("pedro", "clinic-b"), uc.PartnerAction.ACCEPT,
                      None, T0)
    with pytest.raises(OfferClosed):
        uc.partner_answer(deps, rid, uc.Actor("paula", "shelter-a"), uc.PartnerAction.ACCEPT,
                          None, T0)
    withdrawn = [m.payload for m in outbox(deps)
                 if m.type == "haven.partner.referral.withdrawn.v1"]
    assert [(w["partner_org"], w["outcome"]) for w in withdrawn] == [
        ("shelter-a", "taken-by-another")]


def test_an_unanswered_offer_escalates_to_the_next_provider_at_the_injected_time(
        deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", "legal_aid", available=5)),
         upserted(provider_state("clinic-b", "legal_aid", available=1)))
    referral, _ = uc.request_referral(deps, request(ServiceKind.LEGAL_AID, minor=False),
                                      CASEWORKER, T0)
    rid = uuid.UUID(referral.referral_id)
    assert uc.escalate_overdue(deps, T0 + timedelta(hours=23)) == 0
    assert uc.escalate_overdue(deps, T0 + timedelta(hours=24)) == 1
    offers = uc.get_referral(deps, rid, CASEWORKER)[0].offers
    assert [(o.org, o.status.value) for o in offers] == [("shelter-a", "expired"),
                                                          ("clinic-b", "open")]
    orgs = [m.payload["partner_org"] for m in outbox(deps)
            if m.type == "haven.partner.referral.offered.v1"]
    assert orgs == ["shelter-a", "clinic-b"]


def test_withdrawn_consent_stops_the_case_s_referrals_of_those_partner_kinds(
        deps: uc.Deps) -> None:
    from referral.service_layer.consent import withdraw_consent

    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)),
         upserted(provider_state("clinic-b", "counselling", child_qualified=True)),
         upserted(provider_state("clinic-b", "legal_aid", child_qualified=True)))
    case_id = str(uuid.uuid4())

    def refer(kind: ServiceKind) -> uuid.UUID:
        r = request(kind, women_only=kind == ServiceKind.SHELTER)
        r = ReferralRequest(r.referral_id, case_id, r.organisation_id, r.need, r.survivor,
                            r.consent)
        return uuid.UUID(uc.request_referral(deps, r, CASEWORKER, T0)[0].referral_id)

    shelter, counselling, legal = (refer(ServiceKind.SHELTER), refer(ServiceKind.COUNSELLING),
                                   refer(ServiceKind.LEGAL_AID))
    paula = uc.Actor("paula", "shelter-a")
    uc.partner_answer(deps, shelter, paula, uc.PartnerAction.ACCEPT, None, T0)
    uc.partner_answer(deps, shelter, paula, uc.PartnerAction.START, None, T0)
    with deps.uows() as uow:
        stopped = withdraw_consent(uow, deps, uuid.UUID(case_id), "ngo-a",
                                   ["shelter", "counselling"], T0)
        uow.commit()
    assert stopped == 2

    def status(rid: uuid.UUID) -> Status:
        return uc.get_referral(deps, rid, CASEWORKER)[0].status

    assert (status(shelter), status(counselling), status(legal)) == (
        Status.FAILED, Status.CANCELLED, Status.REQUESTED)
    told = [(m.payload["partner_org"], m.payload["outcome"]) for m in outbox(deps)
            if m.type == "haven.partner.referral.withdrawn.v1"]
    assert told == [("shelter-a", "consent-withdrawn"), ("clinic-b", "consent-withdrawn")]


def test_a_repeated_request_with_the_same_key_routes_and_offers_once(deps: uc.Deps) -> None:
    seed(deps, upserted(provider_state("shelter-a", women_only=True, child_qualified=True)))
    token = uc.IdempotencyToken("key-1", "fingerprint-1")
    first, _ = uc.request_referral(deps, request(), CASEWORKER, T0, token)
    again, _ = uc.request_referral(deps, request(), CASEWORKER, T0, token)
    assert again.referral_id == first.referral_id
    assert [m.type for m in outbox(deps)].count("haven.partner.referral.offered.v1") == 1
    other_body = uc.IdempotencyToken("key-1", "fingerprint-2")
    with pytest.raises(uc.IdempotencyConflict):
        uc.request_referral(deps, request(), CASEWORKER, T0, other_body)
    # Keys belong to their caller: ben's "key-1" is a new request.
    bens, _ = uc.request_referral(deps, request(), uc.Actor("ben", "ngo-a"), T0, token)
    assert bens.referral_id != first.referral_id

"""Intake's consent and needs assessment, from the real `intake.case` topic, become referrals
offered on the partner's topic; needs without consent wait, visible on the case."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import AssessedNeed, ConsentGiven, NeedsAssessed
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def test_an_assessed_minor_s_shelter_need_is_offered_and_unconsented_needs_wait(
        stack: LocalStack, client: TestClient, deps: Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    with deps.uows() as uow:
        project_provider(upserted(provider_state("shelter-a", women_only=True,
                                                 child_qualified=True, area="")), uow)
        uow.commit()
    case_id, now = uuid.uuid4(), datetime.now(UTC)
    given = ConsentGiven(case_id=case_id, organisation_id="ngo-a", consent_id=uuid.uuid4(),
                         purpose="services", partner_kinds=["shelter"], at=now)
    assessed = NeedsAssessed(
        case_id=case_id, organisation_id="ngo-a", assessment_id=uuid.uuid4(), assessed_at=now,
        is_minor=True, women_only_shelter=True,
        needs=[AssessedNeed(need="shelter", urgency="immediate"),
               AssessedNeed(need="legal-aid", urgency="routine")])
    producer = make_producer(stack.kafka_bootstrap)
    for event in (given, assessed):
        env = Envelope.wrap(event, "/haven/intake")
        producer.send(NeedsAssessed.topic, key=env.key.encode(), value=env.body(),
                      headers=env.kafka_headers())
    producer.flush(30)
    producer.close()

    def case_view() -> Any:
        return client.get(f"/cases/{case_id}/referrals", headers=auth("ana") | READ).json()

    deadline = time.monotonic() + 60
    while not case_view()["referrals"]:
        assert time.monotonic() < deadline, "the assessment was not referred"
        time.sleep(0.3)
    seen = case_view()
    assert [(r["need"], r["urgency"]) for r in seen["referrals"]] == [("shelter", "emergency")]
    assert sorted(w["need"] for w in seen["awaiting_consent"]) == ["guardian", "legal_aid"]
    rid = seen["referrals"][0]["id"]
    offer = topics["shelter-a"].wait_for(rid, "haven.partner.referral.offered.v1")
    assert str(case_id) not in offer.value.decode()
    assert json.loads(offer.value)["shared"]["is_minor"] is True
    assert client.get(f"/cases/{case_id}/referrals", headers=auth("carla") | READ).json() == {
        "referrals": [], "awaiting_consent": []}

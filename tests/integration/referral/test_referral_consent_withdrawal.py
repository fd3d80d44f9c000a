"""Intake's consent withdrawal, consumed from the real `intake.case` topic, stops the case's
referrals and tells the partner that held the data to delete it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import ConsentWithdrawn
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def test_withdrawn_consent_cancels_the_referral_and_the_partner_is_told_to_delete(
        stack: LocalStack, client: TestClient, deps: Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    area = f"area-{uuid.uuid4().hex[:8]}"
    with deps.uows() as uow:
        project_provider(upserted(provider_state("shelter-a", area=area, women_only=True,
                                                 child_qualified=True)), uow)
        uow.commit()
    case_id = uuid.uuid4()
    rid = client.post("/referrals", json=referral_body(case_id, area),
                      headers=auth("ana")).json()["id"]
    withdrawn = ConsentWithdrawn(case_id=case_id, organisation_id="ngo-a",
                                 consent_id=uuid.uuid4(), purpose="services",
                                 partner_kinds=["shelter"], at=datetime.now(UTC))
    env = Envelope.wrap(withdrawn, "/haven/intake")
    producer = make_producer(stack.kafka_bootstrap)
    producer.send(ConsentWithdrawn.topic, key=env.key.encode(), value=env.body(),
                  headers=env.kafka_headers())
    producer.flush(30)
    producer.close()

    deadline = time.monotonic() + 60
    while client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["status"] != "cancelled":
        assert time.monotonic() < deadline, "the withdrawal did not stop the referral"
        time.sleep(0.3)
    told = topics["shelter-a"].wait_for(rid, "haven.partner.referral.withdrawn.v1")
    assert json.loads(told.value)["outcome"] == "consent-withdrawn"
    seen = client.get(f"/partner/referrals/{rid}", headers=auth("paula") | READ).json()
    assert seen["shared"] is None

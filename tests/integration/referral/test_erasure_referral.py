"""Intake's erasure of a case's person, consumed from the real `intake.case` topic, stops the
case's referrals and tells every partner that received data to delete it; the erasure of a
tracing record's subject leaves referrals alone."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.intake import DataSubjectErased
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

Auth = Callable[[str], dict[str, str]]


def _erasure(stack: LocalStack, case_id: uuid.UUID, *, case_subject: bool) -> None:
    erased = DataSubjectErased(
        case_id=case_id,
        organisation_id="ngo-a",
        erasure_id=uuid.uuid4(),
        erased_at=datetime.now(UTC),
        reason="data-subject-request",
        key_ids=[f"sk-{uuid.uuid4().hex}"],
        case_subject=case_subject,
    )
    env = Envelope.wrap(erased, "/haven/intake")
    producer = make_producer(stack.kafka_bootstrap)
    producer.send(
        DataSubjectErased.topic, key=env.key.encode(), value=env.body(), headers=env.kafka_headers()
    )
    producer.flush(30)
    producer.close()


def _referral(client: TestClient, deps: Deps, auth: Auth) -> tuple[uuid.UUID, str]:
    area = f"area-{uuid.uuid4().hex[:8]}"
    with deps.uows() as uow:
        project_provider(
            upserted(provider_state("shelter-a", area=area, women_only=True, child_qualified=True)),
            uow,
        )
        uow.commit()
    case_id = uuid.uuid4()
    r = client.post("/referrals", json=referral_body(case_id, area), headers=auth("ana"))
    assert r.status_code == 201, r.text
    return case_id, str(r.json()["id"])


def test_erasing_the_person_cancels_the_referral_and_the_partner_is_told_to_delete(
    stack: LocalStack, client: TestClient, deps: Deps, auth: Auth, topics
) -> None:  # type: ignore[no-untyped-def]
    case_id, rid = _referral(client, deps, auth)
    offered = json.loads(
        topics["shelter-a"].wait_for(rid, "haven.partner.referral.offered.v1").value
    )
    _erasure(stack, case_id, case_subject=True)

    # The session's consumer group may first catch up with what other suites left on the topic.
    deadline = time.monotonic() + 180
    while (
        client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["status"] != "cancelled"
    ):
        assert time.monotonic() < deadline, "the erasure did not stop the referral"
        time.sleep(0.3)
    told = json.loads(
        topics["shelter-a"].wait_for(rid, "haven.partner.subject.erased.v1", timeout=60).value
    )
    assert (told["partner_org"], told["subject"]) == ("shelter-a", offered["subject"])
    assert (
        client.get(f"/partner/referrals/{rid}", headers=auth("paula") | READ).json()["shared"]
        is None
    )


def test_erasing_a_tracing_records_subject_leaves_the_cases_referrals(
    stack: LocalStack, client: TestClient, deps: Deps, auth: Auth, topics
) -> None:  # type: ignore[no-untyped-def]
    case_id, rid = _referral(client, deps, auth)
    topics["shelter-a"].wait_for(rid, "haven.partner.referral.offered.v1")
    _erasure(stack, case_id, case_subject=False)
    # A person erasure sent after it is seen first-to-last on the same partition (key = case).
    _erasure(stack, case_id, case_subject=True)
    topics["shelter-a"].wait_for(rid, "haven.partner.subject.erased.v1", timeout=180)
    assert topics["shelter-a"].count(rid, "haven.partner.subject.erased.v1") == 1

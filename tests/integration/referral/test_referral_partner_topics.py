"""Partners answer on their own `partner.<org>.responses` topic, and offers escalate in time:
both reach the same state machine, and both show on the partner topics of the real broker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.referral import PartnerReferralAnswered
from haven_shared.inbox import INBOX
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.service_layer import referrals as uc
from referral.service_layer.providers import project_provider

Auth = Callable[[str], dict[str, str]]
GROUP = "referral-partner-responses"


def seed(deps: uc.Deps, *states: object) -> None:
    with deps.uows() as uow:
        for s in states:
            project_provider(upserted(s), uow)  # type: ignore[arg-type]
        uow.commit()


def answer(rid: str, action: str, claimed_org: str = "") -> Envelope:
    return Envelope.wrap(PartnerReferralAnswered(referral_id=uuid.UUID(rid), action=action,
                                                 partner_org=claimed_org), "/partner")


def send(stack: LocalStack, org: str, *envelopes: Envelope) -> None:
    producer = make_producer(stack.kafka_bootstrap)
    for env in envelopes:
        producer.send(f"partner.{org}.responses", key=env.key.encode(), value=env.body(),
                      headers=env.kafka_headers())
    producer.flush(30)
    producer.close()


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def processed(deps: uc.Deps, event_id: str) -> bool:
    engine = deps.uows().engine
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(INBOX).where(
            INBOX.c.consumer == GROUP, INBOX.c.event_id == event_id)).scalar_one() == 1


def test_a_partner_accepts_and_completes_through_its_response_topic(
        stack: LocalStack, client: TestClient, deps: uc.Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", area=area, women_only=True, child_qualified=True))
    mine = client.post("/referrals", json=referral_body(uuid.uuid4(), area),
                       headers=auth("ana")).json()["id"]
    other = client.post("/referrals", json=referral_body(uuid.uuid4(), area),
                        headers=auth("ana")).json()["id"]

    # clinic-b claims to be shelter-a in the body: the topic decides who answered.
    forged = answer(other, "accept", claimed_org="shelter-a")
    send(stack, "clinic-b", forged)
    accept = answer(mine, "accept")
    send(stack, "shelter-a", accept, accept, answer(mine, "start"), answer(mine, "complete"))

    def status(rid: str) -> str:
        return str(client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["status"])

    wait_until(lambda: status(mine) == "completed", "the answers were not applied")
    wait_until(lambda: processed(deps, forged.id), "the forged answer was not consumed")
    assert status(other) == "requested"
    wait_until(lambda: (topics["referral"].poll() or True) and len(
        topics["referral"].of(mine, "haven.referral.status.changed.v1")) >= 3,
        "status changes not published")
    changes = [json.loads(r.value)["status"] for r in
               topics["referral"].of(mine, "haven.referral.status.changed.v1")]
    assert changes == ["accepted", "in-progress", "completed"]


def test_an_unanswered_offer_escalates_to_the_next_partner_at_the_injected_time(
        client: TestClient, deps: uc.Deps, auth: Auth, topics) -> None:  # type: ignore[no-untyped-def]
    area = f"area-{uuid.uuid4().hex[:8]}"
    seed(deps, provider_state("shelter-a", "legal_aid", area=area, available=5),
         provider_state("clinic-b", "legal_aid", area=area, available=1))
    body = referral_body(uuid.uuid4(), area, "legal_aid", is_minor=False, age=30,
                         women_only=False)
    created = client.post("/referrals", json=body, headers=auth("ana")).json()
    rid = created["id"]
    assert [o["org"] for o in created["offers"]] == ["shelter-a"]
    respond_by = datetime.fromisoformat(created["offers"][0]["respond_by"])
    uc.escalate_overdue(deps, respond_by - timedelta(seconds=1))
    assert client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()["offers"][0][
        "status"] == "open"

    uc.escalate_overdue(deps, respond_by)
    got = client.get(f"/referrals/{rid}", headers=auth("ana") | READ).json()
    assert [(o["org"], o["status"]) for o in got["offers"]] == [("shelter-a", "expired"),
                                                                ("clinic-b", "open")]
    topics["clinic-b"].wait_for(rid, "haven.partner.referral.offered.v1")
    gone = topics["shelter-a"].wait_for(rid, "haven.partner.referral.withdrawn.v1")
    assert json.loads(gone.value)["outcome"] == "expired"

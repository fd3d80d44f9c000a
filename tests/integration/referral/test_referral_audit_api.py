"""Referral's audit log on the real stack: reads and writes of a case's referrals, and partners'
answers over REST and on their responses topic, are entries an auditor can query and verify;
reads without a purpose are refused (and the refusal recorded); caseworkers cannot read it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from referral_builders import READ, provider_state, referral_body, upserted

from haven_shared.events.envelope import Envelope
from haven_shared.events.referral import PartnerReferralAnswered
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack
from referral.service_layer.providers import project_provider
from referral.service_layer.referrals import Deps

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]


def entries(client: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/audit/entries", params={"limit": 1000, **params}, headers=auth("audrey"))
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["entries"]
    return found


def shelter_referral(client: TestClient, deps: Deps, auth: Auth) -> tuple[str, str]:
    area = f"area-{uuid.uuid4().hex[:8]}"
    with deps.uows() as uow:
        project_provider(upserted(provider_state("shelter-a", area=area, women_only=True,
                                                 child_qualified=True)), uow)
        uow.commit()
    case_id = str(uuid.uuid4())
    r = client.post("/referrals", json=referral_body(uuid.UUID(case_id), area),
                    headers=auth("ana"))
    assert r.status_code == 201, r.text
    return case_id, str(r.json()["id"])


def test_the_auditor_sees_the_case_s_referral_story_and_the_chain_is_intact(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    case_id, rid = shelter_referral(client, deps, auth)
    assert client.get(f"/referrals/{rid}", headers=auth("ana") | READ).status_code == 200
    assert client.get(f"/cases/{case_id}/referrals", headers=auth("ana") | READ
                      ).status_code == 200
    assert client.get(f"/partner/referrals/{rid}", headers=auth("paula") | READ
                      ).status_code == 200
    assert client.post(f"/partner/referrals/{rid}/accept", headers=auth("paula")
                       ).status_code == 200
    got = entries(client, auth, object_type="case", object_id=case_id)
    ana = client.get("/whoami", headers=auth("ana")).json()
    assert [(e["action"], e["organisation"], e["purpose"], e["outcome"]) for e in got] == [
        ("referral.create", ana["org"], None, "success"),
        ("referral.read", ana["org"], "service-referral", "success"),
        ("referral.list", ana["org"], "service-referral", "success"),
        ("partner-referral.read", "shelter-a", "service-referral", "success"),
        ("referral.accept", "shelter-a", None, "success"),
    ]
    assert {e["service"] for e in got} == {"referral"}
    assert all(len(e["trace_id"]) == 32 for e in got)
    assert len({e["trace_id"] for e in got}) == 5  # one request, one trace
    verdict = client.get("/audit/verify", headers=auth("audrey"))
    assert verdict.status_code == 200 and verdict.json()["ok"] is True, verdict.text


@pytest.mark.parametrize("user, path", [
    ("ana", "/referrals/{rid}"), ("ana", "/cases/{case_id}/referrals"),
    ("paula", "/partner/referrals/{rid}")])
def test_a_read_without_a_purpose_is_a_400_and_the_refusal_is_recorded(
        client: TestClient, deps: Deps, auth: Auth, user: str, path: str) -> None:
    case_id, rid = shelter_referral(client, deps, auth)
    r = client.get(path.format(rid=rid, case_id=case_id), headers=auth(user))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "X-Purpose-Of-Use" in r.json()["detail"]
    kind, object_id = ("case", case_id) if "{case_id}" in path else ("referral", rid)
    refused = entries(client, auth, object_type=kind, object_id=object_id)
    assert [(e["purpose"], e["outcome"]) for e in refused if e["outcome"] != "success"] == [
        (None, "denied")]


@pytest.mark.parametrize("path", ["/audit/entries", "/audit/verify", "/audit/export"])
def test_a_caseworker_cannot_read_the_audit_log(client: TestClient, auth: Auth,
                                                path: str) -> None:
    r = client.get(path, headers=auth("ana"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_an_answer_on_the_responses_topic_is_an_entry_with_the_partner_as_actor(
        stack: LocalStack, client: TestClient, deps: Deps, auth: Auth) -> None:
    case_id, rid = shelter_referral(client, deps, auth)
    env = Envelope.wrap(PartnerReferralAnswered(referral_id=uuid.UUID(rid), action="accept"),
                        "/partner")
    producer = make_producer(stack.kafka_bootstrap)
    producer.send("partner.shelter-a.responses", key=env.key.encode(), value=env.body(),
                  headers=env.kafka_headers())
    producer.flush(30)
    producer.close()
    deadline = time.monotonic() + 60
    while not (accepted := [e for e in entries(client, auth, object_type="case",
                                               object_id=case_id)
                            if e["action"] == "referral.accept"]):
        assert time.monotonic() < deadline, "the answer was not audited"
        time.sleep(0.3)
    assert [(e["actor"], e["roles"], e["organisation"], e["outcome"]) for e in accepted] == [
        ("partner:shelter-a", ["partner"], "shelter-a", "success")]


def test_every_served_read_of_a_case_s_referrals_carried_a_purpose(
        client: TestClient, deps: Deps, auth: Auth) -> None:
    _, rid = shelter_referral(client, deps, auth)
    assert client.get(f"/referrals/{rid}", headers=auth("ana") | READ).status_code == 200
    reads = [e for e in entries(client, auth, object_type="case")
             if e["action"].endswith((".read", ".list")) and e["outcome"] == "success"]
    assert reads and all(e["purpose"] for e in reads)

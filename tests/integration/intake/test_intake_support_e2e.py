"""Survivor support over REST with real tokens: screening and victim decisions, needs and
consent, each announced on the real broker without personal data in clear."""

from __future__ import annotations

import json

import payloads
import pytest
from fastapi.testclient import TestClient
from intake_topic import TopicReader

pytestmark = pytest.mark.infra

REASONS = "Recruited with a false promise of work by Mr Kebede; passport taken in Sabha."


def _survivor_case(client: TestClient, auth) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/cases", json={"kind": "survivor-support", "person": {
        "display_name": "Hiwet Kebede", "estimated_age": 24}}, headers=auth("ana"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _screening(client: TestClient, auth, case_id: str) -> str:  # type: ignore[no-untyped-def]
    r = client.post(f"/cases/{case_id}/screenings", json={
        "indicators": ["false-job-offer", "documents-confiscated", "confined"],
        "notes": "Met at the Sabha detention centre."}, headers=auth("ana"))
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "strong-indication"
    return str(r.json()["id"])


def test_victim_decisions_are_taken_in_order_by_a_supervisor_and_announced_sealed(
        client: TestClient, auth, topic: TopicReader) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    screening_id = _screening(client, auth, case_id)
    path = f"/cases/{case_id}/screenings/{screening_id}/decisions"
    rg = {"stage": "reasonable-grounds", "outcome": "positive", "decision_date": "2025-10-01",
          "reasons": REASONS}
    assert client.post(path, json=rg, headers=auth("ana")).status_code == 403
    early = {**rg, "stage": "conclusive-grounds"}
    assert client.post(path, json=early, headers=auth("sara")).status_code == 409

    assert client.post(path, json=rg, headers=auth("sara")).status_code == 200
    presumed = topic.wait_for(case_id, "haven.intake.victim.presumed.v1")
    assert b"Kebede" not in presumed.value and b"Sabha" not in presumed.value
    assert json.loads(presumed.value)["screening_id"] == screening_id

    cg = {**early, "decision_date": "2025-11-10"}
    r = client.post(path, json=cg, headers=auth("sara"))
    assert r.status_code == 200
    assert [d["stage"] for d in r.json()["decisions"]] == ["reasonable-grounds",
                                                           "conclusive-grounds"]
    identified = topic.wait_for(case_id, "haven.intake.victim.identified.v1")
    assert b"Kebede" not in identified.value
    assert client.get(f"/cases/{case_id}/screenings/{screening_id}",
                      headers=auth("carla") | payloads.READ).status_code == 404
    listed = client.get(f"/cases/{case_id}/screenings", headers=auth("ben") | payloads.READ).json()
    assert [x["id"] for x in listed] == [screening_id]
    assert client.get(f"/cases/{case_id}/screenings", headers=auth("carla") | payloads.READ).status_code == 404


def test_a_negative_decision_can_be_reconsidered(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    screening_id = _screening(client, auth, case_id)
    base = f"/cases/{case_id}/screenings/{screening_id}"
    negative = {"stage": "reasonable-grounds", "outcome": "negative",
                "decision_date": "2025-10-01", "reasons": "Not enough information yet."}
    assert client.post(f"{base}/decisions", json=negative, headers=auth("sara")).status_code == 200
    again = {**negative, "outcome": "positive", "decision_date": "2025-10-20"}
    assert client.post(f"{base}/decisions", json=again, headers=auth("sara")).status_code == 409
    r = client.post(f"{base}/reconsiderations", json={"stage": "reasonable-grounds"},
                    headers=auth("ana"))
    assert r.status_code == 200 and r.json()["reconsideration_requested"] == "reasonable-grounds"
    r = client.post(f"{base}/decisions", json=again, headers=auth("sara"))
    assert r.status_code == 200
    assert [d["superseded"] for d in r.json()["decisions"]] == [True, False]


def test_an_unknown_indicator_is_refused(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    r = client.post(f"/cases/{case_id}/screenings", json={"indicators": ["confined", "bad"]},
                    headers=auth("ana"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.indicators.1"


def test_needs_are_assessed_and_announced_with_routing_facts_only(
        client: TestClient, auth, topic: TopicReader) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    body = {"needs": [{"kind": "shelter", "urgency": "immediate"},
                      {"kind": "legal-aid", "urgency": "high"}],
            "languages": ["ti"], "staff_gender": "female", "women_only_shelter": True,
            "notes": "Afraid of Mr Kebede finding her."}
    r = client.post(f"/cases/{case_id}/needs-assessments", json=body, headers=auth("ana"))
    assert r.status_code == 201, r.text
    event = topic.wait_for(case_id, "haven.intake.needs.assessed.v1")
    assert b"Kebede" not in event.value and b"Hiwet" not in event.value
    data = json.loads(event.value)
    assert data["needs"] == [{"need": "shelter", "urgency": "immediate"},
                             {"need": "legal-aid", "urgency": "high"}]
    assert data["women_only_shelter"] is True
    got = client.get(f"/cases/{case_id}/needs-assessments/{r.json()['id']}", headers=auth("ben") | payloads.READ)
    assert got.status_code == 200 and got.json()["notes"] == body["notes"]
    listed = client.get(f"/cases/{case_id}/needs-assessments", headers=auth("ana") | payloads.READ).json()
    assert [a["id"] for a in listed] == [r.json()["id"]]


def test_a_guardian_is_not_a_need_of_an_adult(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    r = client.post(f"/cases/{case_id}/needs-assessments",
                    json={"needs": [{"kind": "child-guardian"}]}, headers=auth("ana"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.needs.0.kind"


def test_consent_is_given_and_withdrawn_with_events(
        client: TestClient, auth, topic: TopicReader) -> None:  # type: ignore[no-untyped-def]
    case_id = _survivor_case(client, auth)
    r = client.post(f"/cases/{case_id}/consents",
                    json={"purpose": "disclosure", "partner_kinds": ["shelter", "legal-aid"]},
                    headers=auth("ana"))
    assert r.status_code == 201, r.text
    consent_id = r.json()["id"]
    given = json.loads(topic.wait_for(case_id, "haven.intake.consent.given.v1").value)
    assert given["purpose"] == "disclosure" and given["override"] is False
    w = client.post(f"/cases/{case_id}/consents/{consent_id}/withdrawal", headers=auth("ana"))
    assert w.status_code == 200 and w.json()["withdrawn_by"] == "ana"
    topic.wait_for(case_id, "haven.intake.consent.withdrawn.v1")
    assert client.post(f"/cases/{case_id}/consents/{consent_id}/withdrawal",
                       headers=auth("ana")).status_code == 409


def test_a_child_protection_override_needs_a_minor_the_role_and_a_reason(
        client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    adult_case = _survivor_case(client, auth)
    body = {"purpose": "services", "given_by": "none",
            "override_reason": "Child at immediate risk of re-trafficking."}
    r = client.post(f"/cases/{adult_case}/consents", json=body, headers=auth("ana"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.override_reason"
    child_case = client.post("/cases", json={"kind": "survivor-support",
                                             "person": {"estimated_age": 14}},
                             headers=auth("chris")).json()["id"]
    r = client.post(f"/cases/{child_case}/consents", json=body, headers=auth("chris"))
    assert r.status_code == 201 and r.json()["override"] is True

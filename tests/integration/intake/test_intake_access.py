"""Object-level authorisation: own organisation only; minors need child protection."""

from __future__ import annotations

import json

import payloads
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.infra

CHILD_DOB = "2014-05-01"


def test_a_caseworker_without_child_protection_cannot_file_a_minors_record(
        client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "missing-person"},
                          headers=auth("ana")).json()["id"]
    r = client.post(f"/cases/{case_id}/missing-person-reports",
                    json=payloads.missing_person(date_of_birth=CHILD_DOB), headers=auth("ana"))
    assert r.status_code == 403
    assert client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).json()["records"] == []


def test_a_minors_case_is_hidden_from_caseworkers_without_child_protection(
        client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "missing-person"},
                          headers=auth("chris")).json()["id"]
    r = client.post(f"/cases/{case_id}/missing-person-reports",
                    json=payloads.missing_person(date_of_birth=CHILD_DOB), headers=auth("chris"))
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    assert client.get(f"/cases/{case_id}", headers=auth("chris") | payloads.READ).json()["is_minor"] is True
    path = f"/cases/{case_id}/missing-person-reports/{report_id}"
    assert client.get(path, headers=auth("sara") | payloads.READ).status_code == 200
    assert client.get(path, headers=auth("ana") | payloads.READ).status_code == 404
    assert client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).status_code == 404


def test_a_case_opened_for_a_child_needs_child_protection(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = {"kind": "survivor-support", "person": {"estimated_age": 15}}
    assert client.post("/cases", json=body, headers=auth("ben")).status_code == 403
    assert client.post("/cases", json=body, headers=auth("chris")).status_code == 201


def test_another_organisation_cannot_file_on_a_case(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "found-person"},
                          headers=auth("ana")).json()["id"]
    r = client.post(f"/cases/{case_id}/found-persons", json=payloads.found_person(),
                    headers=auth("carla"))
    assert r.status_code == 404
    assert client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).json()["records"] == []


def test_an_unknown_case_and_a_foreign_case_look_the_same(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "found-person"},
                          headers=auth("ana")).json()["id"]
    foreign = client.get(f"/cases/{case_id}", headers=auth("carla") | payloads.READ)
    unknown = client.get("/cases/00000000-0000-4000-8000-000000000000", headers=auth("carla") | payloads.READ)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]


def test_requests_without_a_token_are_refused(client: TestClient) -> None:
    assert client.post("/cases", json={"kind": "found-person"}).status_code == 401


def test_a_case_follows_its_workflow_and_refuses_skipped_steps(client: TestClient, auth, topic) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "survivor-support"},
                          headers=auth("ana")).json()["id"]
    skip = client.post(f"/cases/{case_id}/status", json={"status": "services-in-progress"},
                       headers=auth("ana"))
    assert skip.status_code == 409
    for status in ("assessment", "support-plan", "services-in-progress", "closed", "reopened"):
        r = client.post(f"/cases/{case_id}/status", json={"status": status},
                        headers=auth("ana"))
        assert r.status_code == 200 and r.json()["status"] == status
    r = client.post(f"/cases/{case_id}/status", json={"risk_level": "critical"},
                    headers=auth("ana"))
    assert r.json()["risk_level"] == "critical" and r.json()["status"] == "reopened"
    changes = topic.wait_count(case_id, "haven.intake.case.status-changed.v1", 6)
    assert [json.loads(r.value)["status"] for r in changes] == [
        "assessment", "support-plan", "services-in-progress", "closed", "reopened", "reopened"]
    assert json.loads(changes[-1].value)["risk_level"] == "critical"


def test_the_case_list_shows_only_the_organisations_cases_and_minors_to_child_protection(
        client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    adult = client.post("/cases", json={"kind": "found-person"}, headers=auth("ana")).json()["id"]
    child = client.post("/cases", json={"kind": "found-person", "is_minor": True},
                        headers=auth("chris")).json()["id"]

    def listed(user: str) -> set[str]:
        r = client.get("/cases", params={"limit": 200}, headers=auth(user))
        assert r.status_code == 200
        assert all("person" not in c for c in r.json())
        return {c["id"] for c in r.json()}

    assert adult in listed("ben") and child not in listed("ben")
    assert {adult, child} <= listed("sara")
    assert not {adult, child} & listed("carla")


def test_a_user_without_a_case_role_is_refused(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/cases", json={"kind": "found-person"}, headers=auth("tom"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"

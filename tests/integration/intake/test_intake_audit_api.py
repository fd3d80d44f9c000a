"""Intake's audit log on the real stack: every read and write of a case is an entry an auditor
can query and verify; reads without a purpose are refused (and the refusal recorded); entries
carry ids, never the person's name; caseworkers cannot read the log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import payloads
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]


def _canary() -> str:
    """A name no other test uses: letters only, unique per run."""
    return "Q" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


def _entries(client: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/audit/entries", params={"limit": 1000, **params}, headers=auth("audrey"))
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


def _file_and_read(client: TestClient, auth: Auth, name: str) -> tuple[str, str]:
    ana = auth("ana")
    r = client.post("/cases", json={"kind": "missing-person", "risk_level": "high",
                                    "person": {"display_name": name}}, headers=ana)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    report = payloads.missing_person(names=[{"text": f"{name} Tesfaye"}])
    r = client.post(f"/cases/{case_id}/missing-person-reports", json=report, headers=ana)
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    assert client.get(f"/cases/{case_id}", headers=ana | payloads.READ).status_code == 200
    got = client.get(f"/cases/{case_id}/missing-person-reports/{report_id}",
                     headers=ana | payloads.READ)
    assert got.status_code == 200 and got.json()["names"][0]["text"] == f"{name} Tesfaye"
    return case_id, report_id


def test_the_auditor_sees_who_filed_and_read_a_case_and_the_chain_is_intact(
        client: TestClient, auth: Auth) -> None:
    canary = _canary()
    case_id, _ = _file_and_read(client, auth, canary)
    entries = _entries(client, auth, object_type="case", object_id=case_id)
    assert [(e["action"], e["purpose"], e["outcome"]) for e in entries] == [
        ("case.open", None, "success"),
        ("missing-person-report.create", None, "success"),
        ("case.read", "family-tracing", "success"),
        ("missing-person-report.read", "family-tracing", "success"),
    ]
    ana = client.get("/whoami", headers=auth("ana")).json()
    assert {(e["organisation"], e["service"]) for e in entries} == {(ana["org"], "intake")}
    assert all("caseworker" in e["roles"] and len(e["trace_id"]) == 32 for e in entries)
    assert len({e["trace_id"] for e in entries}) == 4  # one request, one trace
    verdict = client.get("/audit/verify", headers=auth("audrey"))
    assert verdict.status_code == 200 and verdict.json()["ok"] is True, verdict.text


def test_no_entry_holds_the_persons_name(client: TestClient, auth: Auth) -> None:
    canary = _canary()
    case_id, _ = _file_and_read(client, auth, canary)
    export = client.get("/audit/export", params={"format": "jsonl"}, headers=auth("audrey"))
    assert export.status_code == 200
    lines = export.text.splitlines()
    assert any(json.loads(line)["object_id"] == case_id for line in lines)
    assert export.text.count(canary) == 0
    assert export.text.lower().count(canary.lower()) == 0


@pytest.mark.parametrize("path", ["/audit/entries", "/audit/verify", "/audit/export"])
def test_a_caseworker_cannot_read_the_audit_log(client: TestClient, auth: Auth,
                                                path: str) -> None:
    r = client.get(path, headers=auth("ana"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_read_without_a_purpose_is_refused_and_only_the_refusal_is_recorded(
        client: TestClient, auth: Auth) -> None:
    case_id, report_id = _file_and_read(client, auth, _canary())
    before = _entries(client, auth, object_type="case", object_id=case_id)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/missing-person-reports/{report_id}"):
        r = client.get(path, headers=auth("ana"))
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "X-Purpose-Of-Use" in r.json()["detail"]
        assert "names" not in r.text
    after = _entries(client, auth, object_type="case", object_id=case_id)
    assert after[:len(before)] == before
    assert [(e["action"], e["purpose"], e["outcome"]) for e in after[len(before):]] == [
        ("case.read", None, "denied"), ("missing-person-report.read", None, "denied")]


def test_another_organisations_attempt_is_recorded_as_denied(client: TestClient,
                                                             auth: Auth) -> None:
    case_id, _ = _file_and_read(client, auth, _canary())
    carla = auth("carla")
    assert client.get(f"/cases/{case_id}", headers=carla | payloads.READ).status_code == 404
    r = client.post(f"/cases/{case_id}/status", json={"status": "assessment"}, headers=carla)
    assert r.status_code == 404
    denied = [e for e in _entries(client, auth, object_type="case", object_id=case_id)
              if e["outcome"] == "denied"]
    carla_org = client.get("/whoami", headers=auth("carla")).json()["org"]
    assert [(e["action"], e["organisation"], e["purpose"]) for e in denied] == [
        ("case.read", carla_org, "family-tracing"), ("case.status-change", carla_org, None)]


def test_every_served_read_of_a_case_carried_a_purpose(client: TestClient,
                                                       auth: Auth) -> None:
    _file_and_read(client, auth, _canary())
    reads = [e for e in _entries(client, auth, object_type="case")
             if e["action"].endswith((".read", ".list")) and e["outcome"] == "success"]
    assert reads
    assert [e for e in reads if not e["purpose"]] == []


def test_a_caller_without_a_case_role_is_recorded_as_denied(client: TestClient,
                                                             auth: Auth) -> None:
    case_id, _ = _file_and_read(client, auth, _canary())
    assert client.get(f"/cases/{case_id}", headers=auth("tom") | payloads.READ
                      ).status_code == 403
    tom = client.get("/whoami", headers=auth("tom")).json()
    last = _entries(client, auth, object_type="case", object_id=case_id)[-1]
    assert (last["action"], last["outcome"], last["actor"] != "", last["roles"]) == (
        "case.access", "denied", True, tom["roles"])

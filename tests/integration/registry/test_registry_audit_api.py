"""The registry's audit log on the real stack: match reads, decisions and directory writes are
entries an auditor can query and verify; a read of a candidate needs a purpose of use (400
without one, and the refusal is recorded); entries carry ids, never reasons or names; nobody but
an auditor reads the log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_registry_directory_api import new_organisation, new_service
from test_registry_match_review_api import propose_pair

from registry.matching import RecordKind

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
PURPOSE = {"X-Purpose-Of-Use": "family-tracing"}


def _entries(client: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/audit/entries", params={"limit": 1000, **params}, headers=auth("audrey"))
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


def test_the_auditor_sees_who_read_and_confirmed_a_match_with_their_purpose(
    registry: TestClient, auth: Auth
) -> None:
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    tom = auth("tom")
    listed = registry.get("/matches", headers=tom | PURPOSE, params={"limit": 500})
    assert cid in {c["id"] for c in listed.json()}
    assert registry.get(f"/matches/{cid}", headers=tom | PURPOSE).status_code == 200
    assert registry.post(f"/matches/{cid}/confirmation", headers=tom).status_code == 200

    entries = _entries(registry, auth, object_type="match-candidate", object_id=cid)
    assert [(e["action"], e["purpose"], e["outcome"]) for e in entries] == [
        ("match.list", "family-tracing", "success"),
        ("match.read", "family-tracing", "success"),
        ("match.confirm", None, "success"),
        ("family-link.restore", None, "success"),
    ]
    assert {e["organisation"] for e in entries} == {"tracing-service"}
    assert all(e["roles"] == ["tracing_officer"] for e in entries)
    assert len({e["actor"] for e in entries}) == 1
    assert all(e["trace_id"] and len(e["trace_id"]) == 32 for e in entries)
    verified = registry.get("/audit/verify", headers=auth("audrey")).json()
    assert verified["ok"] is True, verified
    assert verified["last_seq"] >= entries[-1]["seq"]


def test_reading_a_candidate_without_a_purpose_is_400_and_the_refusal_is_recorded(
    registry: TestClient, auth: Auth
) -> None:
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    r = registry.get(f"/matches/{cid}", headers=auth("tom"))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "X-Purpose-Of-Use" in r.json()["detail"]
    r = registry.get(f"/matches/{cid}", headers=auth("tom") | {"X-Purpose-Of-Use": "a b"})
    assert r.status_code == 400
    entries = _entries(registry, auth, object_type="match-candidate", object_id=cid)
    assert [(e["action"], e["purpose"], e["outcome"]) for e in entries] == [
        ("match.read", None, "denied"),
        ("match.read", None, "denied"),
    ]


def test_every_successful_match_read_carries_a_purpose(registry: TestClient, auth: Auth) -> None:
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    assert registry.get(f"/matches/{cid}", headers=auth("tom") | PURPOSE).status_code == 200
    reads = _entries(registry, auth, action="match.read")
    done = [e for e in reads if e["outcome"] == "success"]
    assert cid in {e["object_id"] for e in done}
    assert all(e["purpose"] for e in done), "a match was read without a purpose of use"


def test_a_refused_review_and_a_rule_broken_are_recorded_without_the_reason(
    registry: TestClient, auth: Auth
) -> None:
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    assert registry.post(f"/matches/{cid}/confirmation", headers=auth("ana")).status_code == 403
    reason = "Unrelated: the brothers were born " + uuid.uuid4().hex
    r = registry.post(f"/matches/{cid}/rejection", headers=auth("tom"), json={"reason": reason})
    assert r.status_code == 200
    assert registry.post(f"/matches/{cid}/confirmation", headers=auth("tom")).status_code == 409
    entries = _entries(registry, auth, object_type="match-candidate", object_id=cid)
    assert [(e["action"], e["organisation"], e["outcome"]) for e in entries] == [
        ("match.access", "ngo-a", "denied"),
        ("match.reject", "tracing-service", "success"),
        ("match.confirm", "tracing-service", "failed"),
    ]
    exported = registry.get(
        "/audit/export",
        headers=auth("audrey"),
        params={"object_type": "match-candidate", "object_id": cid},
    )
    assert exported.status_code == 200
    assert reason not in exported.text and "brothers" not in exported.text


def test_directory_writes_are_audited(registry: TestClient, auth: Auth) -> None:
    org = new_organisation(registry, auth)
    service = new_service(registry, auth, org)["id"]
    r = registry.put(
        f"/directory/services/{service}/capacity", headers=auth("dora"), json={"available": 3}
    )
    assert r.status_code == 200, r.text
    r = registry.post(
        f"/directory/services/{service}/withdrawal",
        headers=auth("dora"),
        json={"reason": "Closed for renovation."},
    )
    assert r.status_code == 200, r.text
    assert [
        e["action"] for e in _entries(registry, auth, object_type="organisation", object_id=org)
    ] == ["organisation.save"]
    service_entries = _entries(registry, auth, object_type="provider-service", object_id=service)
    assert [(e["action"], e["organisation"]) for e in service_entries] == [
        ("service.create", "haven-network"),
        ("service.capacity", "haven-network"),
        ("service.withdraw", "haven-network"),
    ]
    assert "renovation" not in json.dumps(service_entries)


def test_only_an_auditor_reads_the_log(registry: TestClient, auth: Auth) -> None:
    for user in ("ana", "tom", "fiona", "dora", "adam"):
        r = registry.get("/audit/entries", headers=auth(user))
        assert r.status_code == 403, user
        assert registry.get("/audit/verify", headers=auth(user)).status_code == 403, user
    assert registry.get("/audit/entries").status_code == 401

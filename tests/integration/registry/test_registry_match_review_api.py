"""Match review over REST against the real stack: family links, four-eyes identification."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from registry_kafka import header, records_with_key, topic_ends

from haven_shared.testing.stack import LocalStack
from registry.matching import (
    AgeEstimate,
    BirthDate,
    MatchIndex,
    PersonRecord,
    RecordKind,
    Sighting,
)
from registry.service_layer.match_review import propose_matches

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]
TOPIC = "registry.match"


def propose_pair(registry: TestClient, kind: RecordKind) -> str:
    """A missing-person record and a found person (or remains) of the same man, romanised
    differently, matched as the person index will on their arrival; the candidate's id."""
    case = uuid4().hex[:8]
    missing = PersonRecord(f"case-{case}/missing-1", RecordKind.MISSING_PERSON_REPORT,
                           given_names=("Mohammed",), family_names=("Abdullahi", "Hassan"),
                           sex="m", birth_date=BirthDate(1994, 3, 2),
                           last_seen=Sighting(dt.date(2025, 6, 1), 35.9, 14.4))
    other = PersonRecord(f"case-{case}/{kind.value}-1", kind,
                         given_names=("Maxamed",), family_names=("Cabdullaahi", "Xasan"),
                         sex="m", birth_date=BirthDate(1994, 3, 2),
                         age_estimate=AgeEstimate(28, 35, dt.date(2025, 6, 20)),
                         found=Sighting(dt.date(2025, 6, 20), 35.95, 14.5))
    state = registry.app.state  # type: ignore[attr-defined]
    index = MatchIndex()  # this test's own records only
    propose_matches(state.unit_of_work(), index, missing, state.clock(), threshold=0.5)
    [candidate] = propose_matches(state.unit_of_work(), index, other, state.clock(),
                                  threshold=0.5)
    return str(candidate.id)


def test_a_living_match_confirmed_by_a_tracing_officer_restores_a_family_link(
    stack: LocalStack, registry: TestClient, auth: Auth,
) -> None:
    since = topic_ends(stack, TOPIC)
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    listed = registry.get("/matches", headers=auth("tom"), params={"limit": 500}).json()
    mine = next(c for c in listed if c["id"] == cid)
    assert mine["status"] == "proposed" and mine["confirmations_needed"] == 1
    assert mine["explanation"], "a candidate comes with its per-field explanation"
    assert all(set(e) == {"field", "level", "label", "weight"} for e in mine["explanation"])
    probabilities = [c["probability"] for c in listed]
    assert probabilities == sorted(probabilities, reverse=True)

    r = registry.post(f"/matches/{cid}/confirmation", headers=auth("tom"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    records = records_with_key(stack, since, cid,
                               until_type="haven.registry.family-link.restored.v1")
    assert [header(x, "ce_type") for x in records] == [
        "haven.registry.match.proposed.v1", "haven.registry.family-link.restored.v1"]
    body = json.loads(records[-1].value)
    assert body["record_kind"] == "found" and body["candidate_kind"] == "missing"
    assert body["reviewer_org"] == "tracing-service"


def test_remains_are_identified_only_after_two_different_forensic_reviewers(
    stack: LocalStack, registry: TestClient, auth: Auth,
) -> None:
    cid = propose_pair(registry, RecordKind.UNIDENTIFIED_REMAINS)
    since = topic_ends(stack, TOPIC)
    read = auth("tom") | {"X-Purpose-Of-Use": "identification"}
    assert registry.get(f"/matches/{cid}", headers=read).status_code == 404
    first = registry.post(f"/matches/{cid}/confirmation", headers=auth("fiona"))
    assert first.status_code == 200
    assert first.json()["status"] == "awaiting_second_review"
    waiting = registry.get("/matches", headers=auth("felix"),
                           params={"status": "awaiting_second_review", "limit": 500}).json()
    assert cid in {c["id"] for c in waiting}
    again = registry.post(f"/matches/{cid}/confirmation", headers=auth("fiona"))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert registry.post(f"/matches/{cid}/confirmation", headers=auth("tom")).status_code == 404
    second = registry.post(f"/matches/{cid}/confirmation", headers=auth("felix"))
    assert second.status_code == 200 and second.json()["status"] == "confirmed"
    records = records_with_key(stack, since, cid,
                               until_type="haven.registry.identification.confirmed.v1")
    # Nothing was published for the first confirmation alone.
    assert [header(x, "ce_type") for x in records] == [
        "haven.registry.identification.confirmed.v1"]


def test_a_rejected_candidate_cannot_be_confirmed_and_others_cannot_review(
    registry: TestClient, auth: Auth,
) -> None:
    cid = propose_pair(registry, RecordKind.FOUND_PERSON)
    for outsider in ("ana", "dora", "paula"):
        r = registry.post(f"/matches/{cid}/confirmation", headers=auth(outsider))
        assert r.status_code == 403, outsider
    r = registry.post(f"/matches/{cid}/rejection", headers=auth("tom"),
                      json={"reason": "Different fathers' names on the documents."})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = registry.post(f"/matches/{cid}/confirmation", headers=auth("tom"))
    assert r.status_code == 409
    assert "rejected" in r.json()["detail"]
    r = registry.post(f"/matches/{cid}/rejection", headers=auth("tom"), json={"reason": ""})
    assert r.status_code == 422

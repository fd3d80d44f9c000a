"""The case view of match results: registry's events on the real broker reach the case."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import payloads
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from haven_shared.events import Envelope
from haven_shared.events.registry import IdentificationConfirmed, MatchProposed
from haven_shared.kafka import make_producer
from haven_shared.testing.stack import LocalStack

pytestmark = pytest.mark.infra


def _publish(stack: LocalStack, event: Any) -> None:
    envelope = Envelope.wrap(event, "/haven/registry")
    producer = make_producer(stack.kafka_bootstrap)
    try:
        producer.send(event.topic, key=envelope.key.encode(), value=envelope.body(),
                      headers=envelope.kafka_headers()).get(timeout=30)
    finally:
        producer.close()


def _outcomes_until(client: TestClient, headers: dict[str, str], case_id: str,
                    done: Any, timeout: float = 45.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/cases/{case_id}/outcomes", headers=headers | payloads.READ).json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def test_a_proposed_match_appears_on_the_case_and_only_for_its_organisation(
        client: TestClient, auth, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "missing-person"},
                          headers=auth("ana")).json()["id"]
    report_id = client.post(f"/cases/{case_id}/missing-person-reports",
                            json=payloads.missing_person(), headers=auth("ana")).json()["id"]
    candidate = uuid.uuid4()
    found_ref = f"intake/found-person/{uuid.uuid4()}"
    _publish(stack, MatchProposed(
        candidate_id=candidate, record_ref=found_ref, record_kind="found",
        candidate_ref=f"intake/missing-person/{report_id}", candidate_kind="missing",
        probability=0.93, weight=9.1, explanation=[], proposed_at=datetime.now(UTC)))

    body = _outcomes_until(client, auth("ana"), case_id, lambda b: b["matches"])
    assert body["matches"] == [{
        "candidate_id": str(candidate), "record_id": report_id, "other_ref": found_ref,
        "other_kind": "found", "state": "proposed", "probability": 0.93,
        "updated_at": body["matches"][0]["updated_at"]}]
    assert client.get(f"/cases/{case_id}/outcomes", headers=auth("carla") | payloads.READ).status_code == 404


def test_an_identification_is_hidden_without_the_deceased_records_permission(
        client: TestClient, auth, stack: LocalStack, intake_db_url: str) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "missing-person"},
                          headers=auth("ana")).json()["id"]
    report_id = client.post(f"/cases/{case_id}/missing-person-reports",
                            json=payloads.missing_person(), headers=auth("ana")).json()["id"]
    identification = uuid.uuid4()
    _publish(stack, IdentificationConfirmed(
        candidate_id=identification, record_ref=f"intake/remains/{uuid.uuid4()}",
        record_kind="remains", candidate_ref=f"intake/missing-person/{report_id}",
        candidate_kind="missing", confirmed_at=datetime.now(UTC),
        reviewer_orgs=["forensic-a", "forensic-b"]))
    # Wait until the view holds it, so the empty answer below is a decision, not a delay.
    engine = sa.create_engine(intake_db_url)
    try:
        deadline = time.monotonic() + 45
        while True:
            with engine.connect() as conn:
                state = conn.execute(sa.text(
                    "select state from intake_match_view where candidate_id = :c"),
                    {"c": identification}).scalar()
            if state is not None or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    finally:
        engine.dispose()
    assert state == "identified"
    body = client.get(f"/cases/{case_id}/outcomes", headers=auth("sara") | payloads.READ).json()
    assert body["matches"] == []

"""Tracing end to end on the real stack: intake files a missing-person report and a found-person
record of one person under differently romanised names; the registry's person index proposes the
match on Kafka; a tracing officer confirms it over the registry's API; the restored family link
reaches the enquirer's case on intake. A record without tracing consent is never proposed, and a
redelivered record event is not indexed twice."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from registry_kafka import header, records_with_key, topic_ends

from haven_shared.events import Envelope
from haven_shared.events.intake import ConsentGiven
from haven_shared.kafka import make_producer
from haven_shared.testing.kafka_groups import start_group_at_end
from haven_shared.testing.stack import LocalStack
from intake.bootstrap import bootstrap as intake_bootstrap
from intake.config import Settings as IntakeSettings
from intake.worker import outcome_handlers
from registry.bootstrap import bootstrap as registry_bootstrap
from registry.config import Settings as RegistrySettings

pytestmark = pytest.mark.infra
PURPOSE = {"X-Purpose-Of-Use": "tracing"}
MATCH_TOPIC = "registry.match"
INTAKE_TOPIC = "intake.case"


@pytest.fixture(scope="module")
def apps(stack: LocalStack) -> Iterator[tuple[TestClient, TestClient]]:
    """Intake and registry, each on a fresh database, sharing the (default) matching secret;
    the registry's consumer group starts at the end of `intake.case` (the topic's history is
    other suites' records, each of which would cost a key request to an intake that does not
    know it)."""
    intake_url = stack.create_database("intake_trace")
    registry_url = stack.create_database("registry_trace")
    suffix = uuid.uuid4().hex[:8]
    start_group_at_end(stack.kafka_bootstrap, f"registry-trace-{suffix}", INTAKE_TOPIC)
    for topic in sorted({model.topic for model in outcome_handlers()}):
        # Intake's outcome consumer likewise reads only what this test publishes.
        start_group_at_end(stack.kafka_bootstrap, f"intake-trace-{suffix}", topic)
    intake_app = intake_bootstrap(IntakeSettings(
        environment="test", database_url=intake_url, kafka_bootstrap=stack.kafka_bootstrap,
        keycloak_issuer=stack.issuer, jwt_leeway_seconds=0, master_key="e2e-intake-master",
        outcome_consumer_group=f"intake-trace-{suffix}"))
    registry_app = registry_bootstrap(RegistrySettings(
        environment="test", database_url=registry_url, kafka_bootstrap=stack.kafka_bootstrap,
        keycloak_issuer=stack.issuer, jwt_leeway_seconds=0, relay_idle_seconds=0.05,
        master_key="e2e-registry-master",
        index_consumer_group=f"registry-trace-{suffix}"),
        # Matching keys come from this intake (in-process; no lifespan needed to answer).
        intake_client=TestClient(intake_app))
    try:
        with TestClient(intake_app) as intake, TestClient(registry_app) as registry:
            yield intake, registry
    finally:
        intake_app.state.engine.dispose()
        registry_app.state.engine.dispose()
        stack.drop_database(intake_url)
        stack.drop_database(registry_url)


def _case(intake: TestClient, headers: dict[str, str], kind: str, *, consent: bool) -> str:
    r = intake.post("/cases", json={"kind": kind}, headers=headers)
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    if consent:
        r = intake.post(f"/cases/{case_id}/consents", json={"purpose": "tracing"},
                        headers=headers)
        assert r.status_code == 201, r.text
    return case_id


def _person(name: str, **extra: Any) -> dict[str, Any]:
    return {"names": [{"text": name, "script": "Latn", "romanised": True}], "sex": "male",
            "date_of_birth": "1994-03-12", "nationalities": ["SD"], "languages": ["ar"],
            **extra}


def _missing_report(name: str) -> dict[str, Any]:
    return _person(name, last_seen={"place": "Agadez, Niger", "date": "2026-05-01",
                                    "circumstances": "desert-crossing"},
                   enquirer={"name": "Amna Abdelrahman", "relationship": "sibling",
                             "contact": "+249 000 000 000"},
                   sharing_scope=["tracing-service"])


def _found(name: str) -> dict[str, Any]:
    return _person(name, found_setting="hospital", found_place="Agadez regional hospital",
                   found_date="2026-06-10", sharing_scope=["tracing-service"])


def _wait(what: str, check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def _indexed(registry: TestClient, ref: str) -> Callable[[], bool | None]:
    def check() -> bool | None:
        with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return conn.execute(sa.text("SELECT indexed FROM person_index_entry WHERE ref = :r"),
                                {"r": ref}).scalar()
    return check


def _proposals(stack: LocalStack, since: dict[TopicPartition, int], within: float,
               until: Callable[[list[dict[str, Any]]], bool] = lambda _: False
               ) -> list[dict[str, Any]]:
    """Every `match.proposed` published after `since`: read until `until` holds of them and
    one more poll found nothing new, or for `within` seconds at most."""
    c = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=None,
                      enable_auto_commit=False)
    found: list[dict[str, Any]] = []
    try:
        c.assign(list(since))
        for tp, offset in since.items():
            c.seek(tp, offset)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = c.poll(timeout_ms=500)
            found += [json.loads(r.value) for records in batch.values() for r in records
                      if header(r, "ce_type") == "haven.registry.match.proposed.v1"]
            if not batch and until(found):
                break
    finally:
        c.close()
    return found


def _involving(proposals: list[dict[str, Any]], *refs: str) -> list[dict[str, Any]]:
    """The proposals that involve every one of `refs`."""
    return [p for p in proposals if set(refs) <= {p["record_ref"], p["candidate_ref"]}]


def _raw_record(stack: LocalStack, key: str, ce_type: str) -> Any:
    """The record of `intake.case` with this key and type (read from the beginning)."""
    c = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=None,
                      enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        parts = [TopicPartition(INTAKE_TOPIC, p) for p in c.partitions_for_topic(INTAKE_TOPIC)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for records in c.poll(timeout_ms=500).values():
                for r in records:
                    if r.key == key.encode() and header(r, "ce_type") == ce_type:
                        return r
    finally:
        c.close()
    raise AssertionError(f"no {ce_type} for the case on {INTAKE_TOPIC}")


def test_a_missing_person_found_under_another_romanisation_is_traced_to_a_restored_link(
        apps: tuple[TestClient, TestClient], auth, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    intake, registry = apps
    ana, carla = auth("ana") | PURPOSE, auth("carla") | PURPOSE
    since = topic_ends(stack, MATCH_TOPIC)

    # The sister's tracing request (ngo-a), with tracing consent.
    sought_case = _case(intake, ana, "missing-person", consent=True)
    r = intake.post(f"/cases/{sought_case}/missing-person-reports",
                    json=_missing_report("Mohammed Abdelrahman"), headers=ana)
    assert r.status_code == 201, r.text
    report_ref = f"intake/missing-person/{r.json()['id']}"

    # The same man recorded elsewhere without tracing consent: kept out of the index.
    unconsented_case = _case(intake, carla, "found-person", consent=False)
    r = intake.post(f"/cases/{unconsented_case}/found-persons",
                    json=_found("Mohamed Abdel Rahman"), headers=carla)
    assert r.status_code == 201, r.text
    unconsented_ref = f"intake/found-person/{r.json()['id']}"
    assert _wait("the report indexed", _indexed(registry, report_ref)) is True
    _wait("the unconsented record stored", lambda: _indexed(registry, unconsented_ref)()
          is not None)
    assert _indexed(registry, unconsented_ref)() is False

    # Found in a hospital (ngo-b), with tracing consent, under another romanisation.
    found_case = _case(intake, carla, "found-person", consent=True)
    r = intake.post(f"/cases/{found_case}/found-persons",
                    json=_found("Muhammad Abd al-Rahman"), headers=carla)
    assert r.status_code == 201, r.text
    found_ref = f"intake/found-person/{r.json()['id']}"

    proposals = _proposals(stack, since, within=45,
                           until=lambda found: bool(_involving(found, report_ref, found_ref)))
    # Only this registry's proposals: any other person index on the shared broker (another
    # suite's app) proposes the same pair under its own candidate id.
    mine = {c["id"] for c in registry.get("/matches", headers=auth("tom")).json()}
    proposals = [p for p in proposals if p["candidate_id"] in mine]
    [proposal] = _involving(proposals, report_ref, found_ref)
    assert proposal["probability"] >= 0.5
    assert {e["field"] for e in proposal["explanation"]} >= {"given_name", "birth"}
    assert _involving(proposals, unconsented_ref) == []
    assert "Muhammad" not in json.dumps(proposals) and "Agadez" not in json.dumps(proposals)

    # The tracing officer reviews and confirms it.
    candidate_id = proposal["candidate_id"]
    listed = registry.get("/matches", headers=auth("tom"))
    assert listed.status_code == 200, listed.text
    assert candidate_id in [c["id"] for c in listed.json()]
    r = registry.post(f"/matches/{candidate_id}/confirmation", headers=auth("tom"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    published = records_with_key(stack, since, candidate_id,
                                 until_type="haven.registry.family-notification.requested.v1")
    assert [header(x, "ce_type") for x in published] == [
        "haven.registry.match.proposed.v1", "haven.registry.family-link.restored.v1",
        "haven.registry.family-notification.requested.v1"]

    # The enquirer's caseworker sees the restored link on the case.
    def restored_on_case() -> dict[str, Any] | None:
        body = intake.get(f"/cases/{sought_case}/outcomes", headers=ana).json()
        return next((m for m in body.get("matches", []) if m["candidate_id"] == candidate_id
                     and m["state"] == "family-link-restored"), None)

    match = _wait("the restored link on the case", restored_on_case)
    assert match["other_ref"] == found_ref
    assert intake.get(f"/cases/{sought_case}/outcomes", headers=carla).status_code == 404

    # The confirmation opened a family-notification task for the enquirer's organisation.
    tasks = registry.get("/family-notifications", headers=ana).json()
    [task] = [t for t in tasks if t["case_id"] == sought_case]
    assert task["state"] == "open" and task["record_ref"] == report_ref
    assert task["kind"] is None, "what the news is needs the deceased-records permission"
    assert [t for t in registry.get("/family-notifications", headers=carla).json()
            if t["case_id"] == sought_case] == []
    assert registry.get(f"/family-notifications/{task['id']}", headers=carla).status_code == 404
    assert registry.get("/family-notifications", headers=auth("ana")).status_code == 400
    skip = registry.put(f"/family-notifications/{task['id']}/state", headers=ana,
                        json={"state": "done"})
    assert skip.status_code == 409, "open → done skips the step of telling the family"
    for step in ("in-progress", "done"):
        r = registry.put(f"/family-notifications/{task['id']}/state", headers=ana,
                         json={"state": step})
        assert r.status_code == 200 and r.json()["state"] == step, r.text

    def task_on_case() -> dict[str, Any] | None:
        body = intake.get(f"/cases/{sought_case}/outcomes", headers=ana).json()
        return next((t for t in body.get("family_notifications", [])
                     if t["task_id"] == task["id"] and t["state"] == "done"), None)

    shown = _wait("the finished task on the case", task_on_case)
    assert shown["record_id"] == report_ref.rsplit("/", 1)[1]
    assert all(m["candidate_id"] != task["id"] for m in intake.get(
        f"/cases/{sought_case}/outcomes", headers=ana).json()["matches"])


def test_a_redelivered_record_event_is_not_indexed_twice(
        apps: tuple[TestClient, TestClient], auth, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    intake, registry = apps
    ana = auth("ana") | PURPOSE
    case_id = _case(intake, ana, "missing-person", consent=True)
    r = intake.post(f"/cases/{case_id}/missing-person-reports",
                    json=_missing_report("Idris Suleiman Adam"), headers=ana)
    assert r.status_code == 201, r.text
    ref = f"intake/missing-person/{r.json()['id']}"
    assert _wait("the report indexed", _indexed(registry, ref)) is True
    index = registry.app.state.person_index  # type: ignore[attr-defined]
    size = len(index)
    assert ref in index
    since = topic_ends(stack, MATCH_TOPIC)

    # The very record again (a relay that published twice), then a marker behind it.
    original = _raw_record(stack, case_id, "haven.intake.missing-person.recorded.v1")
    marker = ConsentGiven(case_id=uuid.UUID(case_id), organisation_id="ngo-a",
                          consent_id=uuid.uuid4(), purpose="services", at=datetime.now(UTC))
    envelope = Envelope.wrap(marker, "/haven/intake")
    producer = make_producer(stack.kafka_bootstrap)
    try:
        producer.send(INTAKE_TOPIC, key=original.key, value=original.value,
                      headers=original.headers).get(timeout=30)
        producer.send(INTAKE_TOPIC, key=envelope.key.encode(), value=envelope.body(),
                      headers=envelope.kafka_headers()).get(timeout=30)
    finally:
        producer.close()

    def marker_applied() -> bool:
        with registry.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
            return conn.execute(sa.text("SELECT count(*) FROM inbox WHERE event_id = :e"),
                                {"e": envelope.id}).scalar() == 1
    _wait("the marker behind the redelivered record", marker_applied)
    assert len(index) == size
    assert _involving(_proposals(stack, since, within=1), ref) == []


def test_withdrawing_tracing_consent_withdraws_the_open_candidate_on_the_case(
        apps: tuple[TestClient, TestClient], auth, stack: LocalStack) -> None:  # type: ignore[no-untyped-def]
    intake, registry = apps
    ana, carla = auth("ana") | PURPOSE, auth("carla") | PURPOSE
    since = topic_ends(stack, MATCH_TOPIC)
    sought_case = _case(intake, ana, "missing-person", consent=True)
    r = intake.post(f"/cases/{sought_case}/missing-person-reports",
                    json=_missing_report("Yohannes Tesfamariam Gebre"), headers=ana)
    assert r.status_code == 201, r.text
    report_ref = f"intake/missing-person/{r.json()['id']}"
    found_case = _case(intake, carla, "found-person", consent=True)
    r = intake.post(f"/cases/{found_case}/found-persons",
                    json=_found("Yohanes Tesfamariam Gebre"), headers=carla)
    assert r.status_code == 201, r.text
    found_ref = f"intake/found-person/{r.json()['id']}"
    mine = lambda: {c["id"]: c for c in registry.get(  # noqa: E731
        "/matches", headers=auth("tom"), params={"limit": 500}).json()}
    candidate = _wait("the pair proposed", lambda: next(
        (c for c in mine().values()
         if {c["record_ref"], c["candidate_ref"]} == {report_ref, found_ref}), None))

    def on_case(state: str) -> Callable[[], dict[str, Any] | None]:
        def check() -> dict[str, Any] | None:
            body = intake.get(f"/cases/{sought_case}/outcomes", headers=ana).json()
            return next((m for m in body["matches"] if m["candidate_id"] == candidate["id"]
                         and m["state"] == state), None)
        return check

    _wait("the proposal on the case", on_case("proposed"))
    consents = intake.get(f"/cases/{sought_case}/consents", headers=ana).json()
    [tracing] = [c for c in consents if c["purpose"] == "tracing"]
    r = intake.post(f"/cases/{sought_case}/consents/{tracing['id']}/withdrawal", headers=ana)
    assert r.status_code in (200, 201), r.text

    published = records_with_key(stack, since, candidate["id"],
                                 until_type="haven.registry.match.withdrawn.v1")
    assert header(published[-1], "ce_type") == "haven.registry.match.withdrawn.v1"
    body = json.loads(published[-1].value)
    assert {body["record_ref"], body["candidate_ref"]} == {report_ref, found_ref}
    _wait("the candidate withdrawn on the case", on_case("withdrawn"))
    assert candidate["id"] not in mine(), "a withdrawn candidate awaits no review"
    assert _indexed(registry, report_ref)() is False
    assert report_ref not in registry.app.state.person_index  # type: ignore[attr-defined]

    # The person index audited what it did as its system actor, for tracing, with ids only.
    def entries(object_type: str, object_id: str) -> list[dict[str, Any]]:
        r = registry.get("/audit/entries", headers=auth("audrey"),
                         params={"object_type": object_type, "object_id": object_id})
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])

    record_entries = entries("person-record", report_ref.replace("/", ":"))
    assert [e["action"] for e in record_entries] == ["person-index.index", "person-index.remove"]
    assert {(e["actor"], e["organisation"], e["purpose"]) for e in record_entries} == {
        ("registry-person-index", "registry", "tracing")}
    actions = [e["action"] for e in entries("match-candidate", candidate["id"])]
    assert actions[0] == "match.propose" and actions[-1] == "match.withdraw"
    exported = registry.get("/audit/export", headers=auth("audrey"), params={"format": "csv"})
    assert exported.status_code == 200 and "Tesfamariam" not in exported.text
    assert registry.get("/audit/verify", headers=auth("audrey")).json()["ok"] is True

"""One end-to-end test per record kind: filed over REST with a real token → CloudEvent on the
real Kafka broker, personal fields sealed → readable by the owning organisation, 404 to others."""

from __future__ import annotations

import json
from typing import Any

import payloads
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from intake_topic import TopicReader
from sqlmodel import Session

from haven_shared.crypto import SubjectKeyring
from haven_shared.events.model import SealedPersonalData

pytestmark = pytest.mark.infra


def _open_case(client: TestClient, headers: dict[str, str], kind: str) -> str:
    r = client.post("/cases", json={"kind": kind, "risk_level": "high"}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _unseal(db_url: str, sealed: dict[str, Any]) -> dict[str, Any]:
    engine = sa.create_engine(db_url)
    try:
        with Session(engine) as session:
            keyring = SubjectKeyring("integration-test-master-key")
            return keyring.open(session, SealedPersonalData.model_validate(sealed))
    finally:
        engine.dispose()


def _assert_sealed_event(topic: TopicReader, case_id: str, ce_type: str,
                         clear_values: list[str]) -> dict[str, Any]:
    record = topic.wait_for(case_id, ce_type)
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == "/haven/intake"
    assert headers["ce_subject"] == case_id
    for value in clear_values:
        assert value.encode() not in record.value
    body: dict[str, Any] = json.loads(record.value)
    assert body["case_id"] == case_id
    assert body["organisation_id"] == "ngo-a"
    assert set(body["subject"]) == {"key_id", "alg", "nonce", "ciphertext"}
    return body


def test_missing_person_report_reaches_kafka_sealed_and_stays_in_its_organisation(
        client: TestClient, auth, topic: TopicReader, intake_db_url: str) -> None:
    case_id = _open_case(client, auth("ana"), "missing-person")
    opened = topic.wait_for(case_id, "haven.intake.case.opened.v1")
    assert json.loads(opened.value)["case_kind"] == "missing-person"

    r = client.post(f"/cases/{case_id}/missing-person-reports", json=payloads.missing_person(),
                    headers=auth("ana"))
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]

    body = _assert_sealed_event(topic, case_id, "haven.intake.missing-person.recorded.v1",
                                ["Amani", "ኣማኒ", "Selam", "Zuwara", "1996-03-14"])
    assert body["report_id"] == report_id
    assert body["sex"] == "female" and body["is_minor"] is False
    assert body["sharing_scope"] == ["tracing-service", "forensic-service"]
    opened_subject = _unseal(intake_db_url, body["subject"])
    assert opened_subject["names"][1]["text"] == "ኣማኒ ተስፋየ"
    assert "enquirer" not in opened_subject

    got = client.get(f"/cases/{case_id}/missing-person-reports/{report_id}", headers=auth("ben") | payloads.READ)
    assert got.status_code == 200
    assert got.json()["names"][0]["text"] == "Amani Tesfaye"
    assert got.json()["enquirer"]["relationship"] == "sibling"
    case = client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).json()
    assert case["records"] == [{"id": report_id, "kind": "missing-person", "is_minor": False}]

    for path in (f"/cases/{case_id}", f"/cases/{case_id}/missing-person-reports/{report_id}"):
        other = client.get(path, headers=auth("carla") | payloads.READ)
        assert other.status_code == 404
        assert other.headers["content-type"] == "application/problem+json"


def test_found_person_reaches_kafka_sealed_and_stays_in_its_organisation(
        client: TestClient, auth, topic: TopicReader) -> None:
    case_id = _open_case(client, auth("ana"), "found-person")
    r = client.post(f"/cases/{case_id}/found-persons", json=payloads.found_person(),
                    headers=auth("ana"))
    assert r.status_code == 201, r.text
    record_id = r.json()["id"]

    body = _assert_sealed_event(topic, case_id, "haven.intake.found-person.recorded.v1",
                                ["Youssef", "Benali", "Almer"])
    assert body["record_id"] == record_id
    assert body["found_setting"] == "hospital" and body["sex"] == "male"

    got = client.get(f"/cases/{case_id}/found-persons/{record_id}", headers=auth("ana") | payloads.READ)
    assert got.status_code == 200
    assert got.json()["names"] == [{"text": "Youssef Benali", "script": None,
                                    "romanised": False}]
    assert client.get(f"/cases/{case_id}/found-persons/{record_id}",
                      headers=auth("dan") | payloads.READ).status_code == 404


def test_unidentified_remains_reach_kafka_sealed_and_stay_in_their_organisation(
        client: TestClient, auth, topic: TopicReader) -> None:
    case_id = _open_case(client, auth("ana"), "unidentified-remains")
    r = client.post(f"/cases/{case_id}/remains", json=payloads.remains(), headers=auth("ana"))
    assert r.status_code == 201, r.text
    remains_id = r.json()["id"]

    body = _assert_sealed_event(topic, case_id, "haven.intake.remains.recorded.v1",
                                ["Lampedusa", "Yonas", "Kassala", "LAB-PA-2025-0042"])
    assert body["remains_id"] == remains_id
    assert body["estimated_sex"] == "male" and body["is_minor"] is False

    got = client.get(f"/cases/{case_id}/remains/{remains_id}", headers=auth("ana") | payloads.READ)
    assert got.status_code == 200
    assert got.json()["dna_sample_reference"] == "LAB-PA-2025-0042"
    assert client.get(f"/cases/{case_id}/remains/{remains_id}",
                      headers=auth("carla") | payloads.READ).status_code == 404


def test_an_amended_report_is_stored_sealed_and_announced_for_reindexing(
        client: TestClient, auth, topic: TopicReader, intake_db_url: str) -> None:  # type: ignore[no-untyped-def]
    case_id = _open_case(client, auth("ana"), "missing-person")
    report_id = client.post(f"/cases/{case_id}/missing-person-reports",
                            json=payloads.missing_person(), headers=auth("ana")).json()["id"]
    corrected = payloads.missing_person(names=[{"text": "Amanuel Tesfaye"}], sex="male")
    path = f"/cases/{case_id}/missing-person-reports/{report_id}"

    assert client.put(path, json=corrected, headers=auth("carla")).status_code == 404
    child = payloads.missing_person(date_of_birth="2015-01-01")
    assert client.put(path, json=child, headers=auth("ana")).status_code == 403
    r = client.put(path, json=corrected, headers=auth("ana"))
    assert r.status_code == 200, r.text

    body = _assert_sealed_event(topic, case_id, "haven.intake.person-record.amended.v1",
                                ["Amanuel", "Tesfaye", "Selam"])
    assert body["record_id"] == report_id and body["record_kind"] == "missing-person"
    assert body["sex"] == "male"
    assert _unseal(intake_db_url, body["subject"])["names"] == [
        {"text": "Amanuel Tesfaye", "script": None, "romanised": False}]
    got = client.get(path, headers=auth("ana") | payloads.READ).json()
    assert got["names"][0]["text"] == "Amanuel Tesfaye" and got["sex"] == "male"
    assert got["enquirer"]["name"] == "Selam Tesfaye"

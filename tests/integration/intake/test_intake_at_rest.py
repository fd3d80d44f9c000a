"""No clear personal data at rest (records, outbox) or in logs."""

from __future__ import annotations

import logging

import payloads
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from haven_shared.crypto import SubjectKeyring

pytestmark = pytest.mark.infra

CLEAR = ["Amani", "Tesfaye", "Selam", "Zuwara", "1996-03-14", "Scar on the left"]


def test_personal_fields_are_sealed_in_every_table_and_absent_from_logs(
        client: TestClient, auth, intake_db_url: str, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    case_id = client.post("/cases", json={"kind": "missing-person", "person": {
        "display_name": "Amani Tesfaye", "date_of_birth": "1996-03-14"}},
        headers=auth("ana")).json()["id"]
    ok = client.post(f"/cases/{case_id}/missing-person-reports", json=payloads.missing_person(),
                     headers=auth("ana"))
    assert ok.status_code == 201
    bad = client.post(f"/cases/{case_id}/missing-person-reports",
                      json=payloads.missing_person(date_of_birth="2025-12-31"),
                      headers=auth("ana"))
    assert bad.status_code == 422

    engine = sa.create_engine(intake_db_url)
    try:
        with engine.connect() as conn:
            dumps = []
            for table in ("intake_case", "intake_person_record", "outbox"):
                rows = conn.execute(sa.text(f"select * from {table}")).all()  # noqa: S608
                assert rows, table
                dumps.append(" ".join(str(tuple(r)) for r in rows))
    finally:
        engine.dispose()
    for value in CLEAR:
        for dump in dumps:
            assert value not in dump
        assert value not in caplog.text


def test_deleting_a_subjects_key_makes_their_record_unreadable(
        client: TestClient, auth, intake_db_url: str) -> None:  # type: ignore[no-untyped-def]
    case_id = client.post("/cases", json={"kind": "found-person"},
                          headers=auth("ana")).json()["id"]
    record_id = client.post(f"/cases/{case_id}/found-persons", json=payloads.found_person(),
                            headers=auth("ana")).json()["id"]
    engine = sa.create_engine(intake_db_url)
    try:
        with Session(engine) as session:
            key_id = session.execute(sa.text(
                "select subject_key_id from intake_person_record where id = :r"),
                {"r": record_id}).scalar_one()
            assert SubjectKeyring("integration-test-master-key").erase_subject(session, key_id)
            session.commit()
    finally:
        engine.dispose()
    r = client.get(f"/cases/{case_id}/found-persons/{record_id}", headers=auth("ana") | payloads.READ)
    assert r.status_code == 410
    assert "Youssef" not in r.text
    assert client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ).status_code == 200

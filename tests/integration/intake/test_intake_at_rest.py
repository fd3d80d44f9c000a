"""No clear personal data at rest (records, outbox) or in logs."""

from __future__ import annotations

import logging

import payloads
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

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

"""The auditor API over a SQLite audit log, with a stand-in token verifier: filters, paging,
verification and exports. (Against the real Keycloak: tests/integration/shared.)"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from audit_tamper import build_chain, modify
from fastapi.testclient import TestClient

from haven_shared.app import create_app
from haven_shared.audit import audit_router, create_audit_tables
from haven_shared.auth import Principal
from haven_shared.db import make_engine
from haven_shared.health import ReadinessProbe
from haven_shared.settings import ServiceSettings

MASTER = "test-master-key-for-audit-chains"  # the key audit_tamper.KEY derives from


class TokensByName:
    """Accepts the tokens 'auditor' and 'caseworker' as principals with that one role."""

    def verify(self, token: str) -> Principal:
        return Principal(subject=f"sub-{token}", username=token, org="oversight",
                         roles=frozenset({token}), client_id="test")

    def check_reachable(self) -> None:
        return None


@pytest.fixture
def client(tmp_path) -> Iterator[tuple[TestClient, sa.Engine]]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    engine = make_engine(url)
    create_audit_tables(engine)
    settings = ServiceSettings(service_name="intake", environment="test", database_url=url,
                               master_key=MASTER)  # type: ignore[arg-type]
    app = create_app(settings, ReadinessProbe({}), routers=[audit_router()],
                     verifier=TokensByName())  # type: ignore[arg-type]
    app.state.engine = engine
    with TestClient(app) as c:
        yield c, engine
    engine.dispose()


AUDITOR = {"Authorization": "Bearer auditor"}


def test_a_caseworker_is_refused_every_audit_route(client) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    for path in ("/audit/entries", "/audit/verify", "/audit/export"):
        r = c.get(path, headers={"Authorization": "Bearer caseworker"})
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("application/problem+json")


def test_entries_are_filtered_by_object_actor_and_trace(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 9)
    r = c.get("/audit/entries", params={"object_type": "missing_person_report",
                                        "object_id": "case-4"}, headers=AUDITOR)
    assert r.status_code == 200
    assert [e["seq"] for e in r.json()["entries"]] == [4]
    r = c.get("/audit/entries", params={"actor": "subject-1"}, headers=AUDITOR)
    assert [e["seq"] for e in r.json()["entries"]] == [1, 4, 7]
    r = c.get("/audit/entries", params={"trace_id": f"{7:032x}"}, headers=AUDITOR)
    assert [e["object_id"] for e in r.json()["entries"]] == ["case-7"]
    r = c.get("/audit/entries", params={"organisation": "ngo-b"}, headers=AUDITOR)
    assert r.json()["entries"] == []


def test_entries_are_filtered_by_time_range(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 4)
    every = c.get("/audit/entries", headers=AUDITOR).json()["entries"]
    third = every[2]["occurred_at"]
    r = c.get("/audit/entries", params={"since": third}, headers=AUDITOR)
    assert [e["seq"] for e in r.json()["entries"]] == [3, 4]
    r = c.get("/audit/entries", params={"until": third}, headers=AUDITOR)
    assert [e["seq"] for e in r.json()["entries"]] == [1, 2]


def test_entries_are_paged_by_sequence_number(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 5)
    first = c.get("/audit/entries", params={"limit": 2}, headers=AUDITOR).json()
    assert [e["seq"] for e in first["entries"]] == [1, 2] and first["next_after_seq"] == 2
    last = c.get("/audit/entries", params={"limit": 3, "after_seq": 2}, headers=AUDITOR).json()
    assert [e["seq"] for e in last["entries"]] == [3, 4, 5] and last["next_after_seq"] == 5
    end = c.get("/audit/entries", params={"limit": 3, "after_seq": 5}, headers=AUDITOR).json()
    assert end == {"entries": [], "next_after_seq": None}


def test_free_text_in_a_filter_is_refused_without_echoing_it(client) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    r = c.get("/audit/entries", params={"actor": "Maria Lopez"}, headers=AUDITOR)
    assert r.status_code == 422 and "Maria" not in r.text
    r = c.get("/audit/entries", params={"object_id": "case-1"}, headers=AUDITOR)
    assert r.status_code == 422 and r.json()["detail"] == "object_id needs object_type."


def test_verify_reports_an_intact_chain_then_the_first_broken_entry(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 8, every=5)
    r = c.get("/audit/verify", headers=AUDITOR)
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["entries"] == 8
    modify(engine, 6)
    body = c.get("/audit/verify", headers=AUDITOR).json()
    assert (body["ok"], body["reason"], body["first_broken_seq"]) == (False, "modified", 6)


def test_export_as_json_lines_holds_every_matching_entry(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 6)
    r = c.get("/audit/export", params={"actor": "subject-0"}, headers=AUDITOR)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert [x["seq"] for x in lines] == [3, 6]
    assert {"entry_hash", "prev_hash", "purpose", "trace_id"} <= set(lines[0])


def test_export_as_csv_has_a_header_and_one_row_per_entry(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    build_chain(engine, 3)
    r = c.get("/audit/export", params={"format": "csv"}, headers=AUDITOR)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["seq"] for row in rows] == ["1", "2", "3"]
    assert rows[0]["roles"] == "caseworker" and rows[0]["object_id"] == "case-1"

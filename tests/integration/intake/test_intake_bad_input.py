"""Bad input: each class gets a 4xx problem+json naming the field, never echoing the value,
and leaves nothing written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import payloads
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.infra


@pytest.fixture
def case_of(client: TestClient, auth):  # type: ignore[no-untyped-def]
    def open_case(kind: str) -> str:
        r = client.post("/cases", json={"kind": kind}, headers=auth("ana"))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    return open_case


def _assert_problem(r: Any, status: int, field: str, secret: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields, fields
    if secret is not None:
        assert secret not in r.text


def _records(client: TestClient, auth, case_id: str) -> list[Any]:  # type: ignore[no-untyped-def]
    r = client.get(f"/cases/{case_id}", headers=auth("ana") | payloads.READ)
    return list(r.json()["records"])


def test_a_person_born_after_they_were_last_seen_is_refused(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    body = payloads.missing_person(date_of_birth="2025-07-01")
    r = client.post(f"/cases/{case_id}/missing-person-reports", json=body, headers=auth("ana"))
    _assert_problem(r, 422, "body.last_seen.date", "Amani")
    assert _records(client, auth, case_id) == []


def test_a_death_before_birth_is_refused(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("unidentified-remains")
    body = payloads.remains(date_of_birth="2025-06-21")
    r = client.post(f"/cases/{case_id}/remains", json=body, headers=auth("ana"))
    _assert_problem(r, 422, "body.date_of_death", "Lampedusa")
    assert _records(client, auth, case_id) == []


def test_a_date_in_the_future_is_refused(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("found-person")
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    r = client.post(f"/cases/{case_id}/found-persons",
                    json=payloads.found_person(found_date=future), headers=auth("ana"))
    _assert_problem(r, 422, "body.found_date")
    assert _records(client, auth, case_id) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"estimated_age": 150}, "body.estimated_age"),
    ({"estimated_age": -1}, "body.estimated_age"),
    ({"date_of_birth": "1850-01-01"}, "body.date_of_birth"),
])
def test_an_impossible_age_is_refused(client, auth, case_of, overrides, field) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("found-person")
    r = client.post(f"/cases/{case_id}/found-persons", json=payloads.found_person(**overrides),
                    headers=auth("ana"))
    _assert_problem(r, 422, field)


def test_an_age_range_upside_down_is_refused(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("unidentified-remains")
    body = payloads.remains(estimated_age_min=40, estimated_age_max=20)
    r = client.post(f"/cases/{case_id}/remains", json=body, headers=auth("ana"))
    _assert_problem(r, 422, "body.estimated_age_max")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"sex": "robot"}, "body.sex"),
    ({"sharing_scope": ["everyone"]}, "body.sharing_scope.0"),
    ({"last_seen": {"place": "Sea", "circumstances": "teleported"}},
     "body.last_seen.circumstances"),
])
def test_an_unknown_enum_value_is_refused(client, auth, case_of, overrides, field) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    r = client.post(f"/cases/{case_id}/missing-person-reports",
                    json=payloads.missing_person(**overrides), headers=auth("ana"))
    _assert_problem(r, 422, field, "Amani")


def test_an_unknown_case_kind_is_refused(client, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/cases", json={"kind": "lost-luggage"}, headers=auth("ana"))
    _assert_problem(r, 422, "body.kind", "lost-luggage")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"physical_description": "x" * 4001}, "body.physical_description"),
    ({"names": [{"text": "A" * 201}]}, "body.names.0.text"),
    ({"enquirer": {"name": "Selam", "relationship": "sibling", "contact": "9" * 301}},
     "body.enquirer.contact"),
])
def test_oversized_text_is_refused(client, auth, case_of, overrides, field) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    r = client.post(f"/cases/{case_id}/missing-person-reports",
                    json=payloads.missing_person(**overrides), headers=auth("ana"))
    _assert_problem(r, 422, field)
    assert "x" * 50 not in r.text and "A" * 50 not in r.text


@pytest.mark.parametrize("name", [
    "Amani\x00Tesfaye", "Amani\nTesfaye", "Amani\u202eeyafseT", "Amani\u2066Tesfaye",
    "Amani\u200fTesfaye",
])
def test_control_and_bidi_characters_in_names_are_refused(client, auth, case_of, name) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    r = client.post(f"/cases/{case_id}/missing-person-reports",
                    json=payloads.missing_person(names=[{"text": name}]), headers=auth("ana"))
    _assert_problem(r, 422, "body.names.0.text", "Tesfaye")
    assert _records(client, auth, case_id) == []


def test_names_are_stored_in_nfc(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("found-person")
    decomposed = "Jose\u0301 Nun\u0303ez"
    r = client.post(f"/cases/{case_id}/found-persons",
                    json=payloads.found_person(names=[{"text": decomposed}]), headers=auth("ana"))
    assert r.status_code == 201
    got = client.get(f"/cases/{case_id}/found-persons/{r.json()['id']}", headers=auth("ana") | payloads.READ)
    assert got.json()["names"][0]["text"] == "Jos\u00e9 Nu\u00f1ez"


def test_a_repeated_idempotency_key_returns_the_first_result_without_a_second_record(
        client, auth, case_of, topic) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    headers = {**auth("ana"), "Idempotency-Key": f"mp-{case_id}"}
    first = client.post(f"/cases/{case_id}/missing-person-reports",
                        json=payloads.missing_person(), headers=headers)
    again = client.post(f"/cases/{case_id}/missing-person-reports",
                        json=payloads.missing_person(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(_records(client, auth, case_id)) == 1
    topic.wait_for(case_id, "haven.intake.missing-person.recorded.v1")
    assert topic.count(case_id, "haven.intake.missing-person.recorded.v1") == 1


def test_an_idempotency_key_reused_for_another_request_is_a_conflict(
        client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("missing-person")
    headers = {**auth("ana"), "Idempotency-Key": f"reuse-{case_id}"}
    first = client.post(f"/cases/{case_id}/missing-person-reports",
                        json=payloads.missing_person(), headers=headers)
    assert first.status_code == 201
    other = client.post(f"/cases/{case_id}/missing-person-reports",
                        json=payloads.missing_person(sex="unknown"), headers=headers)
    _assert_problem(other, 409, "header.Idempotency-Key")
    assert len(_records(client, auth, case_id)) == 1


def test_opening_a_case_twice_with_one_key_opens_one_case(client, auth) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth("ben"), "Idempotency-Key": f"case-{datetime.now(UTC).timestamp()}"}
    first = client.post("/cases", json={"kind": "survivor-support"}, headers=headers)
    again = client.post("/cases", json={"kind": "survivor-support"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


def test_concurrent_submissions_with_one_key_create_one_record(client, auth, case_of) -> None:  # type: ignore[no-untyped-def]
    case_id = case_of("found-person")
    headers = {**auth("ana"), "Idempotency-Key": f"race-{case_id}"}

    def submit(_: int) -> Any:
        return client.post(f"/cases/{case_id}/found-persons", json=payloads.found_person(),
                           headers=headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(submit, range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(_records(client, auth, case_id)) == 1

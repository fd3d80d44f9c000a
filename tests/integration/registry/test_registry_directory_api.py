"""The service directory over REST against real Keycloak, PostgreSQL and Kafka."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from registry_kafka import header, records_with_key, topic_ends

from haven_shared.testing.stack import LocalStack

TOPIC = "registry.provider"
pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]


def new_organisation(registry: TestClient, auth: Auth, code: str = "shelter-a") -> str:
    r = registry.post("/directory/organisations", headers=auth("dora"), json={
        "name": f"Safe Harbour {uuid4().hex[:6]}", "description": "Shelter for women.",
        "code": code, "website": "https://safe-harbour.example.org"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def shelter_body(organisation_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "organisation_id": organisation_id, "name": "Emergency shelter for women",
        "kind": "shelter", "description": "Beds for women and their children.",
        "eligibility": {"genders": ["female"], "minimum_age": 0, "women_only": True,
                        "child_qualified": True},
        "languages": ["en", "ar", "ti"],
        "locations": [{"name": "Main house", "address": "Via Etnea 1", "city": "Catania",
                       "region": "Sicily", "postal_code": "95100", "country": "IT",
                       "latitude": 37.5, "longitude": 15.08}],
        "areas": [{"name": "Province of Catania"}],
        "opening_hours": [{"day": "MO", "opens_at": "09:00", "closes_at": "17:30"}],
        "capacity": {"unit": "bed", "available": 4, "maximum": 12},
    }
    body.update(changes)
    return body


def new_service(registry: TestClient, auth: Auth, organisation_id: str, **changes: Any
                ) -> dict[str, Any]:
    r = registry.post("/directory/services", headers=auth("dora"),
                      json=shelter_body(organisation_id, **changes))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_provider_created_and_updated_by_a_directory_admin_is_announced_on_kafka(
    stack: LocalStack, registry: TestClient, auth: Auth,
) -> None:
    since = topic_ends(stack, TOPIC)
    org = new_organisation(registry, auth)
    service = new_service(registry, auth, org)
    r = registry.put(f"/directory/services/{service['id']}", headers=auth("dora"),
                     json=shelter_body(org, languages=["en", "fr"], capacity=None))
    assert r.status_code == 200, r.text
    r = registry.put(f"/directory/services/{service['id']}/capacity", headers=auth("dora"),
                     json={"available": 3})
    assert r.status_code == 200, r.text

    records = records_with_key(stack, since, service["id"], count=3)
    assert [header(r, "ce_type") for r in records] == [
        "haven.registry.provider.upserted.v1",
        "haven.registry.provider.upserted.v1",
        "haven.registry.provider.capacity.changed.v1",
    ]
    assert all(header(r, "ce_source") == "/haven/registry" for r in records)
    assert all(header(r, "ce_subject") == service["id"] for r in records)
    bodies = [json.loads(r.value) for r in records]
    created, updated, capacity = (b["provider"] for b in bodies)
    assert created["kind"] == "shelter" and created["organisation_id"] == org
    assert created["organisation_code"] == "shelter-a"
    assert created["eligibility"] == {"genders": ["female"], "minimum_age": 0,
                                      "maximum_age": None, "women_only": True,
                                      "child_qualified": True}
    assert created["areas"][0]["name"] == "Province of Catania"
    assert created["capacity"]["available"] == 4 and created["status"] == "active"
    assert updated["languages"] == ["en", "fr"] and updated["version"] == 2
    assert capacity["capacity"]["available"] == 3 and capacity["capacity"]["maximum"] == 12
    assert bodies[2]["previous_available"] == 4


def test_withdrawing_a_provider_is_announced_and_stops_further_changes(
    stack: LocalStack, registry: TestClient, auth: Auth,
) -> None:
    org = new_organisation(registry, auth)
    service = new_service(registry, auth, org)
    since = topic_ends(stack, TOPIC)
    r = registry.post(f"/directory/services/{service['id']}/withdrawal", headers=auth("dora"),
                      json={"reason": "The shelter closed."})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    [record] = records_with_key(stack, since, service["id"], count=1)
    assert header(record, "ce_type") == "haven.registry.provider.withdrawn.v1"
    assert json.loads(record.value)["reason"] == "The shelter closed."
    r = registry.put(f"/directory/services/{service['id']}/capacity", headers=auth("dora"),
                     json={"available": 1})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_caseworker_can_read_the_directory_but_not_write_it(
    registry: TestClient, auth: Auth,
) -> None:
    org = new_organisation(registry, auth)
    service = new_service(registry, auth, org)
    r = registry.get(f"/directory/services/{service['id']}", headers=auth("ana"))
    assert r.status_code == 200 and r.json()["kind"] == "shelter"
    listed = registry.get("/directory/services", headers=auth("ana"),
                          params={"organisation_id": org, "kind": "shelter"})
    assert [s["id"] for s in listed.json()] == [service["id"]]
    attempts = [
        registry.post("/directory/organisations", headers=auth("ana"),
                      json={"name": "Mine", "description": ""}),
        registry.post("/directory/services", headers=auth("ana"), json=shelter_body(org)),
        registry.put(f"/directory/services/{service['id']}", headers=auth("ana"),
                     json=shelter_body(org)),
        registry.put(f"/directory/services/{service['id']}/capacity", headers=auth("ana"),
                     json={"available": 0}),
        registry.post(f"/directory/services/{service['id']}/withdrawal", headers=auth("ana"),
                      json={"reason": "no"}),
        registry.post("/directory/hsds/import", headers=auth("ana"), content=b"[]"),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert all(a.headers["content-type"].startswith("application/problem+json")
               for a in attempts)
    assert registry.get(f"/directory/services/{service['id']}",
                        headers=auth("ana")).json()["version"] == 1


def test_the_directory_needs_a_token(registry: TestClient) -> None:
    assert registry.get("/directory/services").status_code == 401


def test_provider_staff_report_capacity_of_their_own_organisation_only(
    registry: TestClient, auth: Auth,
) -> None:
    own = new_service(registry, auth, new_organisation(registry, auth, code="shelter-a"))
    other = new_service(registry, auth, new_organisation(registry, auth, code="clinic-b"))
    r = registry.put(f"/directory/services/{own['id']}/capacity", headers=auth("paula"),
                     json={"available": 2})
    assert r.status_code == 200 and r.json()["capacity"]["available"] == 2
    r = registry.put(f"/directory/services/{other['id']}/capacity", headers=auth("paula"),
                     json={"available": 0})
    assert r.status_code == 403
    r = registry.put(f"/directory/services/{own['id']}", headers=auth("paula"),
                     json=shelter_body(own["organisation"]["id"]))
    assert r.status_code == 403


def test_capacity_below_zero_is_a_clear_422_that_does_not_echo_the_value(
    registry: TestClient, auth: Auth,
) -> None:
    service = new_service(registry, auth, new_organisation(registry, auth))
    r = registry.put(f"/directory/services/{service['id']}/capacity", headers=auth("dora"),
                     json={"available": -73519})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["body.available"]
    assert "-73519" not in r.text
    r = registry.put(f"/directory/services/{service['id']}/capacity", headers=auth("dora"),
                     json={"available": 40, "maximum": 12})
    assert r.status_code == 422 and "exceed" in r.json()["detail"]


def test_an_unknown_service_kind_is_a_clear_422_that_does_not_echo_it(
    registry: TestClient, auth: Auth,
) -> None:
    org = new_organisation(registry, auth)
    r = registry.post("/directory/services", headers=auth("dora"),
                      json=shelter_body(org, kind="karaoke-with-Mariam"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.kind"]
    assert "Mariam" not in r.text
    r = registry.get("/directory/services", headers=auth("ana"), params={"kind": "karaoke"})
    assert r.status_code == 422


def test_a_service_of_an_unknown_organisation_is_404(registry: TestClient, auth: Auth) -> None:
    r = registry.post("/directory/services", headers=auth("dora"),
                      json=shelter_body(str(uuid4())))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")

"""HSDS 3.0 export and import over REST: valid against the official schema, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from registry_hsds_schema import page_errors, require_hsds_schemas
from test_registry_directory_api import new_organisation, new_service

pytestmark = pytest.mark.infra
Auth = Callable[[str], dict[str, str]]


def without_timestamps(page: dict[str, Any]) -> dict[str, Any]:
    # An import is a change of the importing directory, so it has its own modification times.
    copy = json.loads(json.dumps(page))
    for service in copy["contents"]:
        service.pop("last_modified")
        for capacity in service.get("capacities", []):
            capacity.pop("updated")
    return copy


def test_a_provider_export_validates_and_round_trips_through_hsds_import(
    registry: TestClient, empty_registry: TestClient, auth: Auth,
) -> None:
    require_hsds_schemas()
    org = new_organisation(registry, auth)
    new_service(registry, auth, org)
    new_service(registry, auth, org, kind="legal_aid", name="Legal clinic", capacity=None,
                eligibility={"minimum_age": 18}, locations=[], opening_hours=[])
    exported = registry.get("/directory/hsds/services", headers=auth("ana"),
                            params={"organisation_id": org})
    assert exported.status_code == 200
    page = exported.json()
    assert page["total_items"] == 2
    assert page_errors(page) == []

    r = empty_registry.post("/directory/hsds/import", headers=auth("dora"),
                            content=json.dumps(page).encode())
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "withdrawn": 0, "unchanged": 0}
    again = empty_registry.get("/directory/hsds/services", headers=auth("ana"),
                               params={"organisation_id": org}).json()
    assert without_timestamps(again) == without_timestamps(page)
    assert page_errors(again) == []
    kinds = {s["kind"] for s in empty_registry.get(
        "/directory/services", headers=auth("ana")).json()}
    assert kinds == {"shelter", "legal_aid"}


def test_a_malformed_hsds_file_names_record_and_field_and_imports_nothing(
    registry: TestClient, empty_registry: TestClient, auth: Auth,
) -> None:
    org = new_organisation(registry, auth)
    new_service(registry, auth, org)
    new_service(registry, auth, org)
    page = registry.get("/directory/hsds/services", headers=auth("dora"),
                        params={"organisation_id": org}).json()
    page["contents"][1]["capacities"][0]["available"] = -5
    page["contents"][0]["attributes"][0]["taxonomy_term"]["code"] = "tattoos-for-Selam"
    r = empty_registry.post("/directory/hsds/import", headers=auth("dora"),
                            content=json.dumps(page, indent=2).encode())
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert "Nothing was imported" in problem["detail"]
    where = {(e["record"], e["field"]) for e in problem["errors"]}
    assert where == {(0, "attributes.0.taxonomy_term.code"), (1, "capacities.0.available")}
    assert all(isinstance(e["line"], int) and e["line"] > 1 for e in problem["errors"])
    assert "Selam" not in r.text
    assert empty_registry.get("/directory/services", headers=auth("dora")).json() == []
    assert empty_registry.get("/directory/organisations", headers=auth("dora")).json() == []


def test_an_hsds_file_with_broken_json_names_the_line(
    empty_registry: TestClient, auth: Auth,
) -> None:
    raw = b'{\n  "contents": [\n    {"id": "a",,}\n  ]\n}\n'
    r = empty_registry.post("/directory/hsds/import", headers=auth("dora"), content=raw)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["line"] == 3
    assert "line 3" in r.json()["detail"]
